"""Login, roles, area scoping, CSRF, redirects, sessions and headers (issue 2 §4)."""
import re
from urllib.parse import unquote
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from config import TestingConfig
from crm import create_app
from crm.companies.forms import CompanyForm
from crm.extensions import db
from crm.clock import utcnow
from crm.models import Company, LoginAttempt, LoginSession, Round, Visit
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
    client.post("/logout")
    response = client.post("/login?next=http://localhost/work", data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/work"  # this site's own full address, as its path
    client.post("/logout")
    response = client.post("/login?next=http://localhost//evil.example/",
                           data={"username": user.username, "password": PASSWORD})
    assert "evil" not in response.headers["Location"]


def test_a_number_too_large_for_the_database_is_a_bad_request_not_a_crash(make, auth, client):
    auth.login(make.user("admin"))
    huge = "99999999999999999999"
    for url in (f"/companies/?page={huge}", f"/companies/{huge}"):
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


def test_guesses_from_elsewhere_do_not_lock_the_owner_out_and_one_password_tried_on_many_accounts_is_stopped(
        make, app, client):
    user = make.user("admin")
    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/login", data={"username": user.username, "password": "nope"},
                      environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert stranger.post("/login", data={"username": user.username, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 429
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    for n in range(30):  # a different account each time: never five for one of them
        stranger.post("/login", data={"username": f"user{n}", "password": "123456"},
                      environ_base={"REMOTE_ADDR": "10.9.8.6"})
    assert stranger.post("/login", data={"username": "someone-else", "password": "123456"},
                         environ_base={"REMOTE_ADDR": "10.9.8.6"}).status_code == 429


def test_current_password_on_the_account_page_is_throttled_like_login(make, app, auth, client):
    user = make.user("officer")
    auth.login(user)
    change = {"pw-current": "wrong-guess", "pw-new": "new-password-2", "pw-confirm": "new-password-2"}
    for _ in range(5):
        assert client.post("/account", data=change).status_code == 200
    assert db.session.query(LoginAttempt).count() == 5  # counted with failed logins
    response = client.post("/account", data={**change, "pw-current": PASSWORD})
    assert response.status_code == 429 and "登录失败次数过多" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    other_device = app.test_client()  # and signing in is throttled too
    assert other_device.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 429


def test_logout_ends_that_session_on_the_server_only(make, app, client, auth):
    user = make.user("officer")
    other_device = app.test_client()
    other_device.post("/login", data={"username": user.username, "password": PASSWORD})
    auth.login(user)
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    assert copied.get("/companies/").status_code == 200
    auth.logout()
    assert copied.get("/companies/").status_code == 302  # the copied cookie no longer works
    assert other_device.get("/companies/").status_code == 200  # the user's other sign-in stays


def test_a_sign_in_lasts_the_session_lifetime(make, app, client, auth):
    assert app.permanent_session_lifetime == timedelta(hours=12)
    auth.login(make.user("officer"))
    assert client.get("/companies/").status_code == 200
    db.session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
    db.session.commit()
    assert client.get("/companies/").status_code == 302


@pytest.mark.parametrize("proxies, seen", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_behind_a_trusted_proxy(make, app, proxies, seen):
    """Behind nginx (LADDER_PROXIES=1) the client's address is the one nginx passes on, not nginx's own; without
    a trusted proxy the header is the client's word and ignored."""
    user = make.user("officer")
    proxied = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                                      "WTF_CSRF_ENABLED": False, "LADDER_PROXIES": proxies}))
    proxied.test_client().post("/login", data={"username": user.username, "password": "nope"},
                               headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert db.session.scalar(select(LoginAttempt.ip)) == seen


def test_password_change_ends_other_sessions(make, app):
    user = make.user("officer")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    response = first.post("/account", data={"pw-current": PASSWORD, "pw-new": "new-password-2", "pw-confirm": "new-password-2"})
    assert response.status_code == 302
    assert first.get("/companies/").status_code == 200  # the session that changed it stays
    assert second.get("/companies/").status_code == 302  # the other one is logged out
    from crm.models import AuditLog
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "user", AuditLog.entity_id == user.id,
                                                     AuditLog.action == "update"))
    assert (entry.changes, entry.user_id) == ({"password": [None, "已修改"]}, user.id)  # that it changed, by whom


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
    assert refused.status_code == 400 and "刚才提交的内容没有保存" in refused.text
    assert "请刷新后再试" not in refused.text  # reloading this answer would send the same stale form again
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
    assert client.post("/users/new", data={}).status_code == (422 if admin == 200 else 403)  # an empty form: not saved


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


