"""My work: follow-ups to do, and companies not visited for too long (走访超期).

Staleness thresholds come from the setting `visit_staleness` (crm.settings), in days:

    {"pooled": 90, "default": 180}                 # the defaults
    {"pooled": 90, "default": 180, "hnte": 120}    # optional per-standing keys

`pooled` applies to companies in a cultivation pool (培育库) of the current year; a key named after a
standing (gazelle, hnte, tech_sme, incubating, none — crm.ladder.standing.RUNGS) replaces `default` for
companies of that standing. Where both apply, the shorter threshold wins: a pooled 高企 with
{"pooled": 90, "hnte": 60} is stale after 60 days, with {"pooled": 90, "hnte": 120} after 90.

A company is stale when the days since its last visit of any kind — or since it was registered in
Ladder, if never visited — reach its threshold: with 90 days, 89 days is fine and 90 is stale.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Date, DateTime, and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload, lazyload, load_only

from crm.access import company_scope
from crm.clock import local
from crm.extensions import db
from crm.ladder.queries import pooled_clause, standing_clause
from crm.ladder.standing import RUNGS
from crm.models import Company, FollowUp, User, Visit, visit_officer
from crm.settings import get_setting
from crm.visits.service import overdue_clause

UPCOMING_DAYS = 30  # follow-ups due within this many days show on My work
LIST_CAP = 100  # longer lists link to the full, paginated page


def threshold_for(setting: dict, rung: str | None, pooled: bool) -> int:
    """Days a company of standing `rung` may go unvisited (see the module docstring)."""
    days = int(setting.get(rung, setting["default"]) if rung else setting["default"])
    return min(days, int(setting["pooled"])) if pooled else days


def _threshold_case(setting: dict, today: date, value: Callable[[int], Any]) -> Any:
    """A SQL CASE on Company giving value(threshold) for each company; value() turns days into a literal."""
    overrides = [r for r in RUNGS if r in setting]
    pooled = pooled_clause(today)

    def by_rung(is_pooled: bool) -> Any:
        fallback = value(threshold_for(setting, None, is_pooled))
        if not overrides:
            return fallback
        return case(*[(standing_clause(r, today), value(threshold_for(setting, r, is_pooled))) for r in overrides],
                    else_=fallback)

    return case((pooled, by_rung(True)), else_=by_rung(False))


def _utc_start_of(day: date) -> datetime:
    """Local midnight starting `day`, as the naive UTC that DateTime columns store."""
    zone = ZoneInfo(current_app.config["LADDER_TIMEZONE"])
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def last_visits(*where: Any):
    """Each visited company's latest visit date (a subquery to outer-join), for the companies matching `where`
    (every company when none): one officer's list then reads their companies' visits, not the province's."""
    stmt = select(Visit.company_id, func.max(Visit.visited_on).label("last_on")).group_by(Visit.company_id)
    if where:
        stmt = stmt.join(Company, Company.id == Visit.company_id).where(*where)
    return stmt.subquery()


def staleness(today: date, last) -> tuple[Any, Any]:
    """(is-stale condition, threshold in days) as SQL expressions on Company outer-joined to last_visits()."""
    setting = get_setting("visit_staleness")
    cutoff = _threshold_case(setting, today, lambda days: literal(today - timedelta(days=days), Date))
    # Never visited: counted from the local day it was registered, i.e. registered before the day after cutoff.
    created_cutoff = _threshold_case(
        setting, today, lambda days: literal(_utc_start_of(today - timedelta(days=days - 1)), DateTime))
    stale = or_(last.c.last_on <= cutoff, and_(last.c.last_on.is_(None), Company.created_at < created_cutoff))
    return stale, _threshold_case(setting, today, lambda days: literal(days))


@dataclass(frozen=True)
class StaleCompany:
    company: Company
    last_visit: date | None
    since: date  # last visit, or the day it was registered
    days: int
    threshold: int


@dataclass(frozen=True)
class WorkScope:
    """Whose work: an officer's (their follow-ups and companies) or a district's."""

    officer_id: int | None = None
    district_id: int | None = None

    def follow_ups(self) -> Any:
        if self.district_id:
            return Company.district_id == self.district_id
        return FollowUp.owner_id == self.officer_id

    def companies(self) -> Any:
        if self.district_id:
            return Company.district_id == self.district_id
        return Company.officer_id == self.officer_id


def stale_companies(scope: WorkScope, user: User, today: date, limit: int = LIST_CAP) -> tuple[list[StaleCompany], int]:
    """The longest-unvisited first, capped at `limit`, and how many there are in all."""
    last = last_visits(company_scope(user), scope.companies())
    stale, threshold = staleness(today, last)
    base = (select(Company).outerjoin(last, last.c.company_id == Company.id)
            .where(company_scope(user), scope.companies(), stale)
            .options(load_only(Company.name, Company.created_at), joinedload(Company.park), lazyload(Company.officer)))
    # How many in all comes with the first rows (a window count): the aggregate of visits is worked out once.
    rows = db.session.execute(
        base.add_columns(last.c.last_on, threshold.label("threshold"), func.count().over().label("total"))
        .order_by(last.c.last_on.is_not(None), last.c.last_on, Company.created_at, Company.id).limit(limit)
    ).all()
    result = []
    for company, last_on, days, _total in rows:
        since = last_on or local(company.created_at).date()
        result.append(StaleCompany(company, last_on, since, (today - since).days, int(days)))
    return result, rows[0].total if rows else 0


