"""Rounds (申报批次) and applications (申报) moving through their stages (DOMAIN §1).

Plain functions over the models, shared by the board, the company page, the CLI and the demo. Nothing
here reads the request: callers say who acts and when. Writes flush; the caller commits.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only, raiseload, selectinload

from crm.access import area_ids, company_scope
from crm.companies.service import claim_company
from crm.extensions import db
from crm.i18n import N_
from crm.ladder.standing import KIND_LABELS, in_force_on
from crm.models import Application, ApplicationMove, Certification, Company, Round, User
from crm.models.certification import HNTE, KINDS, REVOKED, TECH_SME
from crm.models.ladder import CLOSED_STAGES, OPEN_STAGES, STAGES
from crm.normalize import halfwidth_alnum, normalize_code, to_halfwidth

STAGE_LABELS = {
    "intent": N_("意向"), "coaching": N_("辅导"), "preparing": N_("材料准备"), "submitted": N_("已提交"),
    "publicised": N_("公示"), "approved": N_("通过"), "rejected": N_("未通过"), "withdrawn": N_("放弃"),
}
# The allowed stage changes, in one place: forward along the path (skipping is allowed), back one step,
# to withdrawn from any open stage; a result (approved / rejected) only once submitted; closed stages are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "intent": ("coaching", "preparing", "submitted", "withdrawn"),
    "coaching": ("preparing", "submitted", "intent", "withdrawn"),
    "preparing": ("submitted", "coaching", "withdrawn"),
    "submitted": ("publicised", "approved", "rejected", "preparing", "withdrawn"),
    "publicised": ("approved", "rejected", "submitted", "withdrawn"),
    "approved": (),
    "rejected": (),
    "withdrawn": (),
}
NEEDS_REASON = ("rejected", "withdrawn")
COLUMN_CAP = 50  # cards per board column, as many as one can scan; the rest are one "more" link away


class RoundError(ValueError):
    """A round that cannot be saved; str() is the reason, in the reader's language."""


class ApplicationError(ValueError):
    """An application that cannot be opened or moved; str() is the reason, in the reader's language."""


class StaleMove(ApplicationError):
    """Someone else moved the application since the page was loaded."""


# ---- rounds -------------------------------------------------------------------------------------------

def round_problems(kind: str, year: int | None, name: str, opens_on: date | None, closes_on: date | None) -> dict[str, str]:
    """Every problem with a round's values, by field (empty when it may be saved)."""
    problems = {}
    if kind not in KINDS:
        problems["kind"] = _("资质类型必须是 %(kinds)s 之一", kinds="、".join(KINDS))
    if year is None or not 2000 <= year <= 2100:
        problems["year"] = _("年度应在 2000 至 2100 之间")
    if not (name or "").strip():
        problems["name"] = _("请填写批次名称")
    elif len(name.strip()) > 120:
        problems["name"] = _("批次名称不能超过 120 字")
    if opens_on is None:
        problems["opens_on"] = _("请填写开始日期")
    if closes_on is None:
        problems["closes_on"] = _("请填写截止日期")
    elif opens_on is not None and closes_on < opens_on:
        problems["closes_on"] = _("截止日期 %(closes)s 早于开始日期 %(opens)s", closes=closes_on.isoformat(),
                                         opens=opens_on.isoformat())
    return problems


def save_round(round_: Round, kind: str, year: int | None, name: str, opens_on: date | None, closes_on: date | None) -> Round:
    """Create (a new Round()) or update a round; RoundError with the first problem otherwise.

    A round with applications keeps its kind and year: approvals already recorded certifications of them.
    """
    problems = round_problems(kind, year, name, opens_on, closes_on)
    if problems:
        raise RoundError(next(iter(problems.values())))
    if round_.id is not None and (kind, year) != (round_.kind, round_.year) and db.session.scalar(
        select(func.count()).select_from(Application).where(Application.round_id == round_.id)
    ):
        raise RoundError(_("该批次已有申报，不能修改资质类型或年度"))
    name = " ".join(halfwidth_alnum(name).split())  # ２０２５年 as 2025年; the brackets as typed
    twin = RoundError(_("%(year)s 年已有同类型的批次“%(name)s”", year=year, name=name))
    same_kind_and_year = db.session.scalars(select(Round.name).where(Round.kind == kind, Round.year == year,
                                                                     Round.id != (round_.id or 0)))
    if any(to_halfwidth(other) == to_halfwidth(name) for other in same_kind_and_year):  # （第一批） is (第一批)
        raise twin
    round_.kind, round_.year, round_.name = kind, year, name
    round_.opens_on, round_.closes_on = opens_on, closes_on
    db.session.add(round_)
    try:
        db.session.flush()
    except IntegrityError:  # the same round saved by another admin between the check and this write
        db.session.rollback()
        raise twin from None
    return round_


