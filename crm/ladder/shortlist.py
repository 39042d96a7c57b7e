"""Shortlists for a round (DOMAIN §9) and their export (INTERFACES.md "Shortlist file").

The shortlist for kind K and year Y: every company that does not already hold K through Y and that has an open
application for K in a year-Y round, or is in a K pool for Y, or passes every condition of K its figures can decide.
Candidates are read in chunks of CHUNK companies (three queries each), checked in Python and reduced at once to
the few values a row shows, so memory stays bounded with 100,000 companies.
"""
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import not_, or_, select
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.i18n import N_
from crm.ladder.eligibility import GazelleParams, KindResult, YearFigures
from crm.ladder.queries import standings_for
from crm.ladder.service import CHECK_LABELS, DECLARATIONS, VERDICT_LABELS, application_date, check_kind, \
    excluded_clause, figures_may_pass_clause, gazelle_params, load_facts, verdict
from crm.ladder.standing import KIND_LABELS
from crm.models import Application, Area, Company, Pool, PoolMember, Round, User
from crm.models.certification import GAZELLE, HNTE, TECH_SME
from crm.transfer.spreadsheet import Column, write_table

CHUNK = 2000
APPLYING, POOLED, ELIGIBLE = "applying", "pooled", "eligible"
REASON_LABELS = {APPLYING: N_("申报中"), POOLED: N_("培育库"), ELIGIBLE: N_("条件符合")}
MONEY, RATIO, COUNT = "#,##0.00", "0.00%", "0"


@dataclass(frozen=True)
class ShortlistFilter:
    kind: str
    year: int
    scope: Any = None            # a WHERE condition on Company (crm.access.company_scope), None = everything
    area_id: int | None = None   # a district or a park
    officer_id: int | None = None  # 0 = no officer


@dataclass
class ShortlistRow:
    company_id: int
    uscc: str
    name: str
    district_code: str
    district: str
    park: str
    officer: str
    reasons: tuple[str, ...]
    verdict: str
    score: int | None
    failed: list[str]           # short labels of the failed checks (of the waived ones when eligible by 直通车)
    missing_figures: list[str]
    values: tuple               # the kind's own columns (KIND_COLUMNS)

    @property
    def reason_text(self) -> str:
        return "、".join(REASON_LABELS[r] for r in self.reasons)


def _value(result: KindResult, name: str):
    check = next((c for c in result.checks if c.name == name), None)
    return check.value if check is not None and check.result != "missing" else None


