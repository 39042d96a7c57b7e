"""The dashboard's figures: pace, projection, monthly trend, risk lists and the company lists behind them.

Pace (where we should be on the as-of date D), per metric and scope:
  - by default linear through the year: target × (days of Y up to and including D) / (days in Y);
  - when year Y has rounds of the metric's kind, by their closing dates instead: each round is expected
    to deliver an equal share of the target by its closes_on, accruing evenly from the round before's closing
    (31 December of Y−1 for the first) — the pace climbs toward each deadline rather than standing still and
    jumping on it, which read "on pace" until the day it was too late; a round closing after Y is due on
    31 December, one that closed before Y began is left out (round_closings);
  - 有效高企数 (hnte_valid) is a level, not a count of the year's events: its pace starts from the
    level on 31 December of Y−1 and moves from there to the target by the same share; a target at or below
    that level is the pace all year (an area holding its target is never behind);
  - before Y begins (a year still to come, looked at today) there is no pace.
Projection: the year-end base + open applications × last year's pass rate of the kind. The base is the actual
  count, except for 有效高企数: the level on 31 December of Y of the certificates issued by D (certificates
  lapsing before the year ends leave it). An open application is one not yet approved, rejected or withdrawn
  in a year-Y round of the metric's kind, from a company the approval would add to the metric (not already
  counted — for 有效高企数, not valid on 31 December; for 新认定 never certified, for 重新认定 certified
  before, for 新入库 never registered before); the pass rate is approved / (approved + rejected) over Y−1's
  rounds of the kind, city-wide. Without decided applications last year there is no pass rate and no
  projection.
"""
import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Date, Integer, and_, case, distinct, exists, false, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.ladder.standing import in_force_clause
from crm.i18n import N_
from crm.models import AnnualReport, Application, Area, Certification, Company, Round
from crm.models.certification import HNTE, REVOKED, TECH_SME
from crm.models.ladder import OPEN_STAGES
from crm.models.target import METRICS
from crm.targets.service import (
    METRIC_KIND, METRIC_LABELS, STOCK_METRICS, AreaCounts, certification_clause, count_by_area,
    metric_condition, metric_conditions, progress_dict, targets_for,
)

RISK_LABELS = {
    "hnte_expiring": N_("本年到期且无在途申报的高企"),
    "annual_report_missed": N_("漏报年报的高企（再漏报将被取消资格）"),
    "tech_sme_lapsed": N_("上年入库、本年尚未入库的科小"),
}
OPEN_PREFIX = "open:"


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- named company sets: every number on the dashboard is the size of one of these ----------------

def _open_applications(kind: str, *years: int) -> Any:
    """The company has an open application for `kind` in a round of one of `years`."""
    return Company.id.in_(select(Application.company_id).join(Round, Round.id == Application.round_id).where(
        Round.kind == kind, Round.year.in_(years), Application.stage.in_(OPEN_STAGES)))


def _ever_held(kind: str, before: Any) -> Any:
    """The company has a non-revoked certification of `kind` matching `before` (a Certification condition)."""
    return Company.id.in_(select(Certification.company_id).where(
        Certification.kind == kind, Certification.status != REVOKED, before))


def year_end_level(year: int, as_of: date) -> Any:
    """有效高企数 on 31 December of Y as known on D: certificates issued by D and still valid then."""
    return Company.id.in_(select(Certification.company_id).where(
        in_force_clause(date(year, 12, 31), HNTE), Certification.valid_from <= as_of))


def projection_candidates(metric: str, year: int, as_of: date) -> Any:
    """Companies with an open application this year that its approval would add to `metric` (by the year's end)."""
    counted = year_end_level(year, as_of) if metric in STOCK_METRICS else metric_condition(metric, year, as_of)
    condition = and_(_open_applications(METRIC_KIND[metric], year), ~counted)
    if metric in ("hnte_new", "hnte_renewed"):
        certified = _ever_held(HNTE, Certification.valid_from <= as_of)
        condition = and_(condition, certified if metric == "hnte_renewed" else ~certified)
    if metric == "tech_sme_new":
        condition = and_(condition, ~_ever_held(TECH_SME, Certification.year < year))
    return condition