def round_status(round_: Round, on: date) -> str:
    """upcoming | open | closed (the submission window, not the review that follows it)."""
    if on < round_.opens_on:
        return "upcoming"
    return "open" if on <= round_.closes_on else "closed"


def rounds_query() -> Select:
    return select(Round).order_by(Round.year.desc(), Round.opens_on.desc(), Round.id.desc())


def stage_counts(user: User, round_ids: list[int]) -> dict[int, dict[str, int]]:
    """Applications per round and stage, counting only companies the user may see (one query)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if round_ids:
        rows = db.session.execute(
            select(Application.round_id, Application.stage, func.count())
            .join(Company, Company.id == Application.company_id)
            .where(Application.round_id.in_(round_ids), company_scope(user))
            .group_by(Application.round_id, Application.stage)
        )
        for round_id, stage, n in rows:
            counts[round_id][stage] = n
    return counts


# ---- applications -------------------------------------------------------------------------------------

def holds_through(certs, kind: str, year: int) -> bool:
    """Whether the company already holds `kind` through `year` (DOMAIN §9): in force on 31 December.

    A 高企 whose certificate expires during the year may apply again; a 科小 registered for the year may not.
    """
    return any(c.kind == kind and in_force_on(c, date(year, 12, 31)) for c in certs)


def claimed_certifications(company_id: int) -> list[Certification]:
    """The company's certifications as committed, once this request holds the company (claim_company): two
    requests opening or approving applications of one company at once see each other's certification."""
    claim_company(company_id)
    return list(db.session.scalars(select(Certification).where(Certification.company_id == company_id)
                                   .execution_options(populate_existing=True)))


def certification_barrier(certs, round_: Round) -> str | None:
    """Why the company's certifications keep it out of the round, or None.

    It already holds the kind through the round's year (DOMAIN §9), or its 科小 registration for that year
    was revoked: a revoked registration cannot be applied for again in the same year (DOMAIN §2.4).
    """
    if holds_through(certs, round_.kind, round_.year):
        return _("该企业已持有 %(year)s 年有效的%(kind)s资质，无需申报", year=round_.year, kind=_(KIND_LABELS[round_.kind]))
    if round_.kind == TECH_SME and any(
        c.kind == TECH_SME and c.year == round_.year and c.status == REVOKED for c in certs
    ):
        return _("该企业 %(year)s 年的科技型中小企业登记已被撤销，当年不能再申报", year=round_.year)
    return None


def open_application(company: Company, round_: Round, *, by: User | None, now: datetime, on: date) -> Application:
    """Open an application at 意向 for `company` in `round_`: one open application per company, kind and year,
    and none for a company that already holds the kind through the year."""
    if round_status(round_, on) == "closed":
        raise ApplicationError(_("“%(round)s”已于 %(d)s 截止，不能再新建申报", round=round_.name,
                                   d=round_.closes_on.isoformat()))
    barrier = certification_barrier(claimed_certifications(company.id), round_)  # as committed, now we hold it
    if barrier:
        raise ApplicationError(barrier)
    duplicate = _("“%(company)s”在“%(round)s”中已有进行中的申报，不能重复新建", company=company.name, round=round_.name)
    elsewhere = _open_round(company.id, round_)
    if elsewhere is not None:
        raise ApplicationError(duplicate if elsewhere.id == round_.id else _(
            "“%(company)s”已在“%(round)s”中申报%(year)s年%(kind)s，请先在该批次结束申报再新建", company=company.name,
            round=elsewhere.name, year=round_.year, kind=_(KIND_LABELS[round_.kind])))
    officer_id = _company_officer(company.id) or (by.id if by is not None and by.role == "officer" else None)
    application = Application(company_id=company.id, round_id=round_.id, officer_id=officer_id, stage="intent",
                              stage_since=now, created_at=now, created_by_id=by.id if by else None)
    application.moves.append(ApplicationMove(from_stage=None, to_stage="intent", moved_at=now,
                                             moved_by_id=by.id if by else None))
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request opened one first (partial unique index)
        db.session.rollback()
        raise ApplicationError(duplicate) from None
    return application