FILTERS_NAMING_A_COMPANY_OR_AREA = [
    ("POST", "/visits/export", "company"), ("GET", "/visits/follow-ups/?status=all", "company"),
    ("GET", "/visits/needs", "company"), ("GET", "/visits/", "company"), ("GET", "/visits/", "area"),
    ("GET", "/visits/needs", "area"), ("GET", "/shortlists/", "area"), ("POST", "/shortlists/export", "area"),
    ("GET", "/rounds/{round}", "area"), ("GET", "/rounds/{round}/stages/intent", "area"),
    ("GET", "/deadlines", "area"),
]


@pytest.mark.parametrize("method, url, name", FILTERS_NAMING_A_COMPANY_OR_AREA)
def test_a_filter_naming_a_company_or_area_outside_the_users_areas_is_404(make, auth, client, method, url, name):
    round_ = Round(kind="hnte", year=2026, name="2026年高企", opens_on=date(2026, 3, 1), closes_on=date(2026, 9, 30))
    db.session.add(round_)
    db.session.commit()
    inside, outside = make.company(district="511724"), make.company(district="511702")
    value = {"company": (inside.id, outside.id), "area": (make.area("511724").id, make.area("511702").id)}[name]
    auth.login(make.user("officer", areas=["511724", "511725"]))
    url = url.format(round=round_.id)

    def ask(area_or_company_id):
        if method == "POST":
            return client.post(url, data={name: area_or_company_id})
        return client.get(f"{url}{'&' if '?' in url else '?'}{name}={area_or_company_id}")

    assert ask(value[0]).status_code == 200
    assert ask(value[1]).status_code == 404


def test_a_district_officer_may_narrow_lists_to_a_park_reaching_into_the_district_and_is_offered_only_that(
        make, auth, client):
    from tests.ladder_data import pool, pool_member

    ours, theirs = make.company(name="园区内本区企业", district="511702", park="达州高新区"), \
        make.company(name="园区内他区企业", district="511703", park="达州高新区")
    tech_pool = pool("tech_sme", 2026)
    pool_member(tech_pool, ours)
    pool_member(tech_pool, theirs)
    park, other_district = make.area("达州高新区"), make.area("511703")
    auth.login(make.user("officer", areas=["511702"]))
    page = client.get(f"/shortlists/?kind=tech_sme&year=2026&area={park.id}")
    assert page.status_code == 200 and "园区内本区企业" in page.text and "园区内他区企业" not in page.text
    offered = re.findall(r'<option value="(\d+)"', page.text.split('<select name="area"')[1].split("</select>")[0])
    assert str(park.id) in offered and str(other_district.id) not in offered
    assert client.get(f"/visits/?area={park.id}").status_code == 200
    assert client.get(f"/shortlists/?kind=tech_sme&year=2026&area={other_district.id}").status_code == 404
    assert client.get(f"/deadlines?area={park.id}").status_code == 404  # a list of the park's own, not narrowed


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


def test_a_form_sent_after_the_sign_in_expired_says_it_was_not_saved_and_leads_back(make, auth, client):
    officer = make.user("officer")
    company = make.company(officer=officer)
    auth.login(officer)
    db.session.execute(delete(LoginSession))  # the sign-in ended on the server (expired, or signed out elsewhere)
    db.session.commit()
    form_page = f"http://localhost/visits/new?company={company.id}"
    response = client.post(f"/visits/new?company={company.id}", data={"summary": "座谈"},
                           headers={"Referer": form_page})
    assert response.status_code == 302
    assert response.location.startswith("/login?next=") and "visits/new" in unquote(response.location)
    login_page = client.get(response.location).text
    assert "登录已过期，刚才提交的内容没有保存" in login_page
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    assert "登录已过期" not in client.get("/login").text  # said once, and not to someone merely opening a page
    for quiet in (client.head("/work"), client.post("/logout")):  # a link checker; logging out once signed out
        assert quiet.status_code == 302
    assert "登录已过期" not in client.get("/login").text
