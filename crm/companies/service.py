"""Company register: queries and writes shared by the web pages, the CLI and the importer."""
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from crm.access import company_scope
from crm.audit import current_actor
from crm.clock import utcnow
from crm.extensions import db, ids_in
from crm.ladder.queries import standing_clause
from crm.ladder.standing import RUNGS
from crm.i18n import N_
from crm.locks import hold
from crm.models import Application, AuditLog, Certification, Company, FollowUp, FollowUpEvent, User
from crm.models.certification import REVOKED
from crm.models.ladder import OPEN_STAGES
from crm.normalize import InvalidValue, normalize_uscc, to_halfwidth, url_int, validate_uscc

SORTS = {
    "name": Company.name_sort, "uscc": Company.uscc, "district": Company.district_id,
    "founded": Company.founded_on, "updated": Company.updated_at.desc(),
}


class EditConflict(Exception):
    """Someone else saved the company after this form was loaded."""

    def __init__(self, latest: AuditLog | None):
        super().__init__("conflict")
        self.latest = latest


@dataclass
class CompanyFilter:
    q: str = ""
    district_id: int | None = None
    park_id: int | None = None
    standing: str = ""
    officer_id: int | None = None  # 0 = no officer
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "CompanyFilter":
        """The filter as the list page's query string gives it (the export form repeats those fields)."""
        standing = args.get("standing", "")
        return cls(q=args.get("q", "").strip()[:100], district_id=url_int(args.get("district")),
                   park_id=url_int(args.get("park")), standing=standing if standing in RUNGS else "",
                   officer_id=url_int(args.get("officer")),
                   sort=args.get("sort", "name"))


def company_query(user: User, f: CompanyFilter, on: date) -> Select:
    """The company list as the user may see it, filtered and sorted."""
    stmt = select(Company).where(company_scope(user))
    if f.q:
        text = f.q.strip()
        code = normalize_uscc(text)
        names = {text, to_halfwidth(text)}  # ３Ｄ打印 typed on a phone finds 达州3D打印科技 (DOMAIN §7)
        stmt = stmt.where(or_(*(Company.name.contains(n, autoescape=True) for n in sorted(names)),
                              Company.uscc.contains(code, autoescape=True)))  # the last digits on a licence too
    if f.district_id:
        stmt = stmt.where(Company.district_id == f.district_id)
    if f.park_id:
        stmt = stmt.where(Company.park_id == f.park_id)
    if f.officer_id is not None:
        stmt = stmt.where(Company.officer_id.is_(None) if f.officer_id == 0 else Company.officer_id == f.officer_id)
    if f.standing:
        stmt = stmt.where(standing_clause(f.standing, on))
    return stmt.order_by(SORTS.get(f.sort, Company.name_sort), Company.id)


def check_uscc(raw: str, *, allow_bad_check: bool, exclude_id: int | None = None) -> tuple[str, bool]:
    """Normalised code and whether its check character was waived; raises InvalidValue with the reason."""
    try:
        code = validate_uscc(raw)
        waived = False
    except InvalidValue:
        if not allow_bad_check:
            raise
        code = validate_uscc(raw, allow_bad_check=True)
        waived = True
    existing = db.session.scalar(select(Company.id).where(Company.uscc == code))
    if existing is not None and existing != exclude_id:
        raise InvalidValue(_("统一社会信用代码 %(code)s 已被其他企业使用", code=code))  # as save_company says
    return code, waived


def save_company(company: Company, values: dict[str, Any], loaded_version: int | None) -> Company:
    """Apply `values` and commit; refuses with EditConflict if the company changed since it was loaded, and with
    InvalidValue if its code was registered meanwhile."""
    if company.id is not None and loaded_version is not None and loaded_version != company.version:
        raise EditConflict(latest_change(company.id))
    handed_over = company.id is not None and values.get("officer_id", company.officer_id) != company.officer_id
    previous = {company.id: company.officer_id}
    for key, value in values.items():
        setattr(company, key, value)
    if company.id is None:
        db.session.add(company)
    try:
        if handed_over:
            hand_over(previous)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise EditConflict(latest_change(company.id)) from None
    except IntegrityError:
        db.session.rollback()
        if db.session.scalar(select(Company.id).where(Company.uscc == values["uscc"], Company.id != (company.id or 0))):
            # the same code registered by someone else between our check and this commit
            raise InvalidValue(_("统一社会信用代码 %(code)s 已被其他企业使用", code=values["uscc"])) from None
        raise
    return company