def move_application(
    application: Application, to: str, *, by: User | None, now: datetime, on: date, reason: str = "",
    number: str = "", issued_on: date | None = None, expected_from: str | None = None,
) -> ApplicationMove:
    """Move an application to stage `to`, keeping who, when, from, to and the seconds spent in the stage left.

    通过 records the certification: 高企 needs the certificate number and issue date; 科小 and 瞪羚 take the
    round's year. 未通过 and 放弃 need a reason. `expected_from` refuses a move based on a stale page.
    """
    current = application.stage
    if expected_from and expected_from != current:
        raise _stale(current)
    if to not in STAGES:
        raise ApplicationError(_("未知的阶段：%(stage)s", stage=to))
    if to not in TRANSITIONS[current]:
        if not TRANSITIONS[current]:
            raise ApplicationError(_("申报已%(stage)s，阶段不能再变更", stage=_(STAGE_LABELS[current])))
        raise ApplicationError(_("不能从“%(here)s”直接移到“%(there)s”", here=_(STAGE_LABELS[current]),
                                 there=_(STAGE_LABELS[to])))
    reason, number = (reason or "").strip(), normalize_code(number)
    if to in NEEDS_REASON and not reason:
        raise ApplicationError(_("移到“%(stage)s”需要填写原因", stage=_(STAGE_LABELS[to])))
    if to == "approved":
        _check_certificate(application.round, number, issued_on, on)
    _claim_stage(application, current, to, now)
    note = reason
    if to == "approved":
        application.certification_id = _record_certification(application, number, issued_on, now).id
        note = f"证书编号 {number}" if number else ""
    if to in NEEDS_REASON:
        application.reason = reason
    return _moved(application, to, by, now, note)


def reopen_application(application: Application, *, by: User, now: datetime) -> ApplicationMove:
    """Take back a result recorded by mistake (an admin's correction): a closed application returns to the stage it
    left, and the certification its 通过 recorded is deleted — not revoked, which would bar a 科小 for the rest of
    the year (§2.4). The correction is kept among the moves, the certification's deletion in the audit trail."""
    current = application.stage
    if current not in CLOSED_STAGES:
        raise ApplicationError(_("只有已通过、未通过或放弃的申报可以撤回结果"))
    round_ = application.round
    certs = claimed_certifications(application.company_id)  # as committed, once we hold the company
    recorded = next((c for c in certs if c.id == application.certification_id), None)
    if recorded is not None and recorded.status == REVOKED:  # a real revocation since: it stands (§2.4)
        raise ApplicationError(_("这次通过登记的资质已被撤销，不能再撤回通过结果"))
    barrier = certification_barrier([c for c in certs if c is not recorded], round_)
    if barrier:  # e.g. approved in another round of the year since
        raise ApplicationError(barrier)
    elsewhere = _open_round(application.company_id, round_)
    if elsewhere is not None:
        raise ApplicationError(_("该企业已在“%(round)s”中有进行中的%(year)s年%(kind)s申报，不能撤回此结果",
                                 round=elsewhere.name, year=round_.year, kind=_(KIND_LABELS[round_.kind])))
    entered = max((m for m in application.moves if m.to_stage == current), key=lambda m: (m.moved_at, m.id or 0),
                  default=None)
    back = entered.from_stage if entered is not None and entered.from_stage in OPEN_STAGES else "submitted"
    _claim_stage(application, current, back, now)
    if recorded is not None:
        db.session.delete(recorded)
        application.certification_id = None
    application.reason = ""
    application.officer_id = _company_officer(application.company_id)  # open again: the officer responsible now
    # the note in the record's language, as the other notes
    return _moved(application, back, by, now, f"更正：撤回“{STAGE_LABELS[current]}”结果")


