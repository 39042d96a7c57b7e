"""Visits and follow-ups: the rules and queries shared by the pages, the CLI, My work and the demo."""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from crm.access import can_see, company_scope
from crm.audit import record
from crm.clock import local, utcnow
from crm.companies.service import claim_company, latest_change
from crm.extensions import db
from crm.i18n import N_
from crm.models import (Area, AuditLog, Company, FollowUp, FollowUpEvent, NeedCategory, User, Visit, visit_need,
                        visit_officer)
from crm.models.area import DISTRICT
from crm.transfer.spreadsheet import Column

KIND_LABELS = {"onsite": N_("实地走访"), "phone": N_("电话"), "meeting": N_("会议"), "online": N_("线上")}
ANY_NEED = "any"  # VisitFilter.need: visits that raised at least one need


class FollowUpError(ValueError):
    """A follow-up change that makes no sense (already done, same owner, same date)."""


# --- follow-ups -----------------------------------------------------------------------------------

def is_overdue(follow_up: FollowUp, today: date) -> bool:
    """Overdue the day after its due date, until done; on the due date itself it is not overdue."""
    return follow_up.done_at is None and follow_up.due_on < today


def overdue_clause(today: date):
    """is_overdue() as a SQL condition on FollowUp."""
    return and_(FollowUp.done_at.is_(None), FollowUp.due_on < today)


def _event(follow_up: FollowUp, by: User | None, name: str, old: str, new: str, note: str = "") -> None:
    follow_up.events.append(FollowUpEvent(by_id=by.id if by else None, field=name, old=old[:100], new=new[:100],
                                          note=note[:500]))


def complete(follow_up: FollowUp, by: User | None, note: str = "") -> None:
    if follow_up.done_at is not None:
        raise FollowUpError(_("该跟进事项已完成"))
    follow_up.done_at = utcnow()
    follow_up.done_note = note.strip()[:500]
    _event(follow_up, by, "done", "", "done", follow_up.done_note)


def _still_open(follow_up: FollowUp) -> None:
    if follow_up.done_at is not None:
        raise FollowUpError(_("该跟进事项已完成，不能再改派或调整期限"))


def reassign(follow_up: FollowUp, by: User | None, owner: User) -> None:
    _still_open(follow_up)
    if follow_up.owner_id == owner.id:
        raise FollowUpError(_("负责人没有变化"))
    old = follow_up.owner.label if follow_up.owner else ""
    follow_up.owner = owner
    _event(follow_up, by, "owner", old, owner.label)


def reschedule(follow_up: FollowUp, by: User | None, due_on: date, note: str = "") -> None:
    _still_open(follow_up)
    if follow_up.due_on == due_on:
        raise FollowUpError(_("跟进期限没有变化"))
    old = follow_up.due_on.isoformat()
    follow_up.due_on = due_on
    _event(follow_up, by, "due_on", old, due_on.isoformat(), note.strip())


def follow_up_status(follow_up: FollowUp, today: date) -> str:
    """已完成 / 逾期 / 进行中, as the ledger and the pages say it."""
    if follow_up.done_at is not None:
        return "已完成"
    return "逾期" if is_overdue(follow_up, today) else "进行中"


# --- logging a visit ------------------------------------------------------------------------------

@dataclass
class FollowUpDraft:
    title: str
    owner_id: int
    due_on: date


@dataclass
class VisitDraft:
    company_id: int
    visited_on: date
    kind: str
    officer_ids: list[int]
    company_people: str = ""
    summary: str = ""
    needs_detail: str = ""
    need_ids: list[int] = field(default_factory=list)
    follow_ups: list[FollowUpDraft] = field(default_factory=list)
    client_token: str | None = None  # the phone's draft it was typed into (drafts.js)


REPEAT_WINDOW = timedelta(minutes=10)  # the same visit sent again within this time is the same submission


