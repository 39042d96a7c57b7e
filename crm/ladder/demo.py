"""Demo data for the ladder: declarations, officer estimates and a few gaps, so that the company pages, pools and
shortlists show every verdict (符合, 不符合, 数据不全) and every reason (培育库, 条件符合)."""
import random
from decimal import Decimal

from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.models import Company, CompanyYear, Pool, PoolMember


def seed(rng: random.Random) -> None:
    year = today().year
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    latest = {y.company_id: y for y in db.session.scalars(select(CompanyYear).where(CompanyYear.year == year - 1))}
    _size_sme_pool_like_smes(rng, year)
    for company in companies:
        roll = rng.random()
        # Most declarations are filled in; a few companies are still waiting for the officer's visit.
        company.national_award = rng.random() < 0.03
        company.provincial_rd_institution = rng.random() < 0.08
        company.led_standard = rng.random() < 0.05
        if roll < 0.06:
            company.integrity_ok = None
        elif roll < 0.09:
            company.restricted_industry = True
        fig = latest.get(company.id)
        if fig is None:
            continue
        if rng.random() < 0.8:  # the officer's estimates of the 高企 innovation parts (DOMAIN §3.1.7)
            fig.est_ip_other, fig.est_conversion, fig.est_rd_management = (
                rng.randint(10, 22), rng.randint(12, 30), rng.randint(8, 20))
        if 0.09 <= roll < 0.15:  # a figure not yet collected
            setattr(fig, rng.choice(["total_assets", "high_tech_revenue", "ip_class2", "rd_domestic"]), None)
    gazelle_pool = Pool(kind="gazelle", year=year, name=f"{year}年瞪羚企业培育库")
    db.session.add(gazelle_pool)
    fast_growers = [c for c in companies if c.id in latest and latest[c.id].revenue and latest[c.id].revenue > 3000]
    for company in rng.sample(fast_growers, min(5, len(fast_growers))):
        db.session.add(PoolMember(pool=gazelle_pool, company=company))


def _size_sme_pool_like_smes(rng: random.Random, year: int) -> None:
    """Companies an officer puts in a 科小 pool are small: bring most of them within the size limits (DOMAIN §2.1)."""
    pooled = select(PoolMember.company_id).join(Pool).where(Pool.kind == "tech_sme", Pool.year == year)
    rows = db.session.scalars(select(CompanyYear).where(CompanyYear.company_id.in_(pooled))).all()
    by_company: dict[int, list[CompanyYear]] = {}
    for row in rows:
        by_company.setdefault(row.company_id, []).append(row)
    for years in by_company.values():
        if rng.random() < 0.2:
            continue  # a few stay too large: the pool page shows why they fail
        largest = max(max(y.revenue or 0, y.total_assets or 0) for y in years)
        factor = Decimal(rng.randint(800, 15000)) / largest if largest > 15000 else Decimal(1)
        staff = rng.randint(30, 450)
        for y in years:
            for name in ("revenue", "rd_expense", "rd_domestic", "total_cost", "total_assets", "net_assets",
                         "high_tech_revenue"):
                value = getattr(y, name)
                if value is not None:
                    setattr(y, name, (value * factor).quantize(Decimal("0.01")))
            if y.employees and y.employees > staff:
                y.tech_staff, y.employees = (y.tech_staff or 0) * staff // y.employees, staff
