"""scripts/loadtest against a served Ladder: logged-in users, every kind of page, errors reported."""
import pytest

from crm.loadtest import run
from tests.conftest import PASSWORD


def test_the_load_test_browses_every_kind_of_page_logged_in(live_server, make):
    admin = make.user("admin")
    companies = [make.company().id for _ in range(3)]
    report = run(live_server, admin.username, PASSWORD, users=2, seconds=2, company_ids=companies)
    assert report.errors == []
    assert set(report.latencies) == {"company list", "company page", "dashboard"}
    assert report.lines()[0].startswith(f"2 users, 2 s: {report.requests} requests")


def test_a_missing_page_counts_as_an_error(live_server, make):
    admin = make.user("admin")
    report = run(live_server, admin.username, PASSWORD, users=1, seconds=2, company_ids=[999_999])
    assert "company page" not in report.latencies
    assert any("/companies/999999" in e and "404" in e for e in report.errors)


def test_only_this_machine_is_a_target():
    with pytest.raises(ValueError):
        run("http://example.org", "admin", "x", users=1, seconds=1, company_ids=[1])