def hnte_expiring(year: int, as_of: date) -> Any:
    """A 高企 certificate whose last valid day falls in Y, not followed by a later certificate by D,
    and no open 高企 application in a round of Y (§3.2: the company applies again in the year of expiry) or of
    Y − 1 (a certificate expiring early in Y is renewed in the year before); an application left open in an
    older round does not count."""
    later = aliased(Certification)
    expiring = and_(
        Certification.kind == HNTE, Certification.status != REVOKED,
        Certification.valid_until >= date(year, 1, 1), Certification.valid_until <= date(year, 12, 31),
        ~exists().where(later.company_id == Certification.company_id, later.kind == HNTE, later.status != REVOKED,
                        later.valid_from > Certification.valid_from, later.valid_from <= as_of),
    )
    return and_(Company.id.in_(select(Certification.company_id).where(expiring)),
                ~_open_applications(HNTE, year - 1, year))


def annual_report_due(year: int) -> date:
    """§3.3: the report on Y−1 is due by 31 May of Y."""
    return date(year, 5, 31)


REPORT_YEARS_BACK = 3  # a certificate lasts three years: the reports its holder owes fall within them


def annual_report_missed(year: int, as_of: date) -> Any:
    """§3.3 "one missed report flags a company at risk" (two, counted cumulatively, cancel it): holding a 高企
    certificate on D that was also valid on 31 December of an earlier year Y′ whose report was due by 31 May of
    Y′+1 before D, and none for Y′ filed by D (one of unknown date counts as filed)."""
    owed = [y for y in range(as_of.year - REPORT_YEARS_BACK - 1, as_of.year) if annual_report_due(y + 1) < as_of]
    if not owed:
        return false()
    years = union_all(*[select(literal(y, Integer).label("year"), literal(date(y, 12, 31), Date).label("dec31"))
                        for y in owed]).subquery("owed")
    held = aliased(Certification)
    filed = exists().where(AnnualReport.company_id == held.company_id, AnnualReport.year == years.c.year,
                           or_(AnnualReport.filed_on.is_(None), AnnualReport.filed_on <= as_of))
    missed = (select(held.company_id).select_from(held).join(years, and_(
        held.valid_from <= years.c.dec31, held.valid_until >= years.c.dec31))
        .where(held.kind == HNTE, held.status != REVOKED, held.valid_from <= as_of, held.valid_until >= as_of, ~filed))
    return Company.id.in_(missed)


def tech_sme_lapsed(year: int, as_of: date) -> Any:
    """Registered as 科小 for Y−1 but not (yet) for Y as of D (§2.4: a registration lasts one year)."""
    return and_(metric_condition("tech_sme_registered", year - 1, date(year - 1, 12, 31)),
                ~metric_condition("tech_sme_registered", year, as_of))


RISKS = {"hnte_expiring": hnte_expiring, "annual_report_missed": annual_report_missed,
         "tech_sme_lapsed": tech_sme_lapsed}


def list_label(key: str) -> str | None:
    """The title of the list behind the number named `key`, in the reader's language; None for no such list."""
    if key in METRICS:
        return _(METRIC_LABELS[key])
    if key.startswith(OPEN_PREFIX) and key[len(OPEN_PREFIX):] in METRICS:
        return _("%(metric)s·在途申报", metric=_(METRIC_LABELS[key[len(OPEN_PREFIX):]]))
    return _(RISK_LABELS[key]) if key in RISK_LABELS else None


def list_condition(key: str, year: int, as_of: date) -> Any:
    """The condition on Company behind the number named `key` (a metric, "open:<metric>" or a risk)."""
    if key in METRICS:
        return metric_condition(key, year, as_of)
    if key.startswith(OPEN_PREFIX):
        return projection_candidates(key[len(OPEN_PREFIX):], year, as_of)
    return RISKS[key](year, as_of)