def log_visit(draft: VisitDraft, by: User) -> tuple[Visit, bool]:
    """Save a visit with its needs and follow-ups in one transaction: all of it, or nothing; (the visit, whether it
    was recorded now). The same form sent again unchanged (a second tap on a slow connection, a resend after a
    timeout) is not recorded twice: the company is claimed first, so the second request waits for the first and
    then finds its visit. Anything sent differently — another follow-up added — is a visit of its own. A draft
    kept in the phone (its client_token) that became a visit is that visit whenever it is sent again."""
    # The ledger's 走访干部 is led by whoever logged it, if they took part.
    lead = by.id if by.id in draft.officer_ids else draft.officer_ids[0]
    claim_company(draft.company_id)
    sent_before = db.session.scalar(select(Visit).where(Visit.client_token == draft.client_token)) \
        if draft.client_token else None
    if sent_before is not None and sent_before.company_id == draft.company_id:
        db.session.rollback()
        return sent_before, False
    recent = db.session.scalars(select(Visit).where(
        Visit.company_id == draft.company_id, Visit.visited_on == draft.visited_on, Visit.kind == draft.kind,
        Visit.officer_id == lead, Visit.summary == draft.summary.strip(), Visit.created_at >= utcnow() - REPEAT_WINDOW))
    repeat = next((v for v in recent if _holds_all_of(v, draft)), None)
    if repeat is not None:
        db.session.rollback()
        return repeat, False
    officers = list(db.session.scalars(select(User).where(User.id.in_(draft.officer_ids))))
    visit = Visit(
        company_id=draft.company_id, visited_on=draft.visited_on, kind=draft.kind, officer_id=lead,
        company_people=draft.company_people.strip(), summary=draft.summary.strip(),
        needs_detail=draft.needs_detail.strip(), officers=officers,
        needs=list(db.session.scalars(select(NeedCategory).where(NeedCategory.id.in_(draft.need_ids)))),
        client_token=draft.client_token if sent_before is None else None,
    )
    for item in draft.follow_ups:
        visit.follow_ups.append(FollowUp(company_id=draft.company_id, title=item.title.strip(), owner_id=item.owner_id,
                                         due_on=item.due_on, created_by_id=by.id))
    db.session.add(visit)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return visit, True


def _holds_all_of(visit: Visit, draft: VisitDraft) -> bool:
    return (visit.company_people == draft.company_people.strip() and visit.needs_detail == draft.needs_detail.strip()
            and {u.id for u in visit.officers} == set(draft.officer_ids)
            and {n.id for n in visit.needs} == set(draft.need_ids)
            and sorted((f.title, f.owner_id, f.due_on) for f in visit.follow_ups)
            == sorted((f.title.strip(), f.owner_id, f.due_on) for f in draft.follow_ups))


def add_follow_up(company_id: int, draft: FollowUpDraft, by: User) -> tuple[FollowUp, bool]:
    """A follow-up promised outside a logged visit; (it, whether it was recorded now). Sent again unchanged within
    REPEAT_WINDOW (a second tap), it is recorded once, as a visit is."""
    claim_company(company_id)
    repeat = db.session.scalar(select(FollowUp).where(
        FollowUp.company_id == company_id, FollowUp.visit_id.is_(None), FollowUp.title == draft.title,
        FollowUp.owner_id == draft.owner_id, FollowUp.due_on == draft.due_on, FollowUp.created_by_id == by.id,
        FollowUp.created_at >= utcnow() - REPEAT_WINDOW).limit(1))
    if repeat is not None:
        db.session.rollback()
        return repeat, False
    follow_up = FollowUp(company_id=company_id, title=draft.title, owner_id=draft.owner_id, due_on=draft.due_on,
                         created_by_id=by.id)
    db.session.add(follow_up)
    db.session.commit()
    return follow_up, True


# --- correcting a visit ---------------------------------------------------------------------------

class VisitConflict(Exception):
    """Someone else corrected the visit after this form was filled."""

    def __init__(self, latest: AuditLog | None):
        super().__init__("conflict")
        self.latest = latest


def may_correct(visit: Visit, user: User) -> bool:
    """Those who made a visit (its lead, the officers who took part) correct or withdraw it, and admins; colleagues
    of the area read it."""
    return user.is_admin or (user.can_edit and (visit.officer_id == user.id
                                                 or any(u.id == user.id for u in visit.officers)))


