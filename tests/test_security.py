"""Login, roles, area scoping, CSRF, redirects, sessions and headers (issue 2 §4)."""
import re

import pytest
from sqlalchemy import select

from config import TestingConfig
from crm import create_app
from crm.companies.forms import CompanyForm
from crm.extensions import db
from crm.models import Company, LoginAttempt
from tests.conftest import PASSWORD

PUBLIC = {"auth.login", "static", "main.healthz"}


def concrete(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)


def test_every_url_refuses_an_anonymous_user(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in rule.methods & {"GET", "POST"}:
            response = client.open(concrete(rule), method=method)
            assert response.status_code in (302, 401), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked >= 10


def test_login_page_and_health_are_public(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}


def test_login_with_good_and_bad_password(make, auth, client):
    user = make.user("officer")
    assert auth.login(user, "wrong").status_code == 200
    response = auth.login(user)
    assert response.status_code == 302
    assert client.get("/companies/").status_code == 200


@pytest.mark.parametrize("role", ["admin", "officer", "viewer"])
def test_login_sends_every_role_to_the_dashboard(make, client, role):
    user = make.user(role)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example", "http:/evil", "javascript:alert(1)"])
def test_next_to_another_site_is_ignored(make, client, target):
    user = make.user("admin")
    response = client.post(f"/login?next={target}", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]


def test_same_site_next_is_followed(make, client):
    user = make.user("admin")
    response = client.post("/login?next=/companies/?q=abc", data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/companies/?q=abc"


def test_a_number_too_large_for_the_database_is_a_bad_request_not_a_crash(make, auth, client):
    auth.login(make.user("admin"))
    huge = "99999999999999999999"
    for url in (f"/companies/?page={huge}", f"/companies/?district={huge}", f"/visits/new?company={huge}",
                f"/work?officer={huge}"):
        assert client.get(url).status_code in (400, 404), url


def test_an_unknown_username_costs_a_password_check_too(make, client, monkeypatch):
    """So the time a failed login takes does not tell whether the account exists."""
    import crm.auth.service as service

    checked = []
    real = service.check_password_hash
    monkeypatch.setattr(service, "check_password_hash", lambda *args: checked.append(args) or real(*args))
    client.post("/login", data={"username": "nobody-here", "password": "guess-1234"})
    assert len(checked) == 1 and checked[0][1] == "guess-1234"


def test_login_throttled_after_five_failures_across_workers(make, client, app):
    user = make.user("officer")
    for _ in range(5):
        client.post("/login", data={"username": user.username, "password": "nope"})
    assert db.session.query(LoginAttempt).count() == 5  # kept in the database, shared by all workers
    other_worker = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                                          "WTF_CSRF_ENABLED": False}))
    response = other_worker.test_client().post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429


def test_password_change_ends_other_sessions(make, app):
    user = make.user("officer")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    response = first.post("/account", data={"pw-current": PASSWORD, "pw-new": "new-password-2", "pw-confirm": "new-password-2"})
    assert response.status_code == 302
    assert first.get("/companies/").status_code == 200  # the session that changed it stays
    assert second.get("/companies/").status_code == 302  # the other one is logged out


def test_deactivation_ends_sessions(make, app, client, auth):
    admin, officer = make.user("admin"), make.user("officer")
    officer_client = app.test_client()
    officer_client.post("/login", data={"username": officer.username, "password": PASSWORD})
    auth.login(admin)
    client.post(f"/users/{officer.id}", data={"username": officer.username, "email": officer.email, "role": "officer"})
    assert officer_client.get("/companies/").status_code == 302


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite(make, client):
    user = make.user("officer")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_is_enforced(app, make):
    csrf_app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    user = make.user("admin")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    district = make.area("511702")
    data = {"uscc": make.uscc(), "name": "无令牌企业", "district_id": district.id, "park_id": 0, "officer_id": 0}
    refused = client.post("/companies/new", data=data)
    assert refused.status_code == 400 and "页面已过期，请刷新后再试。" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Company).where(Company.name == "无令牌企业")) is None
    # The board's script asks for JSON and shows the reason, not a page of HTML it cannot read.
    moved = client.post("/rounds/applications/1/move", data={"to": "coaching"}, headers={"Accept": "application/json"})
    assert moved.status_code == 400 and moved.get_json() == {"ok": False, "error": "页面已过期，请刷新后再试。"}


