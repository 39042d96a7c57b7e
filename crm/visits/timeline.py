"""A company's timeline: visits, follow-ups, certifications, application stage moves and edits, newest first.

Each source is read with one query (plus eager loads) limited to the rows the requested page can need,
then merged in Python, so a page costs the same number of queries whatever the company's history.
"""
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from crm.changes import Change, described
from crm.clock import local
from crm.extensions import db
from crm.i18n import N_
from crm.models import Application, ApplicationMove, AuditLog, Company, FollowUp, Visit

KINDS = {
    "visit": N_("走访"), "follow_up": N_("跟进事项"), "certification": N_("资质"), "application": N_("申报"),
    "edit": N_("修改记录"),
}
PER_PAGE = 20


@dataclass(frozen=True)
class Entry:
    kind: str
    on: date  # the day it happened (a follow-up: the day it is due)
    at: datetime | None  # local time, orders entries within a day
    item: Any  # the Visit, FollowUp, Certification, ApplicationMove or AuditLog
    follow_ups: int = 0  # a visit's follow-ups, counted with it
    changes: tuple[Change, ...] = ()  # an edit's lines, as a reader names them
    linked: bool = False  # an edit's row still there to link to (a corrected visit not deleted since)

    @property
    def sort_key(self) -> tuple[date, datetime]:
        return self.on, self.at or datetime.combine(self.on, time())


def _local(ts: datetime) -> datetime:
    return local(ts).replace(tzinfo=None)


# Built once and run with the company and how many rows: SQLAlchemy would otherwise build and hash each statement
# on every page view, which costs more than running these small queries.
COMPANY, ROWS = bindparam("company_id"), bindparam("rows")
# A visit's officers and needs are joined (one to three of each) and its follow-ups counted: one statement, not four.
VISITS = (select(Visit, select(func.count(FollowUp.id)).where(FollowUp.visit_id == Visit.id).scalar_subquery())
          .where(Visit.company_id == COMPANY).order_by(Visit.visited_on.desc(), Visit.id.desc())
          .limit(ROWS).options(joinedload(Visit.officers), joinedload(Visit.needs)))
FOLLOW_UPS = (select(FollowUp).where(FollowUp.company_id == COMPANY)
              .order_by(FollowUp.due_on.desc(), FollowUp.id.desc()).limit(ROWS).options(joinedload(FollowUp.owner)))
MOVES = (select(ApplicationMove).join(ApplicationMove.application).where(Application.company_id == COMPANY)
         .order_by(ApplicationMove.moved_at.desc(), ApplicationMove.id.desc()).limit(ROWS)
         .options(joinedload(ApplicationMove.application).joinedload(Application.round),
                  joinedload(ApplicationMove.moved_by)))
EDITS = (select(AuditLog).where(AuditLog.company_id == COMPANY).order_by(AuditLog.at.desc(), AuditLog.id.desc())
         .limit(ROWS).options(joinedload(AuditLog.user)))


def _rows(stmt, company: Company, n: int):
    return db.session.scalars(stmt, {"company_id": company.id, "rows": n}).unique()


def _visits(company: Company, n: int) -> list[Entry]:
    visits = db.session.execute(VISITS, {"company_id": company.id, "rows": n}).unique()
    return [Entry("visit", v.visited_on, datetime.combine(v.visited_on, _local(v.created_at).time()), v, follow_ups)
            for v, follow_ups in visits]


def _follow_ups(company: Company, n: int) -> list[Entry]:
    return [Entry("follow_up", f.due_on, None, f) for f in _rows(FOLLOW_UPS, company, n)]


def _certifications(company: Company, n: int) -> list[Entry]:
    # The company's certifications are few, and loaded already for its standing.
    # Dated by issue: a 科小 registration's window starts on 1 January whenever it was granted.
    certs = sorted(company.certifications, key=lambda c: (c.issued_on or c.valid_from, c.id), reverse=True)[:n]
    return [Entry("certification", c.issued_on or c.valid_from, None, c) for c in certs]


def _moves(company: Company, n: int) -> list[Entry]:
    return [Entry("application", _local(m.moved_at).date(), _local(m.moved_at), m) for m in _rows(MOVES, company, n)]


def _edits(company: Company, n: int) -> list[Entry]:
    edits = _rows(EDITS, company, n).all()
    corrected = {e.entity_id for e in edits if e.entity == "visit" and e.action == "update"}
    live = set(db.session.scalars(select(Visit.id).where(Visit.id.in_(corrected)))) if corrected else set()
    return [Entry("edit", _local(e.at).date(), _local(e.at), e, changes=lines, linked=e.entity_id in live)
            for e, lines in zip(edits, described([e.changes for e in edits], entities=[e.entity for e in edits]))]


SOURCES = {"visit": _visits, "follow_up": _follow_ups, "certification": _certifications,
           "application": _moves, "edit": _edits}


def company_timeline(company: Company, kind: str | None = None, page: int = 1,
                     per_page: int = PER_PAGE) -> tuple[list[Entry], bool]:
    """One page of the timeline (only `kind` when given), and whether an older page exists."""
    needed = page * per_page + 1
    entries = [e for name, source in SOURCES.items() if kind in (None, name) for e in source(company, needed)]
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries[(page - 1) * per_page: page * per_page], len(entries) > page * per_page
