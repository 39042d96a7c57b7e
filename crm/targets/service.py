"""Counting against targets (DOMAIN §5) and the targets themselves.

Each metric is ONE SQL condition on Certification (`certification_clause`), from which everything is
built: the city and per-area counts (one grouped query for all metrics), the monthly trend and the
list of companies behind every number. Counts are of distinct companies; a revoked certification
never counts, not even as the "earlier" certificate that makes a 高企 certificate a renewal, so a
company whose only earlier certificate was revoked counts as 新认定 (hnte_new), not 重新认定.
Validity is by date through valid_from/valid_until, derived by crm.ladder.standing.validity_window; a 科小
registration or 瞪羚 recognition counts from its issue date, or from 1 January of its year without one
(crm.ladder.standing.issued_by).
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, select
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.i18n import N_
from crm.ladder.standing import in_force_clause, issued_by
from crm.models import Area, Certification, Company, Target
from crm.models.area import PARK
from crm.models.certification import GAZELLE, HNTE, REVOKED, TECH_SME
from crm.models.target import METRICS
from crm.normalize import MAX_INT

METRIC_LABELS = {
    "hnte_valid": N_("有效高企数"), "hnte_new": N_("新认定高企"), "hnte_renewed": N_("重新认定高企"),
    "tech_sme_registered": N_("科小入库数"), "tech_sme_new": N_("新入库科小"), "gazelle_new": N_("新增瞪羚"),
}
METRIC_KIND = {
    "hnte_valid": HNTE, "hnte_new": HNTE, "hnte_renewed": HNTE,
    "tech_sme_registered": TECH_SME, "tech_sme_new": TECH_SME, "gazelle_new": GAZELLE,
}
STOCK_METRICS = {"hnte_valid"}  # a level held on a date; the others count what happened during the year


class TargetError(ValueError):
    pass


def default_as_of(year: int, today: date) -> date:
    """DOMAIN §5: 31 December of Y, or today if earlier."""
    return min(date(year, 12, 31), today)


def _counted(kind: str) -> Any:
    return and_(Certification.kind == kind, Certification.status != REVOKED)


def _has_earlier(kind: str, earlier_than) -> Any:
    """Another non-revoked certification of `kind` of the same company, earlier by `earlier_than`."""
    earlier = aliased(Certification)
    return exists().where(
        earlier.company_id == Certification.company_id, earlier.kind == kind, earlier.status != REVOKED,
        earlier_than(earlier),
    )


def certification_clause(metric: str, year: Any, first_day: Any, as_of: Any) -> Any:
    """A condition on Certification: this row puts its company into `metric` for `year` as of `as_of`.

    `year`, `first_day` (1 January of year) and `as_of` are values or SQL columns (the monthly trend
    joins a table of month-ends).
    """
    if metric == "hnte_valid":  # 有效高企数: valid on D
        return in_force_clause(as_of, HNTE)
    if metric in ("hnte_new", "hnte_renewed"):  # issued in Y, on or before D
        issued = and_(_counted(HNTE), Certification.valid_from >= first_day, Certification.valid_from <= as_of)
        renewal = _has_earlier(HNTE, lambda e: e.valid_from < Certification.valid_from)
        return and_(issued, renewal if metric == "hnte_renewed" else ~renewal)
    if metric in ("tech_sme_registered", "tech_sme_new"):  # registered for Y, issued on or before D
        registered = and_(_counted(TECH_SME), Certification.year == year, issued_by(as_of))
        if metric == "tech_sme_new":
            # `+ 0`: SQLite would otherwise scan the (kind, year) index for every row instead of looking
            # up the company's few registrations by (company_id, kind).
            return and_(registered, ~_has_earlier(TECH_SME, lambda e: e.year + 0 < year))
        return registered
    if metric == "gazelle_new":  # recognised in Y, on or before D
        return and_(_counted(GAZELLE), Certification.year == year, issued_by(as_of))
    raise TargetError(f"未知指标：{metric}")


def metric_condition(metric: str, year: int, as_of: date) -> Any:
    """A condition on Company: it counts in `metric` for `year` as of `as_of`."""
    clause = certification_clause(metric, year, date(year, 1, 1), as_of)
    return Company.id.in_(select(Certification.company_id).where(clause))


def metric_conditions(year: int, as_of: date) -> dict[str, Any]:
    return {m: metric_condition(m, year, as_of) for m in METRICS}


def area_condition(area: Area) -> Any:
    return Company.park_id == area.id if area.kind == PARK else Company.district_id == area.id


@dataclass
class AreaCounts:
    """Counts of companies by name of condition, city-wide and for each area id."""

    city: Counter = field(default_factory=Counter)
    by_area: dict[int, Counter] = field(default_factory=dict)

    def of(self, area_id: int | None) -> Counter:
        return self.city if area_id is None else self.by_area.get(area_id, Counter())


def count_by_area(conditions: dict[str, Any], where: Any = None) -> AreaCounts:
    """How many companies satisfy each condition, city-wide, by district and by park: ONE query,
    grouped by (district, park); each company is in exactly one group, so groups add up."""
    stmt = select(
        Company.district_id, Company.park_id,
        *[func.sum(case((condition, 1), else_=0)).label(name) for name, condition in conditions.items()],
    ).group_by(Company.district_id, Company.park_id)
    if where is not None:
        stmt = stmt.where(where)
    counts = AreaCounts()
    for district_id, park_id, *values in db.session.execute(stmt):
        group = Counter(dict(zip(conditions, (int(v or 0) for v in values))))
        counts.city.update(group)
        for area_id in (district_id, park_id):
            if area_id is not None:
                counts.by_area.setdefault(area_id, Counter()).update(group)
    return counts


def targets_for(year: int) -> dict[tuple[str, int | None], int]:
    """The year's targets keyed by (metric, area id or None for the city)."""
    rows = db.session.execute(select(Target.metric, Target.area_id, Target.value).where(Target.year == year))
    return {(metric, area_id): value for metric, area_id, value in rows}


