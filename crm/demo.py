"""A realistic demo data set: officers across 达州's districts, ~300 companies, certifications 2019–now."""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from crm.audit import acting_as
from crm.clock import today
from crm.extensions import db
from crm.models import Area, Certification, Company, CompanyYear, Pool, PoolMember, User
from crm.models.area import DISTRICT, PARK
from crm.normalize import uscc_check_char
from crm.users.service import create_user, user_named

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DEMO_PASSWORD = "ladder-demo"
ADMIN = ("admin", "admin", "管理员")  # username, role, display name
USERS = [  # username, role, display name, areas
    ("zhangwei", "officer", "张伟", ["511702", "达州高新区"]),
    ("liping", "officer", "李萍", ["511703", "511722"]),
    ("wangjun", "officer", "王军", ["511724", "511725"]),
    ("chenxia", "officer", "陈霞", ["511723", "511781", "达州东部经开区"]),
    ("leader", "viewer", "局领导", []),
]
PREFIXES = ["川东", "巴山", "达州", "秦巴", "州河", "凤凰山", "莲湖", "明月", "渠江", "铜钵河", "罗家坝", "万源"]
CORES = ["智能", "新材", "生物", "能源", "电子", "环保", "精密", "数控", "天然气化工", "农业科技", "信息", "医药"]
SUFFIXES = ["科技有限公司", "股份有限公司", "技术有限公司", "实业有限公司", "制造有限公司"]
INDUSTRIES = ["电子信息", "新材料", "生物与新医药", "先进制造与自动化", "新能源与节能", "资源与环境", "高技术服务"]


def demo_uscc(rng: random.Random, district_code: str) -> str:
    body = "91" + district_code + "".join(rng.choice(CHARSET) for _ in range(9))
    return body + uscc_check_char(body)


def seed(n_companies: int = 300, seed_value: int = 20231) -> str:
    if db.session.scalar(select(func.count()).select_from(Company)):
        return "demo data already present; nothing changed"
    rng = random.Random(seed_value)
    this_year = today().year
    with acting_as(None, "demo"):
        admin = _user(*ADMIN, [])
        officers = [user for user in (_user(*u) for u in USERS) if user.role == "officer"]
        db.session.flush()
        districts = list(db.session.scalars(select(Area).where(Area.kind == DISTRICT)))
        parks = list(db.session.scalars(select(Area).where(Area.kind == PARK)))
        pools = {kind: Pool(kind=kind, year=this_year, name=f"{this_year}年{label}培育库")
                 for kind, label in (("tech_sme", "科小"), ("hnte", "高企"))}
        db.session.add_all(pools.values())
        names = set()
        for i in range(n_companies):
            district = districts[i % len(districts)]
            park = rng.choice(parks) if district.code in ("511702", "511703") and rng.random() < 0.5 else None
            head, suffix = rng.choice(PREFIXES) + rng.choice(CORES), rng.choice(SUFFIXES)
            name = head + suffix
            if name in names:  # the word lists give ~3,600 names; number the rest as registries do
                name = f"{head}{i}号{suffix}" if f"{district.name[:2]}{name}" in names else f"{district.name[:2]}{name}"
            names.add(name)
            covering = [o for o in officers if any(a.id in (district.id, park.id if park else -1) for a in o.areas)]
            company = Company(
                uscc=demo_uscc(rng, district.code), name=name, district=district, park=park,
                industry=rng.choice(INDUSTRIES), tech_field=rng.choice(INDUSTRIES),
                founded_on=date(rng.randint(2005, this_year - 1), rng.randint(1, 12), rng.randint(1, 28)),
                contact_name=rng.choice(["刘", "杨", "赵", "黄", "周", "吴"]) + rng.choice(["经理", "总", "主任"]),
                contact_phone=f"139{rng.randint(10000000, 99999999)}",
                officer=rng.choice(covering) if covering and rng.random() < 0.9 else None,
                restricted_industry=False, integrity_ok=True, no_major_accident=True,
            )
            db.session.add(company)
            _figures(rng, company, this_year)
            _certifications(rng, company, this_year)
            issued = [c.issued_on for c in company.certifications if c.issued_on]
            if issued and company.founded_on > min(issued) - timedelta(days=365):  # founded before it was certified
                company.founded_on = min(issued).replace(year=min(issued).year - 2)
            if rng.random() < 0.15:
                db.session.add(PoolMember(pool=pools[rng.choice(["tech_sme", "hnte"])], company=company))
        from crm import capability_modules

        for module in capability_modules("demo"):  # visits, rounds, targets ... add their own data
            module.seed(rng)
    db.session.commit()  # all of it or, when anything fails, none: a second run then starts afresh
    login = f"{admin.username} / {DEMO_PASSWORD}" if admin.check_password(DEMO_PASSWORD) else \
        f"{admin.username} (the password it was created with)"
    return f"seeded {n_companies} companies; log in as {login}"


def _user(username: str, role: str, display_name: str, areas: list[str]) -> User:
    """The demo user, or the one of that name an operator created before seeding (its password is kept)."""
    return user_named(username) or create_user(username, role, f"{username}@ladder.local", DEMO_PASSWORD, areas,
                                               display_name)


def _figures(rng: random.Random, company: Company, this_year: int) -> None:
    revenue = Decimal(rng.randint(300, 30000))
    employees = rng.randint(15, 600)
    for year in range(this_year - 3, this_year):
        revenue = (revenue * Decimal(str(rng.uniform(0.95, 1.4)))).quantize(Decimal("0.01"))
        rd = (revenue * Decimal(str(rng.uniform(0.01, 0.09)))).quantize(Decimal("0.01"))
        company.years.append(CompanyYear(
            year=year, employees=employees, tech_staff=int(employees * rng.uniform(0.05, 0.45)),
            revenue=revenue, rd_expense=rd, rd_domestic=rd, total_cost=(revenue * Decimal("0.8")).quantize(Decimal("0.01")),
            total_assets=(revenue * Decimal("1.2")).quantize(Decimal("0.01")),
            net_assets=(revenue * Decimal("0.5")).quantize(Decimal("0.01")),
            high_tech_revenue=(revenue * Decimal(str(rng.uniform(0.3, 0.9)))).quantize(Decimal("0.01")),
            ip_class1=rng.choice([0, 0, 1, 2]), ip_class2=rng.randint(0, 8),
        ))


def _certifications(rng: random.Random, company: Company, this_year: int) -> None:
    roll = rng.random()
    if roll < 0.45:  # tech SMEs registered for a run of recent years
        first = rng.randint(2019, this_year)
        for year in range(first, this_year + 1):
            if rng.random() < 0.85:
                issued = date(year, rng.randint(5, 10), rng.randint(1, 28))
                if issued <= today():
                    company.certifications.append(Certification(
                        kind="tech_sme", year=year, issued_on=issued,
                        number=f"{year}5117{rng.randint(10, 99)}A{rng.randint(1000, 9999)}"))
    if roll < 0.35:  # high-tech enterprises, some renewed
        issued = date(rng.randint(2019, this_year), rng.choice([4, 10, 11, 12]), rng.randint(1, 28))
        while issued <= today():
            company.certifications.append(Certification(
                kind="hnte", issued_on=issued, number=f"GR{issued.year}510{rng.randint(10000, 99999)}"))
            issued = date(issued.year + 3, issued.month, issued.day) + timedelta(days=rng.randint(-20, 20))
            if rng.random() < 0.3:
                break
    if roll < 0.03:
        year = rng.randint(this_year - 2, this_year)
        company.certifications.append(Certification(kind="gazelle", year=year, number=f"DL{year}{rng.randint(100, 999)}"))
