"""Eligibility from the database: CompanyFacts for one or many companies, in a constant number of queries.

The rules themselves live in crm.ladder.eligibility (pure); this module only maps rows to its dataclasses.

Application date: a company "applying in year Y" is judged as of today when Y is the current year and as of
1 January of Y otherwise. That date decides its standing, whether it holds a valid 高企 (科小 直通车, 瞪羚) and the
高企 365-day registration test. Figures are the fiscal years before Y (INTERFACES.md).
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, literal, or_, select, update
from sqlalchemy.orm import aliased

from crm.extensions import db, ids_in
from crm.i18n import N_
from crm.ladder.eligibility import HNTE_FIELDS, SME_MAX_AMOUNT, SME_MAX_EMPLOYEES, CompanyFacts, GazelleParams, \
    KindResult, YearFigures, check_gazelle, check_hnte, check_tech_sme
from crm.ladder.queries import standing_of
from crm.ladder.standing import RUNGS, Standing, in_force_clause, in_force_on, validity_window
from crm.models import Certification, Company, CompanyYear
from crm.models.certification import GAZELLE, HNTE, KINDS, REVOKED, TECH_SME
from crm.settings import get_setting

DECLARATIONS = ("founded_on", "tech_field", "restricted_industry", "integrity_ok", "no_major_accident",
                "national_award", "provincial_rd_institution", "led_standard")
FIGURES = CompanyYear.FIGURES
assert tuple(f.name for f in fields(YearFigures)) == ("year", *FIGURES), "YearFigures and CompanyYear.FIGURES differ"
# Short names of the checks of crm.ladder.eligibility, for lists and exports (the checks carry full sentences).
CHECK_LABELS = {
    "size_employees": N_("职工总数 ≤ 500 人"), "size_revenue": N_("营业收入 ≤ 2 亿元"),
    "size_assets": N_("资产总额 ≤ 2 亿元"), "restricted_industry": N_("非限制、淘汰类产业"),
    "integrity": N_("无重大事故及失信"), "score": N_("评价得分 ≥ 60 分"), "tech_staff_nonzero": N_("科技人员指标不为 0 分"),
    "registered_365": N_("注册满一年"), "ip_owned": N_("拥有知识产权"), "tech_field": N_("属于八大技术领域"),
    "tech_staff_ratio": N_("科技人员占比 ≥ 10%"), "rd_ratio": N_("研发费用占比 ≥ 3%–5%（按营业收入）"),
    "rd_domestic_ratio": N_("境内研发费用占比 ≥ 60%"), "high_tech_revenue_ratio": N_("高新技术产品收入占比 ≥ 60%"),
    "innovation_score": N_("创新能力评价 ≥ 71 分"), "no_major_accident": N_("无重大安全、质量事故"),
    "not_revoked": N_("当年入库登记未被撤销"),
    "holds_hnte": N_("持有有效高企证书"), "base_revenue": N_("基期营业收入 ≥ 下限"),
    "revenue_cagr": N_("营业收入年均增长率 ≥ 下限"),
}
CHECKERS = {TECH_SME: "tech_sme", HNTE: "hnte", GAZELLE: "gazelle"}


def application_date(year: int, today: date) -> date:
    """The date a company applying in `year` is judged on: today in the current year; 1 January of a year to come
    (the earliest it can apply); 31 December of a year gone, so what was judged during that year's rounds does
    not change overnight on New Year's Day (a round still in review in January lists the same companies)."""
    if year == today.year:
        return today
    return date(year, 1, 1) if year > today.year else date(year, 12, 31)


def gazelle_params() -> GazelleParams:
    """The configured 瞪羚 rule (DOMAIN §4); amounts and rates are stored as strings."""
    p = get_setting("gazelle")
    return GazelleParams(require_hnte=bool(p["require_hnte"]), min_base_revenue=Decimal(str(p["min_base_revenue"])),
                         min_cagr=Decimal(str(p["min_cagr"])), years=int(p["years"]),
                         validity_years=int(p["validity_years"]))


def fiscal_years(year: int, params: GazelleParams) -> range:
    """Fiscal years any check for application year `year` reads: three for 高企, `params.years` for 瞪羚."""
    return range(year - max(3, params.years), year)