def hand_over(previous: Mapping[int, int | None]) -> None:
    """After companies changed officer (company id → the officer before): their open applications go to the new
    officer (the board, its officer filter and the round-deadline reminders follow who is responsible now), and so
    do the open follow-ups the officer before owned — a colleague's stay theirs; closed work keeps its officer.
    Each follow-up handed over keeps the change in its history."""
    ids = list(previous)
    db.session.execute(
        update(Application).where(ids_in(Application.company_id, ids), Application.stage.in_(OPEN_STAGES))
        .values(officer_id=select(Company.officer_id).where(Company.id == Application.company_id).scalar_subquery())
        .execution_options(synchronize_session=False))
    now_with = dict(db.session.execute(select(Company.id, Company.officer_id).where(ids_in(Company.id, ids))).all())
    pairs = defaultdict(list)  # (officer before, officer now) → their companies
    for company_id, before in previous.items():
        if before is not None and now_with.get(company_id) not in (None, before):
            pairs[(before, now_with[company_id])].append(company_id)
    if not pairs:
        return
    labels = dict(db.session.execute(select(User.id, User.label).where(
        User.id.in_({u for pair in pairs for u in pair}))).all())
    by_id, _source = current_actor()
    for (before, after), company_ids in pairs.items():
        # One statement: a follow-up done or reassigned meanwhile by another request is left as it is.
        follow_ups = db.session.scalars(
            update(FollowUp).where(ids_in(FollowUp.company_id, company_ids), FollowUp.owner_id == before,
                                   FollowUp.done_at.is_(None))
            .values(owner_id=after).returning(FollowUp.id).execution_options(synchronize_session=False)).all()
        if not follow_ups:
            continue
        db.session.execute(FollowUpEvent.__table__.insert(), [
            {"follow_up_id": f, "at": utcnow(), "by_id": by_id, "field": "owner", "old": labels[before][:100],
             "new": labels[after][:100], "note": "随企业移交"} for f in follow_ups])


@dataclass(frozen=True)
class Assignment:
    assigned: int      # handed to the officer now
    already: int       # theirs before
    out_of_reach: int  # outside the officer's areas: left as they were


def assign_officer(chosen: Select, officer: User) -> Assignment:
    """Make `officer` the 包联干部 of the companies `chosen` (a SELECT of Company.id) that they may open; each change
    is audited, and each company's open applications and its officer's open follow-ups go along (hand_over)."""
    rows = db.session.execute(select(Company.id, Company.officer_id).where(
        Company.id.in_(chosen.order_by(None)), company_scope(officer))).all()
    previous = {cid: before for cid, before in rows if before != officer.id}
    reachable = len(rows)
    total = db.session.scalar(select(func.count()).select_from(chosen.order_by(None).subquery()))
    if previous:
        now = utcnow()
        db.session.execute(  # the version moves: a form open on one of them meets the change when saved
            update(Company).where(ids_in(Company.id, list(previous)))
            .values(officer_id=officer.id, version=Company.version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        user_id, source = current_actor()
        db.session.execute(AuditLog.__table__.insert(), [
            {"at": now, "user_id": user_id, "source": source, "entity": "company", "entity_id": cid, "company_id": cid,
             "action": "update", "changes": {"officer_id": [before, officer.id]}} for cid, before in previous.items()])
        hand_over(previous)
    return Assignment(len(previous), reachable - len(previous), total - reachable)


def first_issued_on(company_ids: Iterable[int]) -> dict[int, date]:
    """The earliest issue date of each company's certifications in force or lapsed (not revoked), in one query:
    a company cannot have been founded after it (the certification form and the import refuse the opposite)."""
    return dict(db.session.execute(
        select(Certification.company_id, func.min(Certification.issued_on))
        .where(ids_in(Certification.company_id, company_ids), Certification.status != REVOKED,
               Certification.issued_on.is_not(None))
        .group_by(Certification.company_id)).all())


def founding_problem(founded_on: date | None, first_issued: date | None) -> InvalidValue | None:
    if founded_on and first_issued and founded_on > first_issued:
        return InvalidValue(N_("成立日期不能晚于该企业已登记资质的发证日期（%(d)s）"), d=first_issued.isoformat())
    return None


def latest_change(company_id: int | None, entity: str = "company", entity_id: int | None = None) -> AuditLog | None:
    """The last recorded change to the company itself, or to one of its rows of `entity` (e.g. a year's figures)."""
    stmt = select(AuditLog).where(AuditLog.company_id == company_id, AuditLog.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    return db.session.scalar(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(1))


def claim_company(company_id: int) -> None:
    """Hold the company until this transaction ends, so two requests adding to it at once (a certification, an
    application) run one after the other and the second sees what the first wrote; on PostgreSQL it also waits
    for an import inserting the company's certifications or figures (crm.locks.hold)."""
    hold(select(Company.id).where(Company.id == company_id))
