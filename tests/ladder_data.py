"""Designed ladder data for the tests: companies whose figures pass a kind exactly, and the ways they stop passing.

YEAR is the application year; its fiscal years are YEAR − 3 … YEAR − 1 and the application date is 31 December of
YEAR (a year gone), so nothing here depends on the day the tests run.
"""
from datetime import date
from decimal import Decimal as D

from crm.extensions import db
from crm.models import Application, CompanyYear, Pool, PoolMember, Round

YEAR = 2024
FY = YEAR - 1
DECLARED = dict(founded_on=date(2015, 1, 1), tech_field="电子信息", restricted_industry=False, integrity_ok=True,
                no_major_accident=True, national_award=False, provincial_rd_institution=False, led_standard=False)


def passing_figures(year: int, **kw) -> dict:
    """A fiscal year passing 科小 (score 70: tech staff 30% → 20, R&D 6% of revenue → 50, no IP → 0) and 高企
    (R&D 6%, all in China, high-tech revenue 75%, IP 1 + 5); revenue grows 20% a year from 1,000 万元 in YEAR − 3
    (瞪羚: exactly the 20% compound growth)."""
    revenue = D(1000) * D("1.2") ** (year - (YEAR - 3))
    values = dict(employees=100, tech_staff=30, revenue=revenue.quantize(D("0.01")), rd_expense=D(60) * revenue / 1000,
                  rd_domestic=D(60) * revenue / 1000, total_cost=D(900), total_assets=D(1000), net_assets=D(500),
                  high_tech_revenue=D(750) * revenue / 1000, ip_class1=1, ip_class2=5,
                  est_ip_other=10, est_conversion=10, est_rd_management=10)
    values.update(kw)
    return {k: v.quantize(D("0.01")) if isinstance(v, D) else v for k, v in values.items()}


def figures(company, year: int, **kw) -> CompanyYear:
    """The passing_figures() of `year` for `company`, saved."""
    row = CompanyYear(company_id=company.id, year=year, **passing_figures(year, **kw))
    db.session.add(row)
    db.session.commit()
    return row


def passing(make, name: str, district: str = "511702", years=(FY,), last: dict | None = None, **kw):
    """A company whose declarations are filled in and whose figures for `years` pass; `last` overrides YEAR − 1."""
    company = make.company(name=name, district=district, **{**DECLARED, **kw})
    for year in years:
        figures(company, year, **((last or {}) if year == FY else {}))
    return company


def pool(kind: str, year: int = YEAR, name: str | None = None) -> Pool:
    p = Pool(kind=kind, year=year, name=name or f"{year}年{kind}培育库")
    db.session.add(p)
    db.session.commit()
    return p


def pool_member(p: Pool, company) -> None:
    db.session.add(PoolMember(pool_id=p.id, company_id=company.id))
    db.session.commit()


def apply(company, kind: str, stage: str = "intent", year: int = YEAR) -> Application:
    rnd = db.session.scalar(db.select(Round).where(Round.kind == kind, Round.year == year))
    if rnd is None:
        rnd = Round(kind=kind, year=year, name=f"{year}年{kind}", opens_on=date(year, 6, 30), closes_on=date(year, 9, 30))
        db.session.add(rnd)
        db.session.flush()
    application = Application(company_id=company.id, round_id=rnd.id, stage=stage)
    db.session.add(application)
    db.session.commit()
    return application
