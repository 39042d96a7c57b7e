"""The dashboard's figures are cached between requests and never outlive the data they came from."""
import pytest
from sqlalchemy import insert

from crm.extensions import db
from crm.figures_cache import data_version
from crm.models import Certification, Visit
from crm.targets.service import set_target
from tests.conftest import d
from tests.test_dashboard import numbers

PAGE = "/dashboard?year=2023&as_of=2023-12-31"


def valid_hnte(client, area="city"):
    found = numbers(client.get(PAGE).get_data(as_text=True)).found
    return found[(area, "hnte_valid")][0][0]


@pytest.fixture
def admin(client, auth, make):
    auth.login(make.user("admin"))


def test_a_repeated_request_reads_the_cached_figures(client, admin, make, count_queries):
    make.cert(make.company(), "hnte", issued_on=d("2022-03-01"), number="GR1")
    client.get("/companies/")  # the app's first connection runs the driver's set-up statements
    with count_queries() as first:
        html = client.get(PAGE).get_data(as_text=True)
    with count_queries() as second:
        again = client.get(PAGE).get_data(as_text=True)
    assert numbers(again).found == numbers(html).found and numbers(again).links == numbers(html).links
    assert second.count == first.count - 5  # the grouped counts, the trend and the three risk lists


def test_a_committed_change_from_any_connection_shows_at_once(client, admin, make):
    company = make.company()
    assert valid_hnte(client) == 0
    make.cert(company, "hnte", issued_on=d("2022-03-01"), number="GR1")  # the ORM, in the test's own app
    assert valid_hnte(client) == 1
    with db.engine.begin() as conn:  # plain Core, as the import writes
        conn.execute(insert(Certification.__table__).values(
            company_id=make.company().id, kind="hnte", issued_on=d("2023-01-05"), number="GR2", status="valid",
            valid_from=d("2023-01-05"), valid_until=d("2025-12-31")))
    assert valid_hnte(client) == 2
    assert "/ 250</span>" not in client.get(PAGE).get_data(as_text=True)
    set_target(2023, "hnte_valid", None, 250)
    db.session.commit()
    assert "/ 250</span>" in client.get(PAGE).get_data(as_text=True)


def test_the_version_moves_once_per_commit_of_a_watched_table_and_not_on_rollback(make):
    company = make.company()
    before = data_version()
    db.session.add(Certification(company=company, kind="hnte", issued_on=d("2022-03-01"), number="GR1"))
    db.session.flush()
    db.session.rollback()
    assert data_version() == before
    make.cert(company, "hnte", issued_on=d("2022-03-01"), number="GR1")
    assert data_version() == before + 1
    db.session.add(Visit(company_id=company.id, visited_on=d("2023-05-01"), summary="走访"))
    db.session.commit()  # visits are not behind the dashboard's figures
    assert data_version() == before + 1


def test_users_limited_to_areas_never_see_figures_cached_for_others(client, auth, make):
    for district in ("511702", "511722"):
        make.cert(make.company(district=district), "hnte", issued_on=d("2022-03-01"), number=f"GR{district}")
    auth.login(make.user("admin"))
    assert valid_hnte(client) == 2
    auth.logout()
    auth.login(make.user("viewer", areas=["511702"]))
    html = client.get(PAGE).get_data(as_text=True)
    assert ("city", "hnte_valid") not in numbers(html).found
    assert {v for v, _ in numbers(html).found[("511702", "hnte_valid")]} == {1}


def test_figures_cached_for_data_a_restore_replaced_never_come_back(client, admin, make, runner, tmp_path):
    """Restoring puts the data version back; the versions after it must not serve the replaced data's figures."""
    make.cert(make.company(), "hnte", issued_on=d("2022-03-01"), number="GR1")
    assert valid_hnte(client) == 1
    assert runner.invoke(args=["db", "backup", str(tmp_path / "before.backup")]).exit_code == 0
    make.cert(make.company(), "hnte", issued_on=d("2023-01-05"), number="GR2")  # a bad import, say
    assert valid_hnte(client) == 2
    replaced = data_version()
    db.session.remove()  # the restore replaces the tables: no transaction may hold them
    result = runner.invoke(args=["db", "restore", str(tmp_path / "before.backup"), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert data_version() < replaced
    for value in range(600, 600 + replaced - data_version()):  # later changes: the version reaches the replaced one's
        set_target(2023, "tech_sme_registered", None, value)
        db.session.commit()
    assert data_version() == replaced and valid_hnte(client) == 1


def test_two_databases_never_share_cached_figures(app):
    """Figures are keyed by the database's URL as well: two served from one checkout share instance/cache."""
    from crm.figures_cache import remembered

    with app.test_request_context():
        assert remembered("probe", (), lambda: "this database") == "this database"
        app.config["SQLALCHEMY_DATABASE_URI"], kept = "sqlite:///another.sqlite", app.config["SQLALCHEMY_DATABASE_URI"]
        try:
            assert remembered("probe", (), lambda: "another database") == "another database"
        finally:
            app.config["SQLALCHEMY_DATABASE_URI"] = kept
