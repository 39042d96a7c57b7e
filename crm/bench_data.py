"""Synthetic province-scale data for scripts/bench: N companies with certifications 2019–this year,
three years of figures, visits and follow-ups (about one a company a year), rounds, applications and pools.

Written with bulk Core inserts in chunks, so 100,000 companies load in about a minute.
"""
import io
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text

from crm.demo import CHARSET
from crm.extensions import db
from crm.ladder.standing import validity_window
from crm.models import (Application, Area, Certification, Company, CompanyYear, FollowUp, Pool, PoolMember, Round,
                        User, Visit)
from crm.normalize import name_sort_key, uscc_check_char
from crm.scheduler.service import refresh_planner_statistics

CHUNK = 5000
OFFICERS_PER_AREA = 3
BENCH_PASSWORD = "bench-password-1"


def _chunks(rows, size=CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _insert(model, rows) -> None:
    for chunk in _chunks(rows):
        db.session.execute(insert(model), chunk)


def generate(n: int, this_year: int, seed: int = 7) -> dict:
    """Fill an empty, migrated database; returns ids useful to the measurements."""
    rng = random.Random(seed)
    areas = list(db.session.scalars(select(Area).order_by(Area.id)))
    districts = [a for a in areas if a.kind == "district"]
    parks = [a for a in areas if a.kind == "park"]

    admin = User(username="bench-admin", email="admin@bench.local", role="admin", session_version=0)
    admin.set_password(BENCH_PASSWORD)
    db.session.add(admin)
    officers = []
    for area in areas:
        for k in range(OFFICERS_PER_AREA):
            officer = User(username=f"bench-{area.id}-{k}", email=f"o{area.id}{k}@bench.local", role="officer",
                           display_name=f"干部{area.id}-{k}", session_version=0)
            officer.password_hash = admin.password_hash  # hashing thousands of times would dominate set-up
            officer.areas = [area]
            officers.append(officer)
    db.session.add_all(officers)
    db.session.flush()
    by_area = {}
    for officer in officers:
        by_area.setdefault(officer.areas[0].id, []).append(officer.id)

    first_id = (db.session.scalar(select(db.func.max(Company.id))) or 0) + 1
    companies, years, certs, visits, follow_ups = [], [], [], [], []
    seen = set()
    for i in range(n):
        cid = first_id + i
        district = districts[i % len(districts)]
        park = parks[i % len(parks)] if i % 5 == 0 else None
        while True:
            body = "91" + district.code + "".join(rng.choice(CHARSET) for _ in range(9))
            if body not in seen:
                seen.add(body)
                break
        officer_id = rng.choice(by_area[(park or district).id])
        companies.append({
            "id": cid, "uscc": body + uscc_check_char(body), "name": f"基准测试{i:06d}科技有限公司",
            "name_sort": name_sort_key(f"基准测试{i:06d}科技有限公司"),
            "district_id": district.id, "park_id": park.id if park else None, "industry": "电子信息",
            "founded_on": date(rng.randint(2000, this_year - 2), rng.randint(1, 12), rng.randint(1, 28)),
            "officer_id": officer_id, "tech_field": "电子信息", "restricted_industry": False, "integrity_ok": True,
            "no_major_accident": True, "uscc_check_waived": False, "version": 1,
        })
        revenue = Decimal(rng.randint(200, 30000))
        for year in range(this_year - 3, this_year):
            revenue = (revenue * Decimal("1.15")).quantize(Decimal("0.01"))
            rd = (revenue * Decimal(rng.choice(["0.02", "0.04", "0.06"]))).quantize(Decimal("0.01"))
            years.append({"company_id": cid, "year": year, "employees": rng.randint(10, 600),
                          "tech_staff": rng.randint(1, 9), "revenue": revenue, "rd_expense": rd, "rd_domestic": rd,
                          "total_cost": revenue * Decimal("0.8"), "total_assets": revenue * Decimal("1.1"),
                          "net_assets": revenue * Decimal("0.5"), "high_tech_revenue": revenue * Decimal("0.7"),
                          "ip_class1": rng.randint(0, 2), "ip_class2": rng.randint(0, 6)})
        roll = rng.random()
        if roll < 0.5:
            for year in range(max(2019, this_year - rng.randint(0, 4)), this_year + 1):
                certs.append(_cert(cid, "tech_sme", year, date(year, 6, 1) if rng.random() < 0.8 else None))
        if roll < 0.3:
            issued = date(rng.randint(2019, this_year - 1), rng.randint(1, 12), rng.randint(1, 28))
            certs.append(_cert(cid, "hnte", None, issued, status="revoked" if rng.random() < 0.02 else "valid"))
        if roll < 0.02:
            certs.append(_cert(cid, "gazelle", this_year - rng.randint(0, 2), None))
        visited = date(this_year, 1, 1) + timedelta(days=rng.randint(0, 300))
        visits.append({"company_id": cid, "visited_on": visited, "kind": "onsite", "officer_id": officer_id,
                       "summary": "了解研发投入和申报意向", "company_people": "", "needs_detail": ""})
        if i % 2 == 0:
            follow_ups.append({"company_id": cid, "title": "协助准备申报材料", "owner_id": officer_id,
                               "due_on": visited + timedelta(days=rng.randint(7, 90)), "done_note": ""})

    postgres = db.session.get_bind().dialect.name == "postgresql"
    _insert(Company, companies)
    if postgres:  # the ids were given: move the sequence past them
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('company', 'id'), max(id)) FROM company"))
    _insert(CompanyYear, years)
    _insert(Certification, certs)
    _insert(Visit, visits)
    _insert(FollowUp, follow_ups)

    rounds = {kind: Round(kind=kind, year=this_year, name=f"{this_year}年{kind}申报", opens_on=date(this_year, 3, 1),
                          closes_on=busy_day(this_year) + timedelta(days=1)) for kind in ("tech_sme", "hnte")}
    pool = Pool(kind="hnte", year=this_year, name=f"{this_year}年高企培育库")
    db.session.add_all([*rounds.values(), pool])
    db.session.flush()
    stages = ("intent", "coaching", "preparing", "submitted", "publicised")
    _insert(Application, [{"company_id": c["id"], "round_id": rounds["hnte"].id, "officer_id": c["officer_id"],
                           "stage": rng.choice(stages), "reason": ""} for c in companies[::20]])
    _insert(PoolMember, [{"pool_id": pool.id, "company_id": c["id"]} for c in companies[::10]])
    db.session.commit()
    refresh_planner_statistics()  # as the nightly housekeeping would (and autovacuum within a minute on PostgreSQL)
    db.session.commit()
    busiest, _n = Counter(c["officer_id"] for c in companies).most_common(1)[0]
    return {"admin": admin.username, "admin_id": admin.id, "officer": db.session.get(User, busiest).username,
            "officer_id": busiest,
            "company_id": companies[len(companies) // 2]["id"], "round_id": rounds["hnte"].id,
            "district_id": districts[0].id}


def busy_day(this_year: int) -> date:
    """The eve of the year's rounds closing: round deadlines, 高企 expiries within 180 days and follow-ups due
    within 3 days all fire on it (the reminders measurement)."""
    return date(this_year, 9, 29)


def _cert(company_id, kind, year, issued_on, status="valid") -> dict:
    valid_from, valid_until = validity_window(kind, year, issued_on, None)
    number = f"GR{issued_on.year}51{company_id:07d}" if kind == "hnte" else f"{year}51{company_id:08d}"
    return {"company_id": company_id, "kind": kind, "year": year, "issued_on": issued_on, "number": number,
            "status": status, "valid_from": valid_from, "valid_until": valid_until, "source": "bench"}


IMPORT_PREFIX = "92"  # import codes never collide with the generated register's "91…" codes


def import_workbook(n: int, this_year: int, seed: int = 11) -> bytes:
    """An import workbook (DOMAIN §8) of `n` new companies as a bureau would send it: a 科小 registration each,
    a 高企 certificate for about a third, three years of figures; dates as officers type them. Every company was
    founded before its certificates were issued (the import refuses the opposite)."""
    from openpyxl import Workbook

    from crm.transfer.schema import SHEETS

    rng = random.Random(seed)
    districts = list(db.session.scalars(select(Area.name).where(Area.kind == "district").order_by(Area.id)))
    wb = Workbook(write_only=True)
    sheets = {spec.key: wb.create_sheet(spec.title) for spec in SHEETS}
    for spec in SHEETS:
        sheets[spec.key].append([f.header for f in spec.fields])
    for i in range(n):
        body = f"{IMPORT_PREFIX}5117{i % 7:02d}{i:09d}"
        code = body + uscc_check_char(body)
        sheets["companies"].append([f"达州导入企业{i:06d}有限公司", code, districts[i % len(districts)], "", "电子信息",
                                    f"{rng.randint(2005, this_year - 3)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
                                    "刘经理", f"139{rng.randint(10000000, 99999999)}", "", ""])
        sheets["certifications"].append([code, "科技型中小企业", f"{this_year - 1}51{i:08d}", this_year - 1, "", "", "有效"])
        if rng.random() < 0.3:
            sheets["certifications"].append([code, "高新技术企业", f"GR{this_year - 2}51{i:08d}", "",
                                             f"{this_year - 2}-11-20", "", "有效"])
        for year in range(this_year - 3, this_year):
            employees = rng.randint(10, 400)
            sheets["figures"].append([code, year, employees, rng.randint(1, employees), rng.randint(100, 20000),
                                      rng.randint(5, 900), "", rng.randint(80, 18000), rng.randint(100, 30000),
                                      rng.randint(50, 15000), "", rng.randint(0, 3), rng.randint(0, 20)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
