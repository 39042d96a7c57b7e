"""Standing on a date, derived from dated certifications (DOMAIN §1, §2.4, §3.2, §4)."""
from datetime import date, datetime

import pytest

from crm.extensions import db
from crm.ladder.queries import standing_clause, standing_of, standings_for
from crm.ladder.standing import validity_window
from crm.models import Company, Pool, PoolMember
from crm.settings import set_setting
from tests.conftest import d


def standing(company, on):
    return standings_for([company.id], d(on))[company.id]


def test_hnte_valid_three_years_from_issue_through_the_day_before():
    assert validity_window("hnte", None, d("2020-12-03"), None) == (d("2020-12-03"), d("2023-12-02"))


def test_hnte_stated_expiry_wins():
    assert validity_window("hnte", None, d("2020-12-03"), d("2023-06-30"))[1] == d("2023-06-30")


def test_hnte_issued_on_29_february_valid_through_28_february():
    assert validity_window("hnte", None, d("2024-02-29"), None)[1] == d("2027-02-28")


def test_tech_sme_registration_holds_for_its_calendar_year_whenever_issued():
    assert validity_window("tech_sme", 2024, None, None) == (d("2024-01-01"), d("2024-12-31"))
    assert validity_window("tech_sme", 2024, d("2024-07-15"), None) == (d("2024-01-01"), d("2024-12-31"))


def test_tech_sme_registration_lapses_on_31_december_whatever_expiry_was_typed():
    assert validity_window("tech_sme", 2025, date(2025, 6, 1), date(2027, 6, 30)) == (date(2025, 1, 1), date(2025, 12, 31))


def test_gazelle_recognition_year_and_two_following():
    assert validity_window("gazelle", 2023, None, None) == (d("2023-01-01"), d("2025-12-31"))
    assert validity_window("gazelle", 2023, d("2023-08-08"), None) == (d("2023-01-01"), d("2025-12-31"))


def test_hnte_without_issue_date_is_refused():
    with pytest.raises(ValueError):
        validity_window("hnte", None, None, None)


def test_hnte_boundary_2023_12_02_valid_2023_12_03_not(make):
    company = make.company()
    make.cert(company, "hnte", issued_on=d("2020-12-03"), number="GR202051000123")
    assert standing(company, "2020-12-02").rung == "none"
    assert standing(company, "2020-12-03").rung == "hnte"
    on_last_day = standing(company, "2023-12-02")
    assert on_last_day.rung == "hnte"
    assert "GR202051000123" in on_last_day.reason and "2023-12-02" in on_last_day.reason
    assert standing(company, "2023-12-03").rung == "none"


def test_revoked_certificate_never_counts(make):
    company = make.company()
    make.cert(company, "hnte", issued_on=d("2022-01-10"), status="revoked")
    assert standing(company, "2023-01-01").rung == "none"


def test_tech_sme_only_in_its_year(make):
    """§1: a registration for 2024 holds on every day of 2024, even before the day it was issued."""
    company = make.company()
    make.cert(company, "tech_sme", year=2024, issued_on=d("2024-06-01"))
    assert standing(company, "2023-12-31").rung == "none"
    assert standing(company, "2024-01-01").rung == "tech_sme"
    assert standing(company, "2024-05-31").rung == "tech_sme"
    assert standing(company, "2024-12-31").rung == "tech_sme"
    assert standing(company, "2025-01-01").rung == "none"


def test_highest_rung_wins(make):
    company = make.company()
    make.cert(company, "tech_sme", year=2024)
    make.cert(company, "hnte", issued_on=d("2023-11-01"))
    assert standing(company, "2024-03-01").rung == "hnte"
    make.cert(company, "gazelle", year=2024)
    assert standing(company, "2024-03-01").rung == "gazelle"


def test_pool_member_without_certification_is_incubating(make):
    company = make.company()
    pool = Pool(kind="tech_sme", year=2024, name="2024年科小培育库", created_at=datetime(2023, 11, 15, 2))
    db.session.add_all([pool, PoolMember(pool=pool, company=company)])
    db.session.commit()
    assert standing(company, "2024-05-01").rung == "incubating"
    assert standing(company, "2023-11-20").rung == "incubating"  # made ahead for next year: cultivates already
    assert standing(company, "2023-11-14").rung == "none"  # but not before it was made
    assert standing(company, "2025-01-01").rung == "none"  # its year gone
    assert [standing_of(company, d(on)).rung for on in ("2023-11-14", "2023-11-20", "2025-01-01")] == [
        "none", "incubating", "none"]
    pool.created_at = datetime(2023, 11, 14, 23, 30)  # UTC: 07:30 on 15 November in 达州
    db.session.commit()
    assert [standing(company, on).rung for on in ("2023-11-14", "2023-11-15")] == ["none", "incubating"]
    db.session.expire_all()
    assert [standing_of(company, d(on)).rung for on in ("2023-11-14", "2023-11-15")] == ["none", "incubating"]


def test_gazelle_validity_is_configurable_and_rewritten_on_save(make):
    set_setting("gazelle", {"require_hnte": True, "min_base_revenue": "1000", "min_cagr": "0.20", "years": 3,
                            "validity_years": 2})
    db.session.commit()
    company = make.company()
    cert = make.cert(company, "gazelle", year=2023)
    assert cert.valid_until == d("2024-12-31")


@pytest.mark.parametrize("on", ["2023-12-02", "2023-12-03", "2024-06-01", "2021-01-01", "2025-01-01", "2023-11-14"])
def test_sql_standing_filter_agrees_with_python_rule(make, on):
    """The list filter (SQL) and the company page (Python) must never disagree."""
    companies = [make.company() for _ in range(5)]
    make.cert(companies[0], "hnte", issued_on=d("2020-12-03"))
    make.cert(companies[1], "tech_sme", year=2024)
    make.cert(companies[2], "gazelle", year=2023)
    make.cert(companies[2], "hnte", issued_on=d("2021-12-01"))
    make.cert(companies[3], "hnte", issued_on=d("2021-05-01"), status="revoked")
    pool = Pool(kind="hnte", year=2024, name="p", created_at=datetime(2023, 11, 15, 2))  # made ahead
    db.session.add_all([pool, PoolMember(pool=pool, company=companies[4])])
    db.session.commit()
    expected = {c.id: standing_of(c, d(on)).rung for c in companies}
    for rung in ("gazelle", "hnte", "tech_sme", "incubating", "none"):
        ids = set(db.session.scalars(db.select(Company.id).where(standing_clause(rung, date.fromisoformat(on)))))
        assert ids == {cid for cid, r in expected.items() if r == rung}, rung


def test_standings_for_many_companies_writes_their_ids_into_the_statement(make, count_queries):
    """Thousands of ids (a shortlist chunk) are written into the SQL, not bound one by one (psycopg converts
    each bound parameter of a long statement anew: 25 ms for 2,000); the answer is the same."""
    held, bare = make.company(), make.company()
    make.cert(held, "hnte", issued_on=d("2022-01-10"))
    db.session.commit()
    ids = [held.id, bare.id, *range(10**6, 10**6 + 2500)]
    with count_queries() as q:
        standings = standings_for(ids, d("2023-06-01"))
    assert (standings[held.id].rung, standings[bare.id].rung, standings[10**6].rung) == ("hnte", "none", "none")
    assert len(standings) == len(ids)
    assert q.count == 2
    for statement in q.statements:
        assert f"{held.id}, {bare.id}, 1000000, 1000001" in statement
        assert statement.count("?") + statement.count("%(") < 10