def _claim_stage(application: Application, current: str, to: str, now: datetime) -> None:
    """Claim the move in the database: of two requests moving the application at once, the second waits for the
    first's row lock and then finds the stage changed, so a move (and a certification) is never made twice."""
    claimed = db.session.execute(
        update(Application).where(Application.id == application.id, Application.stage == current)
        .values(stage=to, stage_since=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise _stale(db.session.scalar(select(Application.stage).where(Application.id == application.id)))


def _moved(application: Application, to: str, by: User | None, now: datetime, note: str) -> ApplicationMove:
    """Keep the move — who, when, from, to, and the seconds spent in the stage left — and the new stage."""
    move = ApplicationMove(
        from_stage=application.stage, to_stage=to, moved_at=now, moved_by_id=by.id if by else None, note=note[:500],
        seconds_in_previous=max(0, int((now - application.stage_since).total_seconds())),
    )
    application.moves.append(move)
    application.stage, application.stage_since = to, now
    db.session.flush()
    return move


def _open_round(company_id: int, round_: Round) -> Round | None:
    """The round of the company's open application of the round's kind and year, whichever round (批次) it is."""
    return db.session.scalar(
        select(Round).join(Application, Application.round_id == Round.id)
        .where(Application.company_id == company_id, Application.stage.in_(OPEN_STAGES),
               Round.kind == round_.kind, Round.year == round_.year))


def _company_officer(company_id: int) -> int | None:
    """The company's officer as committed (read after claiming the company: a handover may just have ended)."""
    return db.session.scalar(select(Company.officer_id).where(Company.id == company_id))


def _stale(stage: str) -> StaleMove:
    return StaleMove(_("该申报已被移动到“%(stage)s”，请刷新后再试", stage=_(STAGE_LABELS[stage])))


def _check_certificate(round_: Round, number: str, issued_on: date | None, on: date) -> None:
    """What 通过 needs before anything is written: a 高企's number and issue date, a date in the round's year."""
    if issued_on is not None and issued_on > on:
        raise ApplicationError(_("发证日期不能晚于今天"))
    if round_.kind == HNTE and (not number or issued_on is None):
        raise ApplicationError(_("高新技术企业通过认定需填写证书编号和发证日期"))
    if issued_on is not None and issued_on.year != round_.year:
        raise ApplicationError(_("%(kind)s的发证日期应在 %(year)s 年内", kind=_(KIND_LABELS[round_.kind]), year=round_.year))
    if len(number) > 60:
        raise ApplicationError(_("编号不能超过 60 字"))


def _record_certification(application: Application, number: str, issued_on: date | None,
                          now: datetime) -> Certification:
    round_ = application.round
    # e.g. approved already in another round of the year, or recorded by an import meanwhile
    barrier = certification_barrier(claimed_certifications(application.company_id), round_)
    if barrier:
        raise ApplicationError(barrier)
    cert = Certification(
        company_id=application.company_id, kind=round_.kind, number=number, issued_on=issued_on,
        year=None if round_.kind == HNTE else round_.year, source="application", created_at=now,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def rounds_taking_applications(kind: str, year: int, on: date) -> list[Round]:
    """The rounds of `kind` for `year` in which an application may still be opened on `on`."""
    return list(db.session.scalars(OPEN_ROUNDS.where(Round.kind == kind, Round.year == year), {"on": on}))


def round_closing_next(on: date) -> Round | None:
    """Of all rounds still taking applications on `on`, the one that closes first."""
    return db.session.scalar(OPEN_ROUNDS.limit(1), {"on": on})


def applying_among(company_ids: list[int], kind: str, year: int) -> set[int]:
    """Those of the companies with an open application for `kind` in a round of `year` (one query)."""
    if not company_ids:
        return set()
    return set(db.session.scalars(
        select(Application.company_id).join(Round, Round.id == Application.round_id)
        .where(Application.company_id.in_(company_ids), Application.stage.in_(OPEN_STAGES),
               Round.kind == kind, Round.year == year)))


def days_in_stage(application: Application, now: datetime) -> int:
    return max(0, (now - application.stage_since).days)


# Built once, run with parameters: SQLAlchemy would build and hash it again on every page view.
COMPANY_APPLICATIONS = (
    select(Application).where(Application.company_id == bindparam("company_id"))
    .options(joinedload(Application.round), joinedload(Application.officer),
             selectinload(Application.moves).joinedload(ApplicationMove.moved_by))
    .order_by(Application.created_at.desc(), Application.id.desc())
)
OPEN_ROUNDS = select(Round).where(Round.closes_on >= bindparam("on")).order_by(Round.closes_on, Round.id)


def company_applications(company_id: int) -> list[Application]:
    """A company's applications, newest first, with rounds, officers and move history (three queries)."""
    return list(db.session.scalars(COMPANY_APPLICATIONS, {"company_id": company_id}))


def rounds_open_to(company: Company, applications: list[Application], on: date) -> list[Round]:
    """Rounds still open for submissions in which the company could open an application now."""
    busy = {(a.round.kind, a.round.year) for a in applications if a.stage in OPEN_STAGES}
    rounds = db.session.scalars(OPEN_ROUNDS, {"on": on})
    return [r for r in rounds
            if (r.kind, r.year) not in busy and certification_barrier(company.certifications, r) is None]


# ---- the board ----------------------------------------------------------------------------------------

@dataclass
class BoardFilter:
    area_id: int | None = None
    officer_id: int | None = None  # 0 = no officer


class Card(NamedTuple):
    """What a board card shows of an application, as plain values: a board shows hundreds."""

    id: int
    stage: str
    stage_since: datetime
    reason: str
    company_id: int
    company_name: str
    officer_label: str | None


# The company's name and the officer's label are looked up row by row (by primary key) for the few cards
# shown: joined, the planner cannot tell how few rows survive the column cap and scans every company.
CARD_COLUMNS = (Application.id, Application.stage, Application.stage_since, Application.reason,
                Application.company_id,
                select(Company.name).where(Company.id == Application.company_id).scalar_subquery(),
                select(User.label).where(User.id == Application.officer_id).scalar_subquery())


def card_of(application: Application) -> Card:
    """The card of an application already loaded (a column's full page, the reply to a move)."""
    return Card(application.id, application.stage, application.stage_since, application.reason,
                application.company_id, application.company.name,
                application.officer.label if application.officer else None)


@dataclass
class Column:
    stage: str
    count: int = 0
    cards: list[Card] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def _scoped(user: User, round_id: int, f: BoardFilter) -> list[Any]:
    """The round's applications the user may see, filtered; their companies are looked up only when the
    user's areas or the area filter need them (an admin's board reads the applications alone)."""
    conditions = [Application.round_id == round_id]
    if f.officer_id is not None:
        conditions.append(Application.officer_id.is_(None) if f.officer_id == 0
                          else Application.officer_id == f.officer_id)
    companies = [] if area_ids(user) is None else [company_scope(user)]
    if f.area_id:
        companies.append(or_(Company.district_id == f.area_id, Company.park_id == f.area_id))
    if companies:
        conditions.append(Application.company_id.in_(select(Company.id).where(*companies)))
    return conditions


def _column_order() -> tuple[Any, Any]:
    """Open columns: longest waiting first; closed columns: most recent first."""
    closed = Application.stage.in_(CLOSED_STAGES)
    return (case((closed, None), else_=Application.stage_since).asc(),
            case((closed, Application.stage_since), else_=None).desc())


def _card_options() -> list[Any]:
    """What a card shows: the company's name (not the district, park and officer a Company joins by default;
    anything else a card reads raises rather than costing a query per card) and the application's officer."""
    return [joinedload(Application.company).options(load_only(Company.name), raiseload("*")),
            joinedload(Application.officer)]


def board_columns(user: User, round_id: int, f: BoardFilter, cap: int | None = None) -> list[Column]:
    """The round's kanban columns as the user may see them: two queries whatever the number of cards."""
    cap = cap or COLUMN_CAP
    columns = {stage: Column(stage) for stage in STAGES}
    scoped = _scoped(user, round_id, f)
    for stage, n in db.session.execute(
        select(Application.stage, func.count()).where(*scoped).group_by(Application.stage)
    ):
        columns[stage].count = n
    rank = func.row_number().over(partition_by=Application.stage, order_by=(*_column_order(), Application.id))
    ranked = select(Application.id, rank.label("rank")).where(*scoped).subquery()
    cards = db.session.execute(
        select(*CARD_COLUMNS).join(ranked, ranked.c.id == Application.id)
        .where(ranked.c.rank <= cap).order_by(ranked.c.rank)
    ).tuples()
    for row in cards:
        card = Card(*row)
        columns[card.stage].cards.append(card)
    return list(columns.values())


def stage_query(user: User, round_id: int, stage: str, f: BoardFilter) -> Select:
    """One column in full, for paging past the board's cap."""
    return (select(Application).where(*_scoped(user, round_id, f), Application.stage == stage)
            .options(*_card_options()).order_by(*_column_order(), Application.id))


def board_officers(round_id: int, user: User) -> list[User]:
    """Officers holding applications in the round for companies the user may see, for the filter."""
    held = (select(Application.officer_id).join(Company, Company.id == Application.company_id)
            .where(Application.round_id == round_id, company_scope(user)))
    return list(db.session.scalars(select(User).where(User.id.in_(held)).order_by(User.username)))


def application_in_scope(user: User, application_id: int) -> Application | None:
    """The application when its company is one the user may see (None otherwise: a 404, never a hint)."""
    return db.session.scalar(
        select(Application).join(Company, Company.id == Application.company_id)
        .where(Application.id == application_id, company_scope(user))
        .options(joinedload(Application.company), joinedload(Application.officer), joinedload(Application.round))
    )


def allowed_moves(application: Application) -> tuple[str, ...]:
    return TRANSITIONS[application.stage]