def visit_record(visit: Visit) -> dict[str, str]:
    """What a visit says, as the audit trail keeps it: people and needs by the names they had then."""
    return {
        "visited_on": visit.visited_on.isoformat(), "visit_kind": visit.kind,
        "officers": "、".join(sorted(u.label for u in visit.officers)), "company_people": visit.company_people,
        "summary": visit.summary, "needs": "、".join(n.name for n in sorted(visit.needs, key=lambda n: (n.sort, n.id))),
        "needs_detail": visit.needs_detail,
    }


def visit_fingerprint(visit: Visit) -> str:
    """Which version of a visit a correction form was filled from (no version column: the visit's content)."""
    # People and needs by id: renaming one is no edit of the visit.
    content = [visit.visited_on.isoformat(), visit.kind, visit.company_people, visit.summary, visit.needs_detail,
               sorted(u.id for u in visit.officers), sorted(n.id for n in visit.needs)]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]


def _claimed_visit(visit_id: int, company_id: int) -> Visit | None:
    """The visit as committed now, its company held until this transaction ends (crm.locks.hold)."""
    claim_company(company_id)
    return db.session.scalar(select(Visit).where(Visit.id == visit_id, Visit.company_id == company_id)
                             .options(selectinload(Visit.officers), selectinload(Visit.needs),
                                      selectinload(Visit.follow_ups))
                             .execution_options(populate_existing=True))


def correct_visit(visit_id: int, draft: VisitDraft, loaded: str | None, by: User) -> dict[str, list]:
    """Save a correction of a visit; the changes, as the audit trail records them ({} when the visit already reads
    so: a second tap on a slow connection). Refused with VisitConflict when someone else corrected it after the
    form was filled (`loaded`, its fingerprint then). The follow-ups it promised are not touched here."""
    visit = _claimed_visit(visit_id, draft.company_id)
    if visit is None:
        db.session.rollback()
        raise LookupError(visit_id)
    filled_from = visit_fingerprint(visit)
    before = visit_record(visit)
    visit.visited_on, visit.kind = draft.visited_on, draft.kind
    visit.company_people, visit.summary = draft.company_people.strip(), draft.summary.strip()
    visit.needs_detail = draft.needs_detail.strip()
    visit.officers = list(db.session.scalars(select(User).where(User.id.in_(draft.officer_ids))))
    visit.needs = list(db.session.scalars(select(NeedCategory).where(NeedCategory.id.in_(draft.need_ids))))
    if visit.officer_id not in draft.officer_ids:  # the ledger's 走访干部 took no part after all
        visit.officer_id = by.id if by.id in draft.officer_ids else draft.officer_ids[0]
    if visit_fingerprint(visit) == filled_from:  # already reads so
        db.session.rollback()
        return {}
    if loaded and loaded != filled_from:
        db.session.rollback()
        raise VisitConflict(latest_change(draft.company_id, "visit", visit_id))
    after = visit_record(visit)
    # Names as they read; an officer swapped for a namesake changes none of them, and is recorded all the same.
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]} or {
        "officers": [before["officers"], after["officers"]]}
    record("visit", visit.id, visit.company_id, "update", changes)
    db.session.commit()
    return changes


def withdraw_visit(visit_id: int, company_id: int, by: User) -> int | None:
    """Delete a visit recorded by mistake (on the wrong company, twice); the audit trail keeps what it said, and
    the follow-ups it promised stay with the company, each to be done or reassigned, their history saying the
    visit went. How many stayed; None when the visit was gone already."""
    visit = _claimed_visit(visit_id, company_id)
    if visit is None:
        db.session.rollback()
        return None
    record("visit", visit.id, company_id, "delete",
           {key: [value, None] for key, value in visit_record(visit).items() if value})
    kept = len(visit.follow_ups)
    for follow_up in visit.follow_ups:
        _event(follow_up, by, "visit", visit.visited_on.isoformat(), "")
    db.session.delete(visit)
    db.session.commit()
    return kept


def editors_for(company: Company) -> list[User]:
    """Active officers and admins who may work on `company` (possible participants and owners)."""
    users = db.session.scalars(
        select(User).where(User.role.in_(("admin", "officer")), User.active.is_(True))
        .order_by(User.role.desc(), User.display_name, User.username)
    )
    return [u for u in users if can_see(u, company)]