def load_facts(companies: Sequence[Any], year: int, on: date, params: GazelleParams) -> dict[int, CompanyFacts]:
    """CompanyFacts for each company (a Company or a row with its declaration columns), in two queries."""
    ids = [c.id for c in companies]
    if not ids:
        return {}
    years = fiscal_years(year, params)
    figures = defaultdict(list)
    for company_id, *values in db.session.execute(
        select(CompanyYear.company_id, CompanyYear.year, *(getattr(CompanyYear, f) for f in FIGURES))
        .where(ids_in(CompanyYear.company_id, ids), CompanyYear.year.between(years.start, years.stop - 1))
    ):
        figures[company_id].append(YearFigures(*values))  # positional: 100,000 companies are read this way
    held = db.session.execute(select(Certification.company_id, Certification.kind).where(
        ids_in(Certification.company_id, ids),
        or_(in_force_clause(on, HNTE), and_(*_revoked_registration(year)))))
    hnte, revoked = set(), set()
    for company_id, kind in held:
        (hnte if kind == HNTE else revoked).add(company_id)
    return {c.id: _facts(c, c.id in hnte, figures[c.id], c.id in revoked) for c in companies}


def _revoked_registration(year: int) -> tuple:
    return Certification.kind == TECH_SME, Certification.year == year, Certification.status == REVOKED


def company_facts(company: Company, year: int, on: date, params: GazelleParams) -> CompanyFacts:
    """load_facts() for one Company, from its figures and certifications: no query of its own when its page
    has loaded them already (the page shows both)."""
    years = fiscal_years(year, params)
    certs = company.certifications
    return _facts(company, any(c.kind == HNTE and in_force_on(c, on) for c in certs),
                  (YearFigures(y.year, *(getattr(y, f) for f in FIGURES)) for y in company.years if y.year in years),
                  any(c.kind == TECH_SME and c.year == year and c.status == REVOKED for c in certs))


def _facts(company: Any, holds_valid_hnte: bool, figures: Iterable[YearFigures],
           tech_sme_revoked: bool) -> CompanyFacts:
    return CompanyFacts(**{k: getattr(company, k) for k in DECLARATIONS}, holds_valid_hnte=holds_valid_hnte,
                        figures=tuple(figures), tech_sme_revoked=tech_sme_revoked)


def check_kind(kind: str, facts: CompanyFacts, year: int, on: date, params: GazelleParams) -> KindResult:
    if kind == TECH_SME:
        return check_tech_sme(facts, year)
    if kind == HNTE:
        return check_hnte(facts, year, on)
    return check_gazelle(facts, year, params)


# Ratios in SQL get this much relative slack: SQLite keeps amounts as floats, and an exact band edge must never be
# dropped by a prefilter (the engine decides it exactly afterwards).
FLOAT_SLACK = Decimal("1.000001")


def _at_least(n: Any, d: Any, pct: int | Decimal) -> Any:
    """SQL for n / d ≥ pct % with n > 0 and d > 0 (eligibility._meets), a little loose; NULL (missing) never passes."""
    return and_(n > 0, d > 0, n * (100 * FLOAT_SLACK) >= d * literal(Decimal(pct)))


def _tech_sme_may_pass(year: int, on: date, params: GazelleParams) -> Any:
    """Conditions 1–4 of §2.1 (size; restricted industry and integrity unless declared otherwise), which both
    routes of check_tech_sme need."""
    y = aliased(CompanyYear)
    return and_(Company.restricted_industry.is_not(True), Company.integrity_ok.is_not(False), exists().where(
        y.company_id == Company.id, y.year == year - 1, y.employees <= SME_MAX_EMPLOYEES,
        y.revenue <= SME_MAX_AMOUNT, y.total_assets <= SME_MAX_AMOUNT))


def _hnte_may_pass(year: int, on: date, params: GazelleParams) -> Any:
    """The §3.1 conditions of check_hnte that are no officer estimate, except the R&D windows (they depend on the
    founding year): registered 365 days, IP owned, tech staff ≥ 10%, high-tech revenue ≥ 60%; the field and no
    accident unless declared otherwise."""
    y = aliased(CompanyYear)
    return and_(Company.founded_on <= on - timedelta(days=365),
                or_(Company.tech_field.is_(None), Company.tech_field.in_(HNTE_FIELDS)),
                Company.no_major_accident.is_not(False), exists().where(
                    y.company_id == Company.id, y.year == year - 1, or_(y.ip_class1 >= 1, y.ip_class2 >= 1),
                    _at_least(y.tech_staff, y.employees, 10), _at_least(y.high_tech_revenue, y.revenue, 60)))


def _gazelle_may_pass(year: int, on: date, params: GazelleParams) -> Any:
    """check_gazelle's three conditions: a valid 高企 on `on` if required, the base revenue and the growth."""
    base, latest = aliased(CompanyYear), aliased(CompanyYear)
    growth = (1 + Decimal(str(params.min_cagr))) ** max(params.years - 1, 1)
    revenues = exists().where(
        base.company_id == Company.id, base.year == year - params.years,
        base.revenue >= Decimal(str(params.min_base_revenue)),
        latest.company_id == Company.id, latest.year == year - 1, _at_least(latest.revenue, base.revenue * growth, 100))
    if not params.require_hnte:
        return revenues
    return and_(revenues, exists().where(Certification.company_id == Company.id, in_force_clause(on, HNTE)))


