"""Reminder engine: which reminders are due today (DOMAIN.md §6, with §2.4, §3.2, §3.3).

Pure functions over plain frozen dataclasses; standard library only. The caller
loads rows from the database into these dataclasses (crm.reminders.inputs) and calls
:func:`deadlines` (every due date in a period, suppressions applied: the deadlines
page) or :func:`due_items` (the reminders whose lead window contains today). The
outbox (crm.reminders.outbox) records each item once per (kind, subject, due date,
lead, recipient), expands ``recipient_id=None`` to the admins and sends one digest
per recipient; that record together with :func:`due_lead` gives the §6 behaviour:
a reminder fires on the first run inside a lead window, at most once per (kind,
subject, due date, lead), never after the due date, and when several leads passed
since the last run only the nearest one fires.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from crm.i18n import N_
from crm.ladder.validity import hnte_last_valid_day

# --- vocabulary ---------------------------------------------------------------

HNTE = "hnte"
TECH_SME = "tech_sme"
GAZELLE = "gazelle"

HNTE_EXPIRY = "hnte_expiry"
HNTE_ANNUAL_REPORT = "hnte_annual_report"
TECH_SME_RENEWAL = "tech_sme_renewal"
ROUND_DEADLINE = "round_deadline"
FOLLOW_UP_DUE = "follow_up_due"

# §6 defaults (configurable: every function takes a ``leads`` mapping). A kind
# missing from the mapping, or mapped to no leads, never fires.
DEFAULT_LEADS: Mapping[str, tuple[int, ...]] = {
    HNTE_EXPIRY: (180, 90, 30, 7),
    HNTE_ANNUAL_REPORT: (30, 14, 3),
    TECH_SME_RENEWAL: (30, 7, 1),
    ROUND_DEADLINE: (14, 7, 1),
    FOLLOW_UP_DUE: (3, 0),
}
KIND_ORDER = tuple(DEFAULT_LEADS)  # order of sections in a digest

# Application stages (§1): intent → coaching → preparing → submitted → publicised
# → approved | rejected | withdrawn.
OPEN_STAGES = frozenset({"intent", "coaching", "preparing"})
# "Submitted or later" (§6). Decision: submitted, publicised and the outcomes
# approved and rejected are reached only through submission, so they suppress.
# `withdrawn` (放弃) can be reached from any stage and leaves the company with no
# live application, so it does NOT suppress tech_sme_renewal: the registration
# will still lapse and the officer should hear about it. A withdrawn application
# is not open either, so it gets no round_deadline reminder.
SUBMITTED_OR_LATER = frozenset({"submitted", "publicised", "approved", "rejected"})

STAGE_NAMES_ZH = {
    "intent": "意向", "coaching": "辅导", "preparing": "材料准备", "submitted": "已提交",
    "publicised": "公示", "approved": "通过", "rejected": "未通过", "withdrawn": "放弃",
}


# --- inputs ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cert:
    """A certification. ``kind`` is hnte | tech_sme | gazelle; ``year`` is the
    registration year of a tech-SME registration; ``number`` is 证书编号/登记编号."""
    id: int
    company_id: int
    kind: str
    issued_on: date | None
    expires_on: date | None
    year: int | None
    revoked: bool = False
    number: str | None = None


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    id: int
    name: str
    uscc: str
    officer_id: int | None


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    kind: str
    year: int
    name: str
    closes_on: date


@dataclass(frozen=True, slots=True)
class OpenApplication:
    """Any application (open or not) with its current stage."""
    id: int
    company_id: int
    round_id: int
    officer_id: int | None
    stage: str


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    company_id: int | None
    owner_id: int | None
    title: str
    due_on: date
    done: bool


@dataclass(frozen=True, slots=True)
class AnnualReport:
    """The HNTE annual development report for fiscal year ``year`` is filed."""
    company_id: int
    year: int


@dataclass(frozen=True, slots=True)
class PoolMembership:
    company_id: int
    kind: str
    year: int


# --- output ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Due:
    """A deadline: what is due for one subject, when, and for whom."""
    kind: str
    subject_key: str
    company_id: int | None
    due_on: date
    recipient_id: int | None  # None: no officer, it falls to the admins
    message: str  # what is due, without the company's name: a catalogue message (Chinese) …
    params: tuple[tuple[str, object], ...]  # … and its values

    @property
    def text(self) -> str:
        """In plain Chinese, as e-mails and the outbox keep it (a page shows it in its reader's language)."""
        return self.message % dict(self.params)


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: str
    subject_key: str
    company_id: int | None
    due_on: date
    lead: int
    recipient_id: int | None  # None: no officer, the caller sends it to the admins
    text: str


# --- rules ----------------------------------------------------------------------

def due_lead(due: date, leads: Iterable[int], today: date) -> int | None:
    """The lead to fire today: the smallest lead whose window ``due − lead ≤ today
    ≤ due`` contains today (windows are nested, so that is the nearest one), or
    None when today is after the due date or before every window."""
    leads = tuple(leads)
    if any(lead < 0 for lead in leads):
        raise ValueError(f"lead days must be ≥ 0: {leads}")
    if today > due:
        return None
    reached = [lead for lead in leads if due - timedelta(days=lead) <= today]
    return min(reached, default=None)


def _cert_valid_on(cert: Cert, day: date) -> bool:
    start = cert.issued_on or date.min
    return not cert.revoked and start <= day <= hnte_last_valid_day(cert.issued_on, cert.expires_on)


def _later_cert(other: Cert, cert: Cert) -> bool:
    """Is ``other`` a later 高企 certificate than ``cert``?"""
    if other.issued_on is not None and cert.issued_on is not None:
        return other.issued_on > cert.issued_on
    return (hnte_last_valid_day(other.issued_on, other.expires_on)
            > hnte_last_valid_day(cert.issued_on, cert.expires_on))


def report_years(certs: Iterable[Cert], first: int, last: int) -> list[int]:
    """Fiscal years Y in [first, last] whose 高企 annual report is required: a
    certificate (not revoked) was valid on 31 December of Y (§3.3); the report
    is due on :func:`report_due` (31 May of Y+1)."""
    certs = [c for c in certs if c.kind == HNTE and (c.issued_on or c.expires_on)]
    return [y for y in range(first, last + 1) if any(_cert_valid_on(c, date(y, 12, 31)) for c in certs)]


def report_due(year: int) -> date:
    """The annual report for fiscal year ``year`` is filed by 31 May of the next year (§3.3)."""
    return date(year + 1, 5, 31)


def days_left_text(due: date, on: date) -> str:
    days = (due - on).days
    if days == 0:
        return "今天到期"
    return f"还剩 {days} 天" if days > 0 else f"已过期 {-days} 天"


def deadlines(
    start: date,
    until: date,
    companies: Iterable[CompanyInfo],
    certs: Iterable[Cert],
    rounds: Iterable[Round],
    applications: Iterable[OpenApplication],
    follow_ups: Iterable[FollowUp],
    annual_reports: Iterable[AnnualReport],
    pools: Iterable[PoolMembership],
) -> list[Due]:
    """Every deadline due in [start, until] with the §6 suppressions applied, one
    per (kind, subject). Revoked certifications are ignored throughout. Sorted by
    kind (§6 order), due date, subject."""
    officer_of = {c.id: c.officer_id for c in companies}
    live = [c for c in certs if not c.revoked]
    hnte = [c for c in live if c.kind == HNTE and (c.issued_on or c.expires_on)]
    rounds = list(rounds)
    applications = list(applications)
    out: list[Due] = []

    def add(kind, subject, cid, due, recipient, message, /, **params):
        if start <= due <= until:
            out.append(Due(kind, subject, cid, due, recipient, message, tuple(params.items())))

    # hnte_expiry: last valid day of each certificate, unless a later one is held — issued by `start` (today),
    # so a run for a past day sends what was due then.
    hnte_by_company: dict[int, list[Cert]] = {}
    for cert in hnte:
        hnte_by_company.setdefault(cert.company_id, []).append(cert)
    for cert in hnte:
        if any(_later_cert(o, cert) and (o.issued_on is None or o.issued_on <= start)
               for o in hnte_by_company[cert.company_id]):
            continue
        due = hnte_last_valid_day(cert.issued_on, cert.expires_on)
        add(HNTE_EXPIRY, f"cert:{cert.id}", cert.company_id, due, officer_of.get(cert.company_id),
            N_("高企证书 %(number)s 将于 %(due)s 到期（最后有效日），请提醒企业重新申报"),
            number=cert.number or N_("（无编号）"), due=due)

    # hnte_annual_report: 31 May of Y for companies valid on 31 Dec Y−1 (§3.3).
    filed = {(r.company_id, r.year) for r in annual_reports}
    for cid, certs_of in hnte_by_company.items():
        for year in report_years(certs_of, start.year - 1, until.year - 1):
            if (cid, year) not in filed:
                due = report_due(year)
                add(HNTE_ANNUAL_REPORT, f"company:{cid}:report:{year}", cid, due, officer_of.get(cid),
                    N_("%(year)s 年度高企发展情况报表须于 %(due)s 前填报，尚未填报"), year=year, due=due)

    # tech_sme_renewal: closes_on of each year-Y tech-SME round, for companies
    # registered for Y−1 or in a Y tech-SME pool. Suppressed when registered for Y
    # already — by `start` (today), a registration of unknown date from 1 January —
    # including a revoked Y registration, since §2.4 forbids re-applying in the same
    # year, or when its application in that round is submitted or later.
    sme_years = {(c.company_id, c.year) for c in live if c.kind == TECH_SME}
    sme_years_any = {(c.company_id, c.year) for c in certs
                     if c.kind == TECH_SME and (c.issued_on is None or c.issued_on <= start)}
    pooled = {(p.company_id, p.year) for p in pools if p.kind == TECH_SME}
    submitted = {(a.company_id, a.round_id) for a in applications if a.stage in SUBMITTED_OR_LATER}
    for rnd in (r for r in rounds if r.kind == TECH_SME):
        y = rnd.year
        targets = {cid for cid, yr in sme_years if yr == y - 1} | {cid for cid, yr in pooled if yr == y}
        for cid in sorted(targets):
            if (cid, y) in sme_years_any or (cid, rnd.id) in submitted:
                continue
            add(TECH_SME_RENEWAL, f"company:{cid}:round:{rnd.id}", cid, rnd.closes_on, officer_of.get(cid),
                N_("%(year)s 年科技型中小企业评价（%(round)s）将于 %(due)s 截止，尚未提交入库申请"),
                year=y, round=rnd.name, due=rnd.closes_on)

    # round_deadline: closes_on of the round, one item per open application, to
    # the application's officer, else the company's officer, else the admins.
    round_of = {r.id: r for r in rounds}
    for app in applications:
        rnd = round_of.get(app.round_id)
        if rnd is None or app.stage not in OPEN_STAGES:
            continue
        recipient = app.officer_id if app.officer_id is not None else officer_of.get(app.company_id)
        add(ROUND_DEADLINE, f"application:{app.id}", app.company_id, rnd.closes_on, recipient,
            N_("申报批次「%(round)s」将于 %(due)s 截止，申报仍处于「%(stage)s」阶段"),
            round=rnd.name, due=rnd.closes_on, stage=STAGE_NAMES_ZH.get(app.stage, app.stage))

    # follow_up_due: to the owner (else the company's officer), unless done.
    for fu in follow_ups:
        if not fu.done:
            owner = fu.owner_id if fu.owner_id is not None else officer_of.get(fu.company_id)
            add(FOLLOW_UP_DUE, f"follow_up:{fu.id}", fu.company_id, fu.due_on, owner,
                N_("跟进事项「%(title)s」于 %(due)s 到期"), title=fu.title, due=fu.due_on)

    return sorted(out, key=_order)


def due_items(
    today: date,
    companies: Iterable[CompanyInfo],
    certs: Iterable[Cert],
    rounds: Iterable[Round],
    applications: Iterable[OpenApplication],
    follow_ups: Iterable[FollowUp],
    annual_reports: Iterable[AnnualReport],
    pools: Iterable[PoolMembership],
    leads: Mapping[str, Iterable[int]] = DEFAULT_LEADS,
) -> list[DueItem]:
    """Every reminder whose lead window contains ``today``, suppressions applied
    (§6). One item per (kind, subject) with the lead to fire; the caller drops
    those already recorded. Sorted by kind (§6 order), due date, subject."""
    lead_of = {kind: tuple(leads.get(kind, ())) for kind in KIND_ORDER}
    until = today + timedelta(days=max((max(v, default=0) for v in lead_of.values()), default=0))
    out = []
    for due in deadlines(today, until, companies, certs, rounds, applications, follow_ups,
                         annual_reports, pools):
        lead = due_lead(due.due_on, lead_of[due.kind], today)
        if lead is not None:
            out.append(DueItem(due.kind, due.subject_key, due.company_id, due.due_on, lead,
                               due.recipient_id, due.text))
    return out


def _order(item: Due):
    rank = KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER)
    return rank, item.kind, item.due_on, item.subject_key