def active_categories() -> list[NeedCategory]:
    return list(db.session.scalars(select(NeedCategory).where(NeedCategory.active.is_(True))
                                   .order_by(NeedCategory.sort, NeedCategory.id)))


# --- lists and the ledger -------------------------------------------------------------------------

@dataclass
class VisitFilter:
    start: date | None = None
    end: date | None = None
    area_id: int | None = None  # a district or a park
    officer_id: int | None = None  # took part in the visit
    need: int | str | None = None  # a NeedCategory id, or ANY_NEED
    kind: str | None = None
    company_id: int | None = None


def visit_query(f: VisitFilter, user: User | None = None) -> Select:
    """Visits as `user` may see them (everything for the CLI, user None), newest first."""
    stmt = select(Visit).join(Visit.company).where(company_scope(user) if user is not None else true())
    if f.start:
        stmt = stmt.where(Visit.visited_on >= f.start)
    if f.end:
        stmt = stmt.where(Visit.visited_on <= f.end)
    if f.area_id:
        stmt = stmt.where(or_(Company.district_id == f.area_id, Company.park_id == f.area_id))
    if f.officer_id:
        took_part = exists().where(visit_officer.c.visit_id == Visit.id, visit_officer.c.user_id == f.officer_id)
        stmt = stmt.where(or_(Visit.officer_id == f.officer_id, took_part))
    if f.need == ANY_NEED:
        stmt = stmt.where(exists().where(visit_need.c.visit_id == Visit.id))
    elif f.need:
        stmt = stmt.where(exists().where(visit_need.c.visit_id == Visit.id, visit_need.c.category_id == f.need))
    if f.kind:
        stmt = stmt.where(Visit.kind == f.kind)
    if f.company_id:
        stmt = stmt.where(Visit.company_id == f.company_id)
    return stmt.order_by(Visit.visited_on.desc(), Visit.id.desc())


VISIT_DETAILS = (
    joinedload(Visit.company), selectinload(Visit.officers), selectinload(Visit.needs),
    selectinload(Visit.follow_ups).joinedload(FollowUp.owner),
)

# INTERFACES.md `visits export`: exactly these columns, in this order.
LEDGER_COLUMNS = [
    Column("走访日期", 12), Column("企业名称", 32), Column("统一社会信用代码", 22), Column("所属区县", 10),
    Column("走访干部", 14), Column("走访方式", 10), Column("企业诉求类别", 22), Column("走访情况", 48),
    Column("跟进事项", 40), Column("跟进期限", 14), Column("跟进状态", 16),
]
ITEM_SEPARATOR = "；\n"
# 跟进事项台账: every follow-up, with a visit or without (promised on a call, its visit deleted), which the 走访台账
# (one row per visit, INTERFACES.md) cannot hold.
FOLLOW_UP_COLUMNS = [
    Column("企业名称", 32), Column("统一社会信用代码", 22), Column("所属区县", 10), Column("跟进事项", 40),
    Column("负责人", 12), Column("跟进期限", 12), Column("跟进状态", 10), Column("完成日期", 12), Column("完成情况", 30),
    Column("来自走访", 12),
]


def follow_up_row(follow_up: FollowUp, today: date) -> list:
    """One follow-up as a row of the 跟进事项台账 (FOLLOW_UP_COLUMNS)."""
    company = follow_up.company
    return [
        company.name, company.uscc, company.district.name, follow_up.title,
        follow_up.owner.label if follow_up.owner else "", follow_up.due_on, follow_up_status(follow_up, today),
        local(follow_up.done_at).date() if follow_up.done_at else None, follow_up.done_note,
        follow_up.visit.visited_on if follow_up.visit else None,
    ]


