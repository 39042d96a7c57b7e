"""The SQL prefilter of the shortlist (service.figures_may_pass_clause) against the rule engine, on the real database:
it may keep companies that fail, but must never drop one whose figures pass (DOMAIN §2, §3, §4, §9)."""
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, select

from crm.extensions import db
from crm.ladder.eligibility import GazelleParams
from crm.ladder.service import check_kind, figures_may_pass_clause, load_facts
from crm.models import Certification, Company, CompanyYear
from crm.models.certification import GAZELLE, HNTE, KINDS, TECH_SME
from tests.conftest import Factory
from tests.ladder_data import DECLARED, FY, YEAR, figures, passing, passing_figures

ON = date(YEAR, 1, 1)  # the application date of a past year (service.application_date)
YEARS = range(YEAR - 4, YEAR)
CENT = D("0.01")
PARAMS = st.builds(GazelleParams, require_hnte=st.booleans(), min_base_revenue=st.sampled_from([D(1000), D("999.99")]),
                   min_cagr=st.sampled_from([D(0), D("0.2"), D("0.35")]), years=st.sampled_from([1, 2, 3, 4]))


def around(value: D):
    """An exact edge, most often, or the amounts one fen either side."""
    return st.sampled_from([value, value, value - CENT, value + CENT])


