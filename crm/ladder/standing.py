"""A company's standing on a date, derived from its dated certifications (DOMAIN §1)."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import and_, event, func
from sqlalchemy.orm import Session

from crm.clock import local
from crm.i18n import N_
from crm.ladder.validity import hnte_last_valid_day
from crm.models.certification import GAZELLE, HNTE, REVOKED, TECH_SME, Certification
from crm.normalize import InvalidValue
from crm.settings import get_setting

RUNGS = ("gazelle", "hnte", "tech_sme", "incubating", "none")
RUNG_LABELS = {
    "gazelle": N_("瞪羚企业"), "hnte": N_("高新技术企业"), "tech_sme": N_("科技型中小企业"), "incubating": N_("培育中"),
    "none": N_("无资质"),
}
KIND_LABELS = {TECH_SME: N_("科技型中小企业"), HNTE: N_("高新技术企业"), GAZELLE: N_("瞪羚企业")}


class CertLike(Protocol):
    kind: str
    status: str
    number: str
    year: int | None
    valid_from: date
    valid_until: date


def validity_window(
    kind: str, year: int | None, issued_on: date | None, expires_on: date | None, gazelle_years: int = 3
) -> tuple[date, date]:
    """First and last day a certification is in force.

    高企: three years from the date of issue (2020-12-03 → through 2023-12-02); a stated expiry wins (§3.2).
    科小: the whole calendar year it is registered for, lapsing on 31 December (§1, §2.4), whatever day in
    the year it was issued and whatever expiry was typed; when it was issued matters only to counting (§5,
    `issued_by`).
    瞪羚: its recognition year and the following years up to `gazelle_years` in all (§4, configurable); a stated
    expiry wins.
    """
    if kind == HNTE:
        return issued_on, hnte_last_valid_day(issued_on, expires_on)
    if year is None:
        raise ValueError("科小和瞪羚需要年度")
    if kind == TECH_SME:
        return date(year, 1, 1), date(year, 12, 31)
    return date(year, 1, 1), expires_on or date(year + gazelle_years - 1, 12, 31)


def certification_problems(kind: str, year: int | None, issued_on: date | None, expires_on: date | None,
                           founded_on: date | None = None) -> dict[str, InvalidValue]:
    """Dates a certification cannot have, by field (the certification form and the import alike)."""
    problems = {}
    if issued_on and founded_on and issued_on < founded_on:
        problems["issued_on"] = InvalidValue(N_("发证日期不能早于企业成立日期（%(d)s）"), d=founded_on.isoformat())
    if expires_on and issued_on and expires_on < issued_on:
        problems["expires_on"] = InvalidValue(N_("有效期至不能早于发证日期（%(d)s）"), d=issued_on.isoformat())
    elif kind == TECH_SME and expires_on and year and expires_on != date(year, 12, 31):
        problems["expires_on"] = InvalidValue(N_("科技型中小企业入库登记当年有效，至 %(d)s 止：有效期至请留空"),
                                              d=date(year, 12, 31).isoformat())
    return problems


def issued_by(on: Any) -> Any:
    """SQL condition on Certification: issued on or before `on`; without an issue date, a 科小 registration
    or 瞪羚 recognition counts from 1 January of its year (§5), which is where its window starts."""
    return func.coalesce(Certification.issued_on, Certification.valid_from) <= on


def in_force_on(cert: CertLike, on: date) -> bool:
    return cert.status != REVOKED and cert.valid_from <= on <= cert.valid_until


def in_force_clause(on: date, kind: str | None = None) -> Any:
    """The same test as in_force_on(), as a SQL condition on Certification."""
    clause = and_(Certification.status != REVOKED, Certification.valid_from <= on, Certification.valid_until >= on)
    return and_(Certification.kind == kind, clause) if kind else clause


@dataclass(frozen=True)
class Standing:
    rung: str
    certification: Any = None  # the certification that gives the rung, if any

    @property
    def label(self) -> str:
        return RUNG_LABELS[self.rung]

    @property
    def reason(self) -> str:
        """Why the company stands here, in the reader's language (worked out only when shown)."""
        cert = self.certification
        if cert is not None:
            return _("%(kind)s，%(ident)s 有效期至 %(d)s", kind=_(KIND_LABELS[cert.kind]),
                     ident=cert.number or _("%(y)s年", y=cert.year), d=cert.valid_until.isoformat())
        return _("在培育库中，尚未取得资质") if self.rung == "incubating" else _("无有效资质")


def cultivates_on(pool_year: int, made_at: datetime, on: date) -> bool:
    """A cultivation pool targets a rung in its year (§1): its members are 培育中 through that year, and from the
    day it is made when made ahead (the 2027 高企培育库 built in November 2026); a pool of a year gone no longer.
    (`made_at` is the pool's created_at, UTC; the day it is made is the bureau's.)"""
    return pool_year == on.year or (pool_year > on.year and local(made_at).date() <= on)


def standing_on(certs: Iterable[CertLike], on: date, pooled: bool = False) -> Standing:
    """The highest rung held on `on`: gazelle > hnte > tech_sme > incubating > none."""
    held = {c.kind: c for c in sorted(certs, key=lambda c: c.valid_until) if in_force_on(c, on)}
    for kind in (GAZELLE, HNTE, TECH_SME):
        if kind in held:
            return Standing(kind, held[kind])
    return Standing("incubating" if pooled else "none")


@event.listens_for(Session, "before_flush")
def _derive_windows(session: Session, _ctx, _instances) -> None:
    """Keep valid_from/valid_until true to the rule whatever path wrote the certification."""
    certs = [o for o in (*session.new, *session.dirty) if isinstance(o, Certification)]
    if not certs:
        return
    with session.no_autoflush:
        gazelle_years = int(get_setting("gazelle")["validity_years"])
    for cert in certs:
        cert.valid_from, cert.valid_until = validity_window(
            cert.kind, cert.year, cert.issued_on, cert.expires_on, gazelle_years
        )