def ledger_row(visit: Visit, today: date) -> list:
    """One visit as one ledger row; several follow-ups share a cell, numbered so the cells line up.

    A single follow-up's 跟进期限 is a real date cell; several are listed as text.
    """
    items = visit.follow_ups
    numbered = len(items) > 1

    def join(parts: list[str]) -> str:
        return ITEM_SEPARATOR.join(f"{i}. {p}" if numbered else p for i, p in enumerate(parts, start=1))

    summary = visit.summary + (f"\n诉求说明：{visit.needs_detail}" if visit.needs_detail else "")
    statuses = [follow_up_status(fu, today) + (f" {fu.done_note}" if fu.done_note else "") for fu in items]
    return [
        visit.visited_on, visit.company.name, visit.company.uscc, visit.company.district.name,
        "、".join(u.label for u in _officers_in_order(visit)), KIND_LABELS.get(visit.kind, visit.kind),
        "、".join(n.name for n in visit.needs), summary,
        join([fu.title + (f"（{fu.owner.label}）" if fu.owner else "") for fu in items]),
        items[0].due_on if len(items) == 1 else join([fu.due_on.isoformat() for fu in items]),
        join(statuses),
    ]


def _officers_in_order(visit: Visit) -> list[User]:
    return sorted(visit.officers, key=lambda u: (u.id != visit.officer_id, u.label))


def ledger(f: VisitFilter, today: date, user: User | None = None) -> list[list]:
    """The 走访台账 rows, oldest visit first, in a constant number of queries."""
    visits = db.session.scalars(visit_query(f, user).options(*VISIT_DETAILS).order_by(None)
                                .order_by(Visit.visited_on, Visit.id))
    return [ledger_row(v, today) for v in visits]


# --- needs analysis -------------------------------------------------------------------------------

@dataclass
class NeedsMatrix:
    categories: list[NeedCategory]
    districts: list[Area]
    counts: dict[tuple[int, int], int]  # (category id, district id) -> visits raising that need
    by_category: dict[int, int]
    visits_by_district: dict[int, int]  # visits raising any need
    visits_total: int


def needs_matrix(f: VisitFilter, user: User) -> NeedsMatrix:
    """Visits raising each need, by category × district, counted in SQL over the period and scope."""
    scoped = visit_query(f, user).order_by(None).subquery()
    counts = {
        (cat, district): n for cat, district, n in db.session.execute(
            select(visit_need.c.category_id, Company.district_id, func.count(scoped.c.id))
            .join(scoped, scoped.c.id == visit_need.c.visit_id).join(Company, Company.id == scoped.c.company_id)
            .group_by(visit_need.c.category_id, Company.district_id)
        )
    }
    with_needs = dict(db.session.execute(
        select(Company.district_id, func.count(scoped.c.id)).join(Company, Company.id == scoped.c.company_id)
        .where(exists().where(visit_need.c.visit_id == scoped.c.id)).group_by(Company.district_id)
    ).all())
    by_category: dict[int, int] = {}
    for (cat, _district), n in counts.items():
        by_category[cat] = by_category.get(cat, 0) + n
    categories = [c for c in db.session.scalars(select(NeedCategory).order_by(NeedCategory.sort, NeedCategory.id))
                  if c.active or by_category.get(c.id)]
    districts = list(db.session.scalars(select(Area).where(Area.kind == DISTRICT).order_by(Area.sort, Area.name)))
    return NeedsMatrix(categories, districts, counts, by_category, with_needs, sum(with_needs.values()))


# --- the need-category list (admin) ---------------------------------------------------------------

class CategoryError(ValueError):
    pass


def _check_name(name: str, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise CategoryError(_("类别名称不能为空"))
    if len(name) > 40:
        raise CategoryError(_("类别名称不超过 40 个字"))
    clash = db.session.scalar(select(NeedCategory.id).where(NeedCategory.name == name))
    if clash is not None and clash != exclude_id:
        raise CategoryError(_("类别“%(name)s”已存在", name=name))
    return name


def add_category(name: str) -> NeedCategory:
    last = db.session.scalar(select(func.max(NeedCategory.sort))) or 0
    category = NeedCategory(name=_check_name(name), sort=last + 1, active=True)
    db.session.add(category)
    return category


def update_category(category: NeedCategory, name: str, active: bool) -> None:
    """Rename or (de)activate; a deactivated category leaves the form but stays on past visits."""
    category.name = _check_name(name, category.id)
    category.active = active


def move_category(category: NeedCategory, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (+1); renumbers so ties cannot stick."""
    ordered = list(db.session.scalars(select(NeedCategory).order_by(NeedCategory.sort, NeedCategory.id)))
    i = ordered.index(category)
    j = i + step
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    for position, item in enumerate(ordered):
        item.sort = position
