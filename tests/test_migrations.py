"""The schema comes only from migrations: one head, upgrades an empty database, matches the models."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from config import TestingConfig
from crm import create_app
from crm.extensions import db


def test_single_head(app):
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        assert len(script.get_heads()) == 1


def test_models_match_migrations(app):
    """Autogenerate against the migrated test database finds no difference."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        assert compare_metadata(context, db.metadata) == []


@pytest.fixture
def empty_app(database_url, tmp_path):
    """An app on a second, empty database of the same kind as the suite's (SQLite or PostgreSQL), in context."""
    from tests.conftest import _postgres_database

    if database_url.startswith("postgresql"):
        url, drop = _postgres_database(database_url)
    else:
        url, drop = f"sqlite:///{tmp_path / 'empty.sqlite'}", (lambda: None)
    try:
        app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
        with app.app_context():
            yield app
            db.engine.dispose()
    finally:
        drop()


def test_upgrade_empty_database_then_downgrade_and_again(empty_app):
    upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {"company", "certification", "user", "audit_log", "application", "visit"} <= tables
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM area WHERE code = '511703'")).scalar() == "达川区"
        assert conn.execute(text("SELECT a.name FROM area_alias x JOIN area a ON a.id = x.area_id "
                                 "WHERE x.alias = '511721'")).scalar() == "达川区"
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"}))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_old_rows_get_calendar_year_windows_and_normalised_numbers(empty_app):
    """Rows written under 0003: 0004 starts a 科小 window on 1 January, 0005 normalises a typed number, 0006 gives
    a company its name's sort key."""
    upgrade(revision="0003")
    with db.engine.begin() as conn:
        area = conn.execute(text("SELECT id FROM area WHERE code = '511702'")).scalar()
        company = conn.execute(text(
            "INSERT INTO company (uscc, name, district_id, industry, contact_name, contact_phone, contact_email, "
            "notes, uscc_check_waived, version, created_at, updated_at) VALUES "
            "('91350100M000100Y43', '旧数据公司', :area, '', '', '', '', '', false, 1, :t, :t) RETURNING id"),
            {"area": area, "t": "2026-01-01 00:00:00"}).scalar()
        for kind, number, year, issued, start, until in (
                ("tech_sme", "", 2024, "2024-07-15", "2024-07-15", "2024-12-31"),
                ("hnte", "ｇｒ２０２３ ５１０００１２３", None, "2023-03-01", "2023-03-01", "2026-02-28")):
            conn.execute(text(
                "INSERT INTO certification (company_id, kind, number, year, issued_on, status, valid_from, "
                "valid_until, source, created_at) VALUES (:c, :kind, :number, :year, :issued, 'valid', :start, "
                ":until, 'import', :t)"), {"c": company, "kind": kind, "number": number, "year": year,
                                           "issued": issued, "start": start, "until": until, "t": "2026-01-01 00:00:00"})
        version = conn.execute(text("SELECT n FROM data_version")).scalar()
    upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, number, valid_from FROM certification")).all()
        assert {(k, n, str(v)) for k, n, v in rows} == {("tech_sme", "", "2024-01-01"),
                                                        ("hnte", "GR202351000123", "2023-03-01")}
        assert conn.execute(text("SELECT n FROM data_version")).scalar() == version + 1
        assert conn.execute(text("SELECT name_sort FROM company")).scalar() == "jiushujugongsi"  # 0006: 旧数据公司


def test_twinned_rounds_are_renamed_and_a_twin_is_refused_after_0007(empty_app):
    from sqlalchemy.exc import IntegrityError

    upgrade(revision="0006")
    insert = text("INSERT INTO round (kind, year, name, opens_on, closes_on, created_at) "
                  "VALUES ('hnte', 2026, :name, '2026-05-01', '2026-09-30', '2026-01-01 00:00:00')")
    long_name = "批" * 120
    with db.engine.begin() as conn:
        for name in ("第一批", "第一批", "第一批（2）", "第一批", long_name, long_name):
            conn.execute(insert, {"name": name})
    upgrade()
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM round ORDER BY id")).scalars().all()
    assert names == ["第一批", "第一批（3）", "第一批（2）", "第一批（4）", long_name, "批" * 117 + "（2）"]
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(insert, {"name": "第一批"})


def test_a_tech_sme_registration_with_a_typed_expiry_lapses_on_31_december_after_0009(empty_app):
    upgrade(revision="0008")
    with db.engine.begin() as conn:
        area = conn.execute(text("SELECT id FROM area WHERE code = '511702'")).scalar()
        company = conn.execute(text(
            "INSERT INTO company (uscc, name, name_sort, district_id, industry, contact_name, contact_phone, "
            "contact_email, notes, uscc_check_waived, version, created_at, updated_at) VALUES "
            "('91350100M000100Y43', '巴山新材', 'bashanxincai', :area, '', '', '', '', '', false, 1, :t, :t) "
            "RETURNING id"), {"area": area, "t": "2026-01-01 00:00:00"}).scalar()
        conn.execute(text(
            "INSERT INTO certification (company_id, kind, number, year, issued_on, expires_on, status, valid_from, "
            "valid_until, source, created_at) VALUES (:c, 'tech_sme', '2025A', 2025, '2025-06-01', '2027-06-30', "
            "'valid', '2025-01-01', '2027-06-30', 'manual', :t)"), {"c": company, "t": "2026-01-01 00:00:00"})
        version = conn.execute(text("SELECT n FROM data_version")).scalar()
    upgrade()
    with db.engine.connect() as conn:
        until, typed = conn.execute(text("SELECT valid_until, expires_on FROM certification")).one()
        assert (str(until), str(typed)) == ("2025-12-31", "2027-06-30")
        assert conn.execute(text("SELECT n FROM data_version")).scalar() == version + 1