def set_target(year: int, metric: str, area: Area | None, value: int | None) -> None:
    """Set (or with None, clear) a target for the city (area None) or one area; the caller commits."""
    if metric not in METRICS:
        raise TargetError(f"未知指标：{metric}（可选：{', '.join(METRICS)}）")
    if value is not None and value < 0:
        raise TargetError("目标值不能为负数")
    if value is not None and value > MAX_INT:
        raise TargetError(f"目标值 {value} 过大")
    area_id = area.id if area is not None else None
    same = and_(Target.year == year, Target.metric == metric,
                Target.area_id.is_(None) if area_id is None else Target.area_id == area_id)
    if value is None:
        db.session.execute(delete(Target).where(same))
        return
    target = db.session.scalar(select(Target).where(same))
    if target is None:
        db.session.add(Target(year=year, metric=metric, area_id=area_id, value=value))
    else:
        target.value = value


def progress_dict(year: int, as_of: date, counts: AreaCounts, targets: dict, areas: list[Area]) -> dict:
    """The INTERFACES.md shape of `targets progress --json`."""
    def figures(area_id: int | None) -> dict:
        actual = counts.of(area_id)
        return {m: {"actual": actual[m], "target": targets.get((m, area_id))} for m in METRICS}

    return {
        "year": year, "as_of": as_of.isoformat(), "metrics": figures(None),
        "areas": {area.key: figures(area.id) for area in areas},
    }


def progress(year: int, as_of: date, areas: list[Area], where: Any = None) -> dict:
    """Progress against targets for `year` as of `as_of`: every metric city-wide and for each area."""
    counts = count_by_area(metric_conditions(year, as_of), where)
    return progress_dict(year, as_of, counts, targets_for(year), areas)