def figures_may_pass_clause(kind: str, year: int, on: date, params: GazelleParams) -> Any:
    """A SQL condition on Company that every company whose `kind` result has figures_pass meets (for application
    year `year`, judged on `on`). NECESSARY conditions only: a company meeting it may still fail, and only
    check_kind() decides. It lets lists skip the engine for the many companies that cannot pass."""
    return {TECH_SME: _tech_sme_may_pass, HNTE: _hnte_may_pass, GAZELLE: _gazelle_may_pass}[kind](year, on, params)


def holds_through(certs: Iterable[Any], kind: str, year: int) -> bool:
    """Already holds `kind` through `year` (DOMAIN §9): 科小 registered for it; 高企 / 瞪羚 in force on 31 December."""
    if kind == TECH_SME:
        return any(c.kind == TECH_SME and c.year == year and c.status != REVOKED for c in certs)
    end = date(year, 12, 31)
    return any(c.kind == kind and in_force_on(c, end) for c in certs)


def excluded_clause(kind: str, year: int) -> Any:
    """SQL twin of holds_through() on Company. A 科小 registration for `year` that was revoked is held no more
    (DOMAIN §5: never counts): such a company is listed when it is applying or pooled, its row saying it cannot
    apply again that year (§2.4, the check not_revoked), and never as passing."""
    if kind == TECH_SME:
        cond = and_(Certification.kind == TECH_SME, Certification.year == year, Certification.status != REVOKED)
    else:
        cond = in_force_clause(date(year, 12, 31), kind)
    # An uncorrelated list, read once: correlated, SQLite walks every certification of the kind for each company.
    return Company.id.in_(select(Certification.company_id).where(cond))


def verdict(result: KindResult) -> str:
    """eligible · figures_pass (only officer estimates or a 技术领域 not entered yet stand between) · failed ·
    missing."""
    if result.eligible:
        return "eligible"
    if result.figures_pass:
        return "figures_pass"
    return "failed" if result.failed else "missing"


VERDICT_LABELS = {
    "eligible": N_("符合"), "figures_pass": N_("数据条件符合，估计项待定"), "failed": N_("不符合"), "missing": N_("数据不全"),
}


@dataclass
class CompanyEligibility:
    year: int
    on: date
    standing: Standing
    results: dict[str, KindResult]
    params: GazelleParams

    def kinds_to_climb(self, certs: Iterable[Any]) -> list[tuple[str, bool]]:
        """(kind, re-application?) for each rung above the standing, and for a held rung that lapses before
        31 December of the year (e.g. a 高企 certificate expiring that year)."""
        certs = list(certs)
        rank = RUNGS.index(self.standing.rung)
        out = []
        for kind in KINDS:
            held = any(c.kind == kind and in_force_on(c, self.on) for c in certs)
            if not holds_through(certs, kind, self.year) and (held or RUNGS.index(kind) < rank):
                out.append((kind, held))
        return out


def eligibility_for(company: Company, year: int, today: date) -> CompanyEligibility:
    """Standing and the three checks for one company applying in `year` (at most four queries)."""
    on, params = application_date(year, today), gazelle_params()
    facts = company_facts(company, year, on, params)
    standing = standing_of(company, on)
    return CompanyEligibility(year, on, standing, {k: check_kind(k, facts, year, on, params) for k in KINDS}, params)


def eligibility_json(company: Company, year: int, today: date) -> dict:
    """`companies eligibility USCC --json` (INTERFACES.md)."""
    e = eligibility_for(company, year, today)
    return {"uscc": company.uscc, "name": company.name, "year": year, "standing": e.standing.rung,
            **{k: e.results[k].to_dict() for k in KINDS}}


def rederive_gazelle_windows(validity_years: int) -> int:
    """After the 瞪羚 validity changed (DOMAIN §4, configurable): recompute valid_until of every recognition without
    a stated expiry, in one UPDATE per recognition year. Returns the number of recognitions updated."""
    without_expiry = and_(Certification.kind == GAZELLE, Certification.expires_on.is_(None))
    updated = 0
    for year in db.session.scalars(select(Certification.year).where(without_expiry).distinct()).all():
        until = validity_window(GAZELLE, year, None, None, validity_years)[1]
        updated += db.session.execute(
            update(Certification).where(without_expiry, Certification.year == year).values(valid_until=until)
            .execution_options(synchronize_session=False)).rowcount
    return updated