class FollowUpItem(NamedTuple):
    """What My work shows of an open follow-up, as plain values: it lists up to two hundred."""

    id: int
    title: str
    company_id: int
    company_name: str
    due_on: date
    done_at: datetime | None
    owner_label: str | None


def open_follow_ups(scope: WorkScope, user: User, today: date) -> tuple[list[FollowUpItem], list[FollowUpItem], int]:
    """(overdue, due within UPCOMING_DAYS, count of those due later), soonest first."""
    where = (company_scope(user), scope.follow_ups(), FollowUp.done_at.is_(None))
    items = (select(FollowUp.id, FollowUp.title, FollowUp.company_id, Company.name, FollowUp.due_on, FollowUp.done_at,
                    User.label)
             .join(Company, Company.id == FollowUp.company_id).outerjoin(User, User.id == FollowUp.owner_id)
             .where(*where).order_by(FollowUp.due_on, FollowUp.id).limit(LIST_CAP))
    horizon = today + timedelta(days=UPCOMING_DAYS)
    overdue = [FollowUpItem(*row) for row in db.session.execute(items.where(overdue_clause(today)))]
    upcoming = [FollowUpItem(*row) for row in db.session.execute(
        items.where(FollowUp.due_on >= today, FollowUp.due_on <= horizon))]
    later = db.session.scalar(select(func.count(FollowUp.id)).join(Company, Company.id == FollowUp.company_id)
                              .where(*where, FollowUp.due_on > horizon))
    return overdue, upcoming, later


@dataclass
class TeamRow:
    """One officer's or district's workload."""

    key: int | None
    label: str
    companies: int = 0
    stale: int = 0
    open: int = 0
    overdue: int = 0
    visits: int = 0  # in the last RECENT_DAYS days


RECENT_DAYS = 30


def team_summary(user: User, today: date, officers: list[User], districts: list) -> tuple[list[TeamRow], list[TeamRow]]:
    """Per officer and per district: companies, stale ones, open and overdue follow-ups, recent visits.

    Four grouped queries whatever the data size, and one for the names of those holding companies or follow-ups
    who are not among `officers` (a deactivated officer's work is still to be handed on)."""
    by_officer = {u.id: TeamRow(u.id, u.label) for u in officers}
    by_district = {a.id: TeamRow(a.id, a.name) for a in districts}

    def add(officer_id, district_id, holds=False, **counts):
        if holds and officer_id is not None and officer_id not in by_officer:  # e.g. a deactivated officer's work
            by_officer[officer_id] = TeamRow(officer_id, "")
        for row in (by_officer.get(officer_id), by_district.get(district_id)):
            for name, n in counts.items():
                if row is not None:
                    setattr(row, name, getattr(row, name) + int(n or 0))

    last = last_visits()
    stale, _ = staleness(today, last)
    for officer_id, district_id, n, n_stale in db.session.execute(
        select(Company.officer_id, Company.district_id, func.count(Company.id), func.sum(case((stale, 1), else_=0)))
        .outerjoin(last, last.c.company_id == Company.id).where(company_scope(user))
        .group_by(Company.officer_id, Company.district_id)
    ):
        add(officer_id, district_id, holds=True, companies=n, stale=n_stale)
    for owner_id, district_id, n, n_overdue in db.session.execute(
        select(FollowUp.owner_id, Company.district_id, func.count(FollowUp.id),
               func.sum(case((FollowUp.due_on < today, 1), else_=0)))
        .select_from(FollowUp).join(FollowUp.company).where(company_scope(user), FollowUp.done_at.is_(None))
        .group_by(FollowUp.owner_id, Company.district_id)
    ):
        add(owner_id, district_id, holds=True, open=n, overdue=n_overdue)
    recent = and_(company_scope(user), Visit.visited_on > today - timedelta(days=RECENT_DAYS), Visit.visited_on <= today)
    for officer_id, n in db.session.execute(
        select(visit_officer.c.user_id, func.count(Visit.id)).select_from(visit_officer)
        .join(Visit, Visit.id == visit_officer.c.visit_id).join(Visit.company).where(recent).group_by(visit_officer.c.user_id)
    ):
        add(officer_id, None, visits=n)
    for district_id, n in db.session.execute(
        select(Company.district_id, func.count(Visit.id)).select_from(Visit).join(Visit.company).where(recent).group_by(Company.district_id)
    ):
        add(None, district_id, visits=n)
    unlisted = [row for row in by_officer.values() if not row.label]
    if unlisted:  # their companies and follow-ups show here, to be handed to someone else
        for user_id, label, active in db.session.execute(
                select(User.id, User.label, User.active).where(User.id.in_([r.key for r in unlisted]))):
            by_officer[user_id].label = label if active else gettext("%(name)s（已停用）", name=label)
    return list(by_officer.values()), list(by_district.values())
