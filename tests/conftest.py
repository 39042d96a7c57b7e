"""Fixtures: a real database (SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is set),
the schema built by the migrations, a client, a CLI runner and one-line data factories."""
import os
import re
import uuid
from datetime import date

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from config import TestingConfig
from crm import create_app
from crm.extensions import db
from crm.models import Area, Certification, Company, User
from crm.models.user import ROLES
from crm.normalize import uscc_check_char
from crm.scratch import scratch_database

REFERENCE_TABLES = {"area", "area_alias", "need_category", "alembic_version", "data_version"}
PASSWORD = "correct-horse-1"


def _postgres_database(base_url: str):
    """A fresh, uniquely named database on the server of `base_url`: its URL and a dropper."""
    return scratch_database(base_url, "ladder_test", durable=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        url, drop = _postgres_database(base)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'ladder.sqlite'}"


class Client(FlaskClient):
    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's own session then sees what the request wrote
        return response


class Runner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        with self.app.app_context():  # the command's own context, not the test's twin (Flask reuses any pushed one)
            result = super().invoke(*args, **kwargs)
        db.session.expire_all()
        return result


def _test_app(database_url: str):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = False  # enforced in test_security with a separate app

    app = create_app(Config)
    app.test_client_class = Client
    app.test_cli_runner_class = Runner
    return app


@pytest.fixture(scope="session")
def app(database_url):
    """The app under test. Each request and CLI call runs in its own app context and session, as in production."""
    app = _test_app(database_url)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def data_app(app, database_url):
    """A twin app on the same database whose context the test code itself runs in (factories, assertions).

    Keeping it apart from `app` means requests never share the test's `g` or session (Flask reuses an
    already pushed context of the same app), so logins, caches and query counts behave as in production.
    """
    twin = _test_app(database_url)
    yield twin
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(data_app):
    """Every test starts from the migrated schema with reference data only."""
    ctx = data_app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:  # DELETE, not TRUNCATE: much faster on PostgreSQL for a few rows
        for table in tables:
            conn.execute(table.delete())
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Factory:
    """One-line test data: make.user('officer', areas=['511702']), make.company(district='511703')."""

    def __init__(self):
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def area(self, key: str) -> Area:
        return db.session.scalar(db.select(Area).where((Area.code == key) | (Area.name == key)))

    def user(self, role: str = "officer", areas=(), username: str | None = None, **kw) -> User:
        assert role in ROLES
        n = self._next()
        user = User(username=username or f"{role}{n}", email=f"{role}{n}@example.test", role=role,
                    display_name=kw.pop("display_name", f"{role}{n}"), session_version=0, **kw)
        user.set_password(PASSWORD)
        user.areas = [self.area(a) for a in areas]
        db.session.add(user)
        db.session.commit()
        return user

    def uscc(self, district_code: str = "511702") -> str:
        n = self._next()
        body = f"91{district_code}{n:09d}"
        return body + uscc_check_char(body)

    def company(self, name: str | None = None, district: str = "511702", park: str | None = None, **kw) -> Company:
        d = self.area(district)
        company = Company(uscc=kw.pop("uscc", None) or self.uscc(d.code), name=name or f"测试企业{self._n + 1}号有限公司",
                          district=d, park=self.area(park) if park else None, **kw)
        db.session.add(company)
        db.session.commit()
        return company

    def cert(self, company: Company, kind: str, **kw) -> Certification:
        cert = Certification(company=company, kind=kind, **kw)
        db.session.add(cert)
        db.session.commit()
        return cert


@pytest.fixture
def make():
    return Factory()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_name, password: str = PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def count_queries(app, data_app):
    """Count SQL statements run inside the block, by requests or by code the test calls directly:
    `with count_queries() as q: ...; q.count`."""
    from contextlib import contextmanager

    engines = []
    for some_app in (app, data_app):
        with some_app.app_context():
            engines.append(db.engine)

    @contextmanager
    def counter():
        class Q:
            count = 0
            statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)", statement, re.I):
                Q.count += 1
                Q.statements.append(statement)

        for engine in engines:
            event.listen(engine, "before_cursor_execute", before)
        try:
            yield Q
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", before)

    return counter


def d(text_: str) -> date:
    return date.fromisoformat(text_)


def staff(role: str = "officer", username: str | None = None, **kw) -> User:
    """A user who receives e-mail but never logs in: no password hashing (0.15 s each), so tests stay fast."""
    username = username or f"{role}{uuid.uuid4().hex[:8]}"
    user = User(username=username, email=f"{username}@example.test", role=role, password_hash="-", **kw)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def mail_settings(app, data_app):
    """Change the MAIL_* settings or LADDER_BASE_URL for one test: `mail_settings(MAIL_PORT=2525)`.

    Both the app under test and the twin the test code runs in see the change."""
    keys = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_TIMEOUT",
            "LADDER_BASE_URL")
    saved = {key: app.config[key] for key in keys}

    def update(**values):
        app.config.update(values)
        data_app.config.update(values)

    yield update
    update(**saved)


@pytest.fixture
def smtp(mail_settings):
    """A real SMTP server (crm/smtp_sink.py) on a free localhost port; the MAIL_* settings point at it."""
    from crm.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    mail_settings(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False,
                  MAIL_USERNAME=None, MAIL_TIMEOUT=5, LADDER_BASE_URL="https://ladder.example.test/ladder")
    yield sink
    sink.stop()