# --- roles × actions ---------------------------------------------------------------------------

def company_form(make, company=None, **over):
    district = make.area("511702")
    data = {"uscc": company.uscc if company else make.uscc(), "name": company.name if company else "新登记企业有限公司",
            "district_id": district.id, "park_id": 0, "officer_id": 0, "version": str(company.version) if company else "",
            "tech_field": "", **{name: "" for name in CompanyForm.TRISTATE_FIELDS}}
    data.update(over)
    return data


@pytest.mark.parametrize("role, read, write, admin", [
    ("admin", 200, 302, 200), ("officer", 200, 302, 403), ("viewer", 200, 403, 403),
])
def test_role_matrix(make, auth, client, role, read, write, admin):
    company = make.company()
    auth.login(make.user(role))
    assert client.get("/companies/").status_code == read
    assert client.get(f"/companies/{company.id}").status_code == read
    assert client.post(f"/companies/{company.id}/edit", data=company_form(make, company, name="改名有限公司")).status_code == write
    assert client.post("/companies/new", data=company_form(make)).status_code == write
    assert client.post(f"/companies/{company.id}/certifications",
                       data={"kind": "tech_sme", "year": 2024}).status_code == write
    assert client.get("/users/").status_code == admin
    assert client.post("/users/new", data={}).status_code == (200 if admin == 200 else 403)


def test_viewer_changes_nothing(make, auth, client):
    company = make.company(name="原名有限公司")
    auth.login(make.user("viewer"))
    client.post(f"/companies/{company.id}/edit", data=company_form(make, company, name="改名有限公司"))
    db.session.expire_all()
    assert db.session.get(Company, company.id).name == "原名有限公司"


def test_officer_cannot_reach_a_company_outside_their_areas_by_guessing_its_id(make, auth, client):
    inside = make.company(district="511702")
    outside = make.company(district="511725")
    cert = make.cert(outside, "tech_sme", year=2024)
    auth.login(make.user("officer", areas=["511702"]))
    assert client.get(f"/companies/{inside.id}").status_code == 200
    for url in (f"/companies/{outside.id}", f"/companies/{outside.id}/edit", f"/companies/{outside.id}/figures"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/companies/{outside.id}/edit", data=company_form(make, outside, name="x")).status_code == 404
    assert client.post(f"/companies/{outside.id}/certifications/{cert.id}/revoke").status_code == 404
    listing = client.get("/companies/").get_data(as_text=True)
    assert inside.name in listing and outside.name not in listing


def test_park_area_sees_park_companies_in_any_district(make, auth, client):
    in_park = make.company(district="511703", park="达州高新区")
    auth.login(make.user("viewer", areas=["达州高新区"]))
    assert client.get(f"/companies/{in_park.id}").status_code == 200


def test_officer_cannot_register_a_company_outside_their_areas(make, auth, client):
    auth.login(make.user("officer", areas=["511702"]))
    response = client.post("/companies/new", data=company_form(make, district_id=make.area("511725").id))
    assert response.status_code == 422
    assert db.session.scalar(select(Company)) is None


def test_admin_hub_lists_admin_pages_and_is_admin_only(make, auth, client):
    auth.login(make.user("officer"))
    assert client.get("/admin/").status_code == 403
    auth.logout()
    auth.login(make.user("admin"))
    page = client.get("/admin/").get_data(as_text=True)
    for path in ("/users/", "/targets/", "/admin/settings", "/reminders/admin"):
        assert f'href="{path}"' in page