# --- pace and projection ------------------------------------------------------------------------

def linear_share(year: int, as_of: date) -> float:
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    return min(max((as_of - first).days + 1, 0), days) / days


def rounds_share(year: int, closings: list[date], as_of: date) -> float:
    """Each round's equal share, accrued evenly from the round before's closing to its own (module docstring)."""
    share, start = 0.0, date(year - 1, 12, 31)
    for closes_on in closings:
        if as_of >= closes_on:
            share += 1
        elif as_of > start:
            share += (as_of - start).days / (closes_on - start).days
        start = closes_on
    return share / len(closings)


def round_closings(year: int) -> dict[str, list[date]]:
    """The closing dates of year `year`'s rounds by kind, as the pace counts them: a round closing after the year
    is due on its last day (the whole target is due by 31 December); one that closed before the year began (an
    early call for it) sets no date, its results landing through the year — the linear pace if none is left."""
    closings: dict[str, list[date]] = {}
    last_day = date(year, 12, 31)
    for kind, closes_on in db.session.execute(select(Round.kind, Round.closes_on).where(
            Round.year == year, Round.closes_on >= date(year, 1, 1))):
        closings.setdefault(kind, []).append(min(closes_on, last_day))
    return {kind: sorted(dates) for kind, dates in closings.items()}


def pass_rates(year: int) -> dict[str, float]:
    """approved / (approved + rejected) over `year`'s rounds, by kind; None where nothing was decided."""
    approved = func.sum(case((Application.stage == "approved", 1), else_=0))
    decided = func.sum(case((Application.stage.in_(("approved", "rejected")), 1), else_=0))
    rows = db.session.execute(
        select(Round.kind, approved, decided).join(Round, Round.id == Application.round_id)
        .where(Round.year == year).group_by(Round.kind)
    )
    return {kind: (ok or 0) / total for kind, ok, total in rows if total}


@dataclass(frozen=True)
class Figures:
    metric: str
    actual: int
    target: int | None
    pace: int | None
    open: int  # open applications that would add to the metric
    pass_rate: float | None
    base: int  # what the year ends with before the open applications (projection)

    @property
    def gap(self) -> int | None:
        """Ahead (+) or behind (−) the pace."""
        return None if self.pace is None else self.actual - self.pace

    @property
    def projection(self) -> int | None:
        return None if self.pass_rate is None else round_half_up(self.base + self.open * self.pass_rate)

    @property
    def completion(self) -> float | None:
        return self.actual / self.target if self.target else None


@dataclass
class Board:
    """Counts, targets, rounds and pass rates for one year and as-of date; figures derive from them."""

    year: int
    as_of: date
    counts: AreaCounts
    targets: dict[tuple[str, int | None], int]
    closings: dict[str, list[date]]  # the year's round closing dates by kind (none: linear pace)
    pass_rates: dict[str, float]
    areas: list[Area]

    @property
    def progress(self) -> dict:
        """The INTERFACES.md shape, the same as `targets progress --json`."""
        return progress_dict(self.year, self.as_of, self.counts, self.targets, self.areas)

    def pace(self, metric: str, area_id: int | None, on: date | None = None) -> int | None:
        target = self.targets.get((metric, area_id))
        if target is None:
            return None
        on = on or self.as_of
        if on < date(self.year, 1, 1):
            return None  # the year has not begun
        closings = self.closings.get(METRIC_KIND[metric])
        share = rounds_share(self.year, closings, on) if closings else linear_share(self.year, on)
        base = self.counts.of(area_id)["start"] if metric in STOCK_METRICS else 0
        if target <= base:
            return target  # a level at or above its target only has to stay there
        return round_half_up(base + (target - base) * share)

    def figures(self, metric: str, area_id: int | None) -> Figures:
        counts = self.counts.of(area_id)
        return Figures(metric, counts[metric], self.targets.get((metric, area_id)), self.pace(metric, area_id),
                       counts[OPEN_PREFIX + metric], self.pass_rates.get(METRIC_KIND[metric]),
                       counts["year_end"] if metric in STOCK_METRICS else counts[metric])

    def by_gap(self, metric: str) -> list[tuple[Area, Figures]]:
        """Areas for one metric, worst gap to the pace first; areas without a target last."""
        rows = [(area, self.figures(metric, area.id)) for area in self.areas]
        return sorted(rows, key=lambda r: (r[1].gap is None, r[1].gap or 0, -r[1].actual, r[0].sort, r[0].name))