def _amount(value: float | None) -> Decimal | None:
    """An amount a check reports as a float, as the stored 万元 amount it came from (two decimals, like the others)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _verdict_columns() -> list[tuple[Column, Callable]]:
    return [(Column("判定", 14), lambda fig, facts, r: VERDICT_LABELS[verdict(r)]),
            (Column("未通过条件", 30), lambda fig, facts, r: [CHECK_LABELS.get(n, n) for n in r.failed])]


# The kind's figures and check results: (column, value from (latest fiscal year's figures, facts, result)).
KIND_COLUMNS: dict[str, list[tuple[Column, Callable]]] = {
    TECH_SME: [
        (Column("职工总数", 10, COUNT), lambda fig, facts, r: fig.employees),
        (Column("科技人员数", 10, COUNT), lambda fig, facts, r: fig.tech_staff),
        (Column("营业收入（万元）", 14, MONEY), lambda fig, facts, r: fig.revenue),
        (Column("研发费用（万元）", 14, MONEY), lambda fig, facts, r: fig.rd_expense),
        (Column("成本费用总额（万元）", 14, MONEY), lambda fig, facts, r: fig.total_cost),
        (Column("资产总额（万元）", 14, MONEY), lambda fig, facts, r: fig.total_assets),
        (Column("Ⅰ类知识产权数", 10, COUNT), lambda fig, facts, r: fig.ip_class1),
        (Column("Ⅱ类知识产权数", 10, COUNT), lambda fig, facts, r: fig.ip_class2),
        (Column("评分", 8, COUNT), lambda fig, facts, r: r.score),
        (Column("直通车", 20), lambda fig, facts, r: "是（" + "、".join(r.direct_grounds) + "）" if r.direct else "否"),
        *_verdict_columns(),
    ],
    HNTE: [
        (Column("成立日期", 12), lambda fig, facts, r: facts.founded_on),
        (Column("技术领域", 14), lambda fig, facts, r: facts.tech_field),
        (Column("研发费用占比", 12, RATIO), lambda fig, facts, r: _value(r, "rd_ratio")),
        (Column("高新技术产品收入占比", 12, RATIO), lambda fig, facts, r: _value(r, "high_tech_revenue_ratio")),
        (Column("科技人员占比", 12, RATIO), lambda fig, facts, r: _value(r, "tech_staff_ratio")),
        (Column("境内研发费用占比", 12, RATIO), lambda fig, facts, r: _value(r, "rd_domestic_ratio")),
        (Column("营业收入（万元）", 14, MONEY), lambda fig, facts, r: fig.revenue),
        (Column("Ⅰ类知识产权数", 10, COUNT), lambda fig, facts, r: fig.ip_class1),
        (Column("Ⅱ类知识产权数", 10, COUNT), lambda fig, facts, r: fig.ip_class2),
        (Column("创新能力评分（含估分）", 12, COUNT), lambda fig, facts, r: r.innovation["total"]),
        *_verdict_columns(),
    ],
    GAZELLE: [
        (Column("持有有效高企", 10), lambda fig, facts, r: "是" if facts.holds_valid_hnte else "否"),
        (Column("基期营业收入（万元）", 14, MONEY), lambda fig, facts, r: _amount(_value(r, "base_revenue"))),
        (Column("最近一年营业收入（万元）", 14, MONEY), lambda fig, facts, r: fig.revenue),
        (Column("营业收入年均复合增长率", 12, RATIO), lambda fig, facts, r: _value(r, "revenue_cagr")),
        *_verdict_columns(),
    ],
}
LEAD_COLUMNS = [Column("统一社会信用代码", 22), Column("企业名称", 36), Column("所属区县", 10), Column("所在园区", 16),
                Column("包联干部", 10), Column("当前梯次", 14)]
TAIL_COLUMNS = [Column("入选原因", 18), Column("缺失数据", 40)]


def columns(kind: str) -> list[Column]:
    return LEAD_COLUMNS + [c for c, _ in KIND_COLUMNS[kind]] + TAIL_COLUMNS


def _marked(kind: str, year: int) -> tuple[Any, Any]:
    """Subqueries of companies with an open application for K in a year-Y round, and of those in a K pool for Y."""
    applying = (select(Application.company_id).join(Round, Round.id == Application.round_id)
                .where(Round.kind == kind, Round.year == year, Application.stage.not_in(("rejected", "withdrawn"))))
    pooled = select(PoolMember.company_id).join(Pool).where(Pool.kind == kind, Pool.year == year)
    return applying, pooled


def candidates(f: ShortlistFilter, on: date, params: GazelleParams) -> Any:
    """Companies that may be listed, with what a row shows: everyone not already holding K through Y who is marked
    (applying, pooled) or meets the necessary conditions of K in SQL (most companies do not)."""
    park, district = aliased(Area), aliased(Area)
    applying, pooled = _marked(f.kind, f.year)
    may_pass = figures_may_pass_clause(f.kind, f.year, on, params)
    stmt = (
        select(Company.id, Company.uscc, Company.name, *(getattr(Company, d) for d in DECLARATIONS),
               district.code.label("district_code"), district.name.label("district_name"),
               park.name.label("park_name"), User.display_name, User.username)
        .join(district, district.id == Company.district_id)
        .outerjoin(park, park.id == Company.park_id)
        .outerjoin(User, User.id == Company.officer_id)
        .where(not_(excluded_clause(f.kind, f.year)),
               or_(may_pass, Company.id.in_(applying), Company.id.in_(pooled)))
    )
    if f.scope is not None:
        stmt = stmt.where(f.scope)
    if f.area_id:
        stmt = stmt.where(or_(Company.district_id == f.area_id, Company.park_id == f.area_id))
    if f.officer_id is not None:
        stmt = stmt.where(Company.officer_id.is_(None) if f.officer_id == 0 else Company.officer_id == f.officer_id)
    return stmt


def _chunks(stmt) -> Iterator[list]:
    last = 0
    while True:
        rows = db.session.execute(stmt.where(Company.id > last).order_by(Company.id).limit(CHUNK)).all()
        if rows:
            yield rows
        if len(rows) < CHUNK:
            return
        last = rows[-1].id


def shortlist(f: ShortlistFilter, today: date) -> list[ShortlistRow]:
    """The shortlist rows, ordered by district (code order) then name."""
    on, params = application_date(f.year, today), gazelle_params()
    applying, pooled = (set(db.session.scalars(q)) for q in _marked(f.kind, f.year))
    extract = KIND_COLUMNS[f.kind]
    rows = []
    for chunk in _chunks(candidates(f, on, params)):
        facts = load_facts(chunk, f.year, on, params)
        for c in chunk:
            result = check_kind(f.kind, facts[c.id], f.year, on, params)
            reasons = tuple(r for r, yes in ((APPLYING, c.id in applying), (POOLED, c.id in pooled),
                                             (ELIGIBLE, result.figures_pass)) if yes)
            if not reasons:
                continue
            fig = facts[c.id].by_year().get(f.year - 1) or YearFigures(f.year - 1)
            rows.append(ShortlistRow(
                c.id, c.uscc, c.name, c.district_code or "", c.district_name, c.park_name or "",
                c.display_name or c.username or "", reasons, verdict(result), result.score,
                [CHECK_LABELS.get(n, n) for n in result.failed + result.waived], result.missing_measured,
                tuple(value(fig, facts[c.id], result) for _, value in extract),
            ))
    rows.sort(key=lambda r: (r.district_code, r.name, r.company_id))
    return rows


def table_rows(rows: list[ShortlistRow], today: date) -> Iterator[list]:
    """Rows as the file has them; the current standing (today) is read in chunks of CHUNK companies."""
    for start in range(0, len(rows), CHUNK):
        part = rows[start:start + CHUNK]
        standings = standings_for([r.company_id for r in part], today)
        for r in part:
            yield [r.uscc, r.name, r.district, r.park, r.officer, standings[r.company_id].label, *r.values,
                   r.reason_text, r.missing_figures]


def title(kind: str, year: int) -> str:
    return f"{year}年{KIND_LABELS[kind]}申报名单"


def export(f: ShortlistFilter, path: str | Path, today: date) -> int:
    """Write the shortlist to `path` as .xlsx or .csv by its extension (INTERFACES.md); returns the rows written."""
    rows = shortlist(f, today)
    write_table(path, columns(f.kind), table_rows(rows, today), title(f.kind, f.year))
    return len(rows)
