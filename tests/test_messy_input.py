"""Messy input from the web never crashes a page nor half-writes a change: digits Python cannot count, blank-looking
required values, characters the database refuses (an audit of every route and form on PostgreSQL)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.clock import today
from crm.extensions import db
from crm.models import AnnualReport, FollowUp, Setting, Visit
from tests.visit_data import add_visit, visit_form

@pytest.mark.parametrize("odd", ["²", "①", "1" * 5000, "2147483648"], ids=["superscript", "circled", "5000-digits", "int4+1"])
def test_digits_python_cannot_count_are_no_filter_not_a_crash(make, auth, client, odd):
    """str.isdigit() holds for '²' and '①', which int() refuses; Python refuses 5,000 digits; 2³¹ is no int4."""
    company = make.company()
    auth.login(make.user("admin"))
    for url in (f"/companies/?officer={odd}&district={odd}", f"/deadlines?area={odd}&officer={odd}&days={odd}",
                f"/visits/?need={odd}", f"/visits/follow-ups/?owner={odd}", f"/shortlists/?year={odd}&area={odd}",
                f"/pools/?year={odd}", f"/companies/{company.id}?year={odd}&tl_page={odd}",
                f"/visits/?officer={odd}&area={odd}&company={odd}", f"/work?district={odd}&officer={odd}",
                f"/companies/{company.id}/figures?year={odd}"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/visits/follow-ups/new?company={odd}").status_code == 404


def test_the_pager_takes_no_url_options_nor_path_arguments_from_the_query_string(make, auth, client):
    from tests.ladder_data import pool, pool_member

    auth.login(make.user("admin"))
    chosen = pool("hnte")
    for n in range(51):
        pool_member(chosen, make.company(name=f"分页企业{n:02d}有限公司"))
    listing = client.get("/companies/?_method=DELETE&endpoint=x&q=分页")
    pager = listing.text.split('class="pager"')[1]
    assert listing.status_code == 200 and "_method" not in pager and "endpoint" not in pager
    page = client.get(f"/pools/{chosen.id}?pool_id=abc")
    assert page.status_code == 200 and f'href="/pools/{chosen.id}?page=2"' in page.text


BLANK_LOOKING = [" ", "\u200b", "\u3000"]  # a space, a zero-width space, an ideographic space


@pytest.mark.parametrize("blank", BLANK_LOOKING, ids=["space", "zero-width", "ideographic"])
def test_a_required_date_or_amount_that_only_looks_filled_is_asked_for(make, auth, client, blank):
    officer = make.user("officer")
    company = make.company(officer=officer)
    auth.login(officer)
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(officer, visited_on=blank))
    assert response.status_code == 422 and "请填写走访日期" in response.text
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    follow_up = add_visit(company, officer, follow_ups=[("推送政策", 7)]).follow_ups[0]
    response = client.post(f"/visits/follow-ups/{follow_up.id}/due", data={"due_on": blank}, follow_redirects=True)
    assert "请填写新的期限" in response.text
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_up.id).due_on == today() + timedelta(days=7)
    response = client.post(f"/companies/{company.id}/annual-reports",
                           data={"report-year": str(today().year - 1), "report-filed_on": blank})
    assert response.status_code == 422 and db.session.scalar(select(func.count(AnnualReport.id))) == 0
    auth.logout()
    auth.login(make.user("admin"))
    gazelle = {"gazelle-require_hnte": "1", "gazelle-min_base_revenue": blank, "gazelle-min_cagr": "20",
               "gazelle-years": "3", "gazelle-validity_years": "3"}
    response = client.post("/admin/settings/gazelle", data=gazelle)
    assert response.status_code == 422 and "请填写基期营业收入下限" in response.text
    assert db.session.scalar(select(func.count(Setting.key)).where(Setting.key == "gazelle")) == 0


def test_a_nul_character_in_a_form_or_a_search_is_refused_by_name_before_anything_is_written(make, auth, client):
    """PostgreSQL cannot store a NUL (SQLite would): refused alike on both, by the field's name."""
    officer = make.user("officer")
    company = make.company(officer=officer)
    auth.login(officer)
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(officer, summary="座谈\x00研发"))
    assert response.status_code == 400 and "“座谈研发”中含有不可见的空字符（NUL），没有保存" in response.text
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    search = client.get("/companies/?q=科技%00")
    assert search.status_code == 400 and "“科技”中含有不可见的空字符" in search.text


def test_values_the_columns_cannot_hold_are_field_errors_not_a_bare_bad_request(make, auth, client):
    from crm.models import Company, User
    from tests.test_companies import edit_data
    from tests.test_users import user_form

    auth.login(make.user("admin"))
    officer = make.user("officer")
    response = client.post(f"/users/{officer.id}", data=user_form(officer, email="x" * 250 + "@b.cn"))
    assert response.status_code == 422 and "x" * 250 in response.text  # the typing kept, the field says why
    db.session.expire_all()
    assert db.session.get(User, officer.id).email != "x" * 250 + "@b.cn"
    company = make.company()
    response = client.post(f"/companies/{company.id}/edit", data=edit_data(company, officer_id="2147483648"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Company, company.id).officer_id is None


def test_a_password_holding_a_nul_is_refused_without_being_shown(make, client):
    user = make.user("officer")
    response = client.post("/login", data={"username": user.username, "password": "Secret-Pass\x00word"})
    assert response.status_code == 400 and "Secret" not in response.text
    assert "提交的内容中含有不可见的空字符" in response.text