def money_edge(field: str, fig: dict, base_revenue: D | None, growth: D):
    """Values on and next to the limits and ratio edges of `field`, given the year's other figures. 13,654.25 is a
    revenue whose 60 % a float comparison puts just below the edge."""
    revenue, rd = fig["revenue"] or D(0), fig["rd_expense"] or D(0)
    edges = {
        "revenue": st.one_of(st.sampled_from([D(0), D(20000), D("20000.01"), D("13654.25"), D(5000), D("5000.01")]),
                             around((base_revenue * growth).quantize(CENT)) if base_revenue else st.nothing()),
        "high_tech_revenue": around((revenue * D("0.6")).quantize(CENT)),
        "rd_expense": st.sampled_from([D("0.03"), D("0.04"), D("0.05")]).flatmap(
            lambda pct: around((revenue * pct).quantize(CENT))),
        "rd_domestic": around((rd * D("0.6")).quantize(CENT)),
        "total_cost": around(rd * 10), "net_assets": st.just(D(-1)),
        "total_assets": st.sampled_from([D(20000), D("20000.01")]),
        "employees": st.sampled_from([0, 1, 300, 500, 501]),
        "tech_staff": st.sampled_from([(fig["employees"] or 0) // 10 + k for k in (0, -1, 1)]),
        "ip_class1": st.just(0), "ip_class2": st.just(0),
        "est_ip_other": st.just(0), "est_conversion": st.just(0), "est_rd_management": st.just(0),
    }[field]
    return st.one_of(edges, st.sampled_from([None, D(0) if isinstance(fig[field], D) else 0]))


@st.composite
def company(draw, params: GazelleParams) -> tuple[dict, dict[int, dict], bool]:
    """(declarations, figures by fiscal year, holds a 高企 certificate): a company passing every kind, with a few
    declarations and figures moved onto, next to or off their edges."""
    declarations = {**DECLARED}
    edges = {"founded_on": st.sampled_from([None, *(ON - timedelta(days=n) for n in (364, 365, 366))]),
             "tech_field": st.sampled_from([None, "新材料", "其他"]), **{
                 name: st.sampled_from([None, not DECLARED[name]]) for name in (
                     "restricted_industry", "integrity_ok", "no_major_accident", "national_award")}}
    for name in draw(st.lists(st.sampled_from(sorted(edges)), max_size=2, unique=True)):
        declarations[name] = draw(edges[name])
    growth = (1 + params.min_cagr) ** max(params.years - 1, 1)
    years = {}
    for year in YEARS:
        if year != FY and not draw(st.integers(0, 7)):  # now and then a year is not filed
            continue
        fig = passing_figures(year)
        base = years.get(YEAR - params.years, {}).get("revenue")
        changed = draw(st.lists(st.sampled_from(CompanyYear.FIGURES), max_size=4 if year == FY else 1, unique=True))
        for name in sorted(changed, key=CompanyYear.FIGURES.index):  # employees before tech staff, revenue before R&D
            fig[name] = draw(money_edge(name, fig, base if year == FY else None, growth))
        years[year] = fig
    return declarations, years, draw(st.integers(0, 3)) > 0


def _add(factory: Factory, declarations: dict, years: dict[int, dict], holds_hnte: bool) -> int:
    c = Company(uscc=factory.uscc(), name=f"企业{factory._next()}", district=factory.area("511702"), **declarations)
    db.session.add(c)
    db.session.flush()
    db.session.add_all(CompanyYear(company_id=c.id, year=y, **values) for y, values in years.items())
    if holds_hnte:
        db.session.add(Certification(company=c, kind=HNTE, issued_on=date(YEAR - 2, 6, 1)))
    return c.id


def _passing_and_kept(ids: list[int], params: GazelleParams) -> dict[str, tuple[set, set]]:
    """kind → (companies whose figures pass by the engine, companies the prefilter keeps)."""
    companies = db.session.scalars(select(Company).where(Company.id.in_(ids))).all()
    facts = load_facts(companies, YEAR, ON, params)
    return {kind: ({i for i in ids if check_kind(kind, facts[i], YEAR, ON, params).figures_pass},
                   set(db.session.scalars(select(Company.id).where(
                       Company.id.in_(ids), figures_may_pass_clause(kind, YEAR, ON, params)))))
            for kind in KINDS}


@settings(database=None, deadline=None, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_prefilter_never_drops_a_company_whose_figures_pass(data):
    params = data.draw(PARAMS)
    factory = Factory()
    try:
        ids = [_add(factory, *data.draw(company(params))) for _ in range(data.draw(st.integers(1, 6)))]
        db.session.commit()
        for kind, (passing_, kept) in _passing_and_kept(ids, params).items():
            assert passing_ <= kept, kind
    finally:
        db.session.rollback()
        for model in (Certification, CompanyYear, Company):
            db.session.execute(delete(model))
        db.session.commit()


def test_companies_exactly_on_every_edge_pass_and_are_kept(make):
    """10.00 % tech staff, 60.00 % high-tech revenue, 365 days registered, 500 employees, 20,000 万元 assets, growth
    exactly 35 % a year. The amounts are ones whose ratio a float comparison puts just below the edge (SQLite holds
    them as floats)."""
    edges = dict(employees=500, tech_staff=50, revenue=D("13654.25"), high_tech_revenue=D("8192.55"),
                 total_assets=D("20000.00"), rd_expense=D(700), rd_domestic=D(700))
    hnte = passing(make, "高企边界", last=edges, founded_on=ON - timedelta(days=365))
    sme = passing(make, "科小边界", last=edges, founded_on=ON)
    gazelle = make.company(name="瞪羚边界", **DECLARED)
    for year, revenue in ((YEAR - 3, D(1124)), (FY, D("2048.49"))):  # 1,124 × 1.35² = 2,048.49
        figures(gazelle, year, revenue=revenue)
    make.cert(gazelle, HNTE, issued_on=date(YEAR - 2, 6, 1))
    result = _passing_and_kept([hnte.id, sme.id, gazelle.id], GazelleParams(min_cagr=D("0.35")))
    assert {(kind, i) for kind, i in ((HNTE, hnte.id), (TECH_SME, sme.id), (GAZELLE, gazelle.id))
            if i in result[kind][0]} == {(HNTE, hnte.id), (TECH_SME, sme.id), (GAZELLE, gazelle.id)}
    assert all(passing_ <= kept for passing_, kept in result.values())


def test_the_prefilter_drops_companies_that_cannot_pass(make):
    other_field = passing(make, "非八大领域", tech_field="其他")
    too_big = passing(make, "超规模", last={"employees": 501, "tech_staff": 160})
    no_base_year = passing(make, "缺基期")
    make.cert(no_base_year, HNTE, issued_on=date(YEAR - 2, 6, 1))
    kept = {kind: k for kind, (_, k) in _passing_and_kept([other_field.id, too_big.id, no_base_year.id],
                                                          GazelleParams()).items()}
    assert kept == {TECH_SME: {other_field.id, no_base_year.id}, HNTE: {too_big.id, no_base_year.id}, GAZELLE: set()}