def board_counts(year: int, as_of: date, where: Any = None) -> AreaCounts:
    """The counts behind the board, in one query: every metric, its open applications, the level a year ago."""
    conditions = {
        **metric_conditions(year, as_of),
        **{OPEN_PREFIX + m: projection_candidates(m, year, as_of) for m in METRICS},
        "start": metric_condition("hnte_valid", year - 1, date(year - 1, 12, 31)),  # pace base of the level
        "year_end": year_end_level(year, as_of),  # projection base of the level
    }
    return count_by_area(conditions, where)


def board(year: int, as_of: date, areas: list[Area], counts: AreaCounts) -> Board:
    """Everything the dashboard shows except the trend and the risk lists: the counts with targets, rounds
    and pass rates (three small queries)."""
    return Board(year, as_of, counts, targets_for(year), round_closings(year), pass_rates(year - 1), areas)


# --- monthly trend ----------------------------------------------------------------------------------

def month_ends(year: int, until: date) -> list[date]:
    """Month-end dates of `year` up to `until`; the month of `until` ends on `until`."""
    ends = []
    for month in range(1, 13):
        if date(year, month, 1) > until:
            break
        ends.append(min(date(year, month, calendar.monthrange(year, month)[1]), until))
    return ends


def monthly_trend(metric: str, year: int, as_of: date, where: Any = None) -> dict:
    """Month-end counts of `metric` for Y up to D and for all of Y−1, in one query: a small table of
    (year, month-end) points joined to the certifications by the metric's own condition."""
    this_year, last_year = month_ends(year, as_of), month_ends(year - 1, date(year - 1, 12, 31))
    points = [(year, d) for d in this_year] + [(year - 1, d) for d in last_year]
    months = union_all(*[
        select(literal(i, Integer).label("i"), literal(y, Integer).label("year"),
               literal(date(y, 1, 1), Date).label("first_day"), literal(d, Date).label("as_of"))
        for i, (y, d) in enumerate(points)
    ]).cte("months")
    stmt = (
        select(months.c.i, func.count(distinct(Certification.company_id)))
        .select_from(months)
        .join(Certification, certification_clause(metric, months.c.year, months.c.first_day, months.c.as_of))
        .group_by(months.c.i)
    )
    if where is not None:  # a set of companies looked up once, cheaper than a join for every (month, row)
        stmt = stmt.where(Certification.company_id.in_(select(Company.id).where(where)))
    counts = dict(db.session.execute(stmt).all())
    values = [counts.get(i, 0) for i in range(len(points))]
    return {
        "this_year": list(zip(this_year, values[:len(this_year)])),
        "last_year": list(zip(last_year, values[len(this_year):])),
    }


# --- lists ----------------------------------------------------------------------------------------

class Listed(NamedTuple):
    id: int
    name: str
    district: str
    park: str | None


def company_list(condition: Any, where: Any = None, limit: int = 10) -> tuple[list[Listed], int]:
    """The first companies by name and how many there are, in one query; plain values, fit for the cache."""
    district, park = aliased(Area), aliased(Area)
    stmt = (select(Company.id, Company.name, district.name, park.name, func.count().over())
            .join(district, district.id == Company.district_id).outerjoin(park, park.id == Company.park_id)
            .where(condition).order_by(Company.name_sort, Company.id).limit(limit))
    if where is not None:
        stmt = stmt.where(where)
    rows = db.session.execute(stmt).all()
    return [Listed(*row[:4]) for row in rows], (rows[0][4] if rows else 0)
