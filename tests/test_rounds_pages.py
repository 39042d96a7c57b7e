"""Rounds pages: the round admin, the kanban board, moves by form and by JSON, the company-page panel, access."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.clock import today, utcnow
from crm.extensions import db
from crm.models import Application, ApplicationMove, Certification, Round
from crm.rounds.service import move_application, open_application, save_round
from tests.conftest import d

JSON = {"Accept": "application/json"}


def make_round(kind="tech_sme", opens=None, closes=None, name="本年科小评价", year=None) -> Round:
    """A round open today (so applications may still be opened), for this year unless told."""
    on = today()
    round_ = save_round(Round(), kind, year or on.year, name, opens or on - timedelta(days=10),
                        closes or on + timedelta(days=30))
    db.session.commit()
    return round_


def application(company, round_, by=None, stage_path=()):
    app = open_application(company, round_, by=by, now=utcnow() - timedelta(days=5), on=today())
    for stage in stage_path:
        move_application(app, stage, by=by, now=utcnow(), on=today())
    db.session.commit()
    return app


def move_url(app) -> str:
    return f"/rounds/applications/{app.id}/move"


@pytest.fixture
def scene(make):
    """An officer for 通川区 with a company there, a round with its application, and someone else's company."""
    officer = make.user("officer", areas=["511702"])
    company = make.company(name="川东智能科技有限公司", district="511702", officer=officer)
    elsewhere = make.company(name="渠江新材有限公司", district="511725")
    round_ = make_round()
    return officer, company, elsewhere, round_, application(company, round_, by=officer)


# ---- round admin --------------------------------------------------------------------------------------

def test_the_new_round_form_takes_the_year_and_kind_asked_for_and_its_examples_follow(make, client, auth):
    auth.login(make.user("admin"))
    page = client.get("/rounds/new?year=2027&kind=tech_sme").text
    assert re.search(r'<input[^>]*name="year"[^>]*value="2027"', page)
    assert re.search(r'<option selected value="tech_sme">|<option value="tech_sme" selected>', page)
    assert 'placeholder="如：2027年科技型中小企业评价"' in page and 'placeholder="2027-06-30"' in page
    from crm.clock import today

    not_a_year = client.get("/rounds/new?year=①").text  # not a year: this one
    assert re.search(rf'<input[^>]*name="year"[^>]*value="{today().year}"', not_a_year)

    assert f'href="/rounds/new?year={today().year + 1}"' in client.get("/rounds/").text  # next year's, one tap


def test_admin_creates_a_round_with_dates_typed_the_chinese_way(make, client, auth):
    auth.login(make.user("admin"))
    response = client.post("/rounds/new", data={"kind": "hnte", "year": "2025年", "name": "2025年高企认定（第一批）",
                                                "opens_on": "2025年5月6日", "closes_on": "2025.7.31"})
    assert response.status_code == 302
    round_ = db.session.scalar(select(Round))
    assert (round_.kind, round_.year, round_.opens_on, round_.closes_on) == ("hnte", 2025, d("2025-05-06"), d("2025-07-31"))
    typo = client.post("/rounds/new", data={"kind": "hnte", "year": "2O25", "name": "另一批", "opens_on": "2025-05-06",
                                            "closes_on": "2025-07-31"})
    assert typo.status_code == 422 and "年度“2O25”不是有效的整数" in typo.text


def test_a_round_closing_before_it_opens_is_shown_back_with_the_reason(make, client, auth):
    auth.login(make.user("admin"))
    response = client.post("/rounds/new", data={"kind": "hnte", "year": "2025", "name": "倒置",
                                                "opens_on": "2025-07-31", "closes_on": "2025-05-06"})
    assert response.status_code == 422
    assert "截止日期 2025-05-06 早于开始日期 2025-07-31" in response.text
    assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_admin_edits_a_round(make, client, auth):
    round_ = make_round()
    auth.login(make.user("admin"))
    assert client.get(f"/rounds/{round_.id}/edit").status_code == 200
    response = client.post(f"/rounds/{round_.id}/edit", data={
        "kind": "tech_sme", "year": str(round_.year), "name": "改名", "opens_on": "2025-06-30", "closes_on": "20250930"})
    assert response.status_code == 302
    db.session.refresh(round_)
    assert (round_.name, round_.closes_on) == ("改名", d("2025-09-30"))


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins_create_or_edit_rounds(make, client, auth, role):
    round_ = make_round()
    auth.login(make.user(role))
    assert client.get("/rounds/new").status_code == 403
    assert client.post(f"/rounds/{round_.id}/edit", data={"name": "x"}).status_code == 403


def test_round_list_counts_applications_per_stage_within_the_users_areas(make, client, auth, scene):
    officer, company, elsewhere, round_, _ = scene
    application(elsewhere, round_, stage_path=["coaching"])
    auth.login(make.user("admin"))
    page = client.get("/rounds/").text
    assert "意向 1" in page and "辅导 1" in page
    auth.logout()
    auth.login(officer)  # 渠江新材 is outside the officer's area: not even counted
    page = client.get("/rounds/").text
    assert "意向 1" in page and "辅导 0" in page


# ---- the board ----------------------------------------------------------------------------------------

def test_board_shows_cards_with_company_officer_and_days_in_stage(make, client, auth, scene):
    officer, company, elsewhere, round_, app = scene
    auth.login(officer)
    page = client.get(f"/rounds/{round_.id}").text
    assert "川东智能科技有限公司" in page and officer.label in page and "5 天" in page
    assert "渠江新材有限公司" not in page  # outside the officer's area
    assert 'draggable="true"' in page and 'name="csrf_token"' in page


def test_viewer_sees_the_board_without_move_controls(make, client, auth, scene):
    round_ = scene[3]
    auth.login(make.user("viewer"))
    page = client.get(f"/rounds/{round_.id}").text
    assert "川东智能科技有限公司" in page
    assert "move-form" not in page and 'draggable="true"' not in page


def test_board_runs_a_constant_number_of_queries(make, client, auth, count_queries):
    round_ = make_round()
    admin = make.user("admin")
    officers = [make.user("officer") for _ in range(3)]

    def add(n):
        for i in range(n):
            officer = officers[i % 3]
            app = application(make.company(officer=officer, district=["511702", "511703", "511725"][i % 3]), round_, by=officer)
            for stage in ["coaching", "preparing", "submitted"][: i % 4]:
                move_application(app, stage, by=officer, now=utcnow(), on=today())
        db.session.commit()

    auth.login(admin)

    def board_queries():
        with count_queries() as q:
            assert client.get(f"/rounds/{round_.id}").status_code == 200
        return q.count

    add(3)
    small = board_queries()
    add(30)
    assert board_queries() == small
    with count_queries() as q:
        client.get(f"/rounds/{round_.id}/stages/intent")
    assert q.count <= small


def test_the_more_link_leads_to_the_whole_column(make, client, auth, scene, monkeypatch):
    import crm.rounds.service as service

    officer, company, _, round_, _ = scene
    application(make.company(name="第二家企业", district="511702", officer=officer), round_, by=officer)
    monkeypatch.setattr(service, "COLUMN_CAP", 1)
    auth.login(officer)
    page = client.get(f"/rounds/{round_.id}").text
    assert "还有 1 个" in page
    column = client.get(f"/rounds/{round_.id}/stages/intent").text
    assert "川东智能科技有限公司" in column and "第二家企业" in column


def test_a_long_column_pages_through_within_its_round_and_stage(make, client, auth, scene, app, monkeypatch):
    officer, _, _, round_, _ = scene
    application(make.company(name="第二家企业", district="511702", officer=officer), round_, by=officer)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    auth.login(officer)
    url = f"/rounds/{round_.id}/stages/intent"
    first, second = client.get(url).text, client.get(f"{url}?page=2").text
    assert f'href="{url}?page=2"' in first
    names = {"第二家企业", "川东智能科技有限公司"}
    shown = [{n for n in names if n in page} for page in (first, second)]
    assert len(shown[0]) == len(shown[1]) == 1 and shown[0] | shown[1] == names


# ---- moving cards -------------------------------------------------------------------------------------

def test_a_plain_form_move_redirects_back_and_is_recorded(make, client, auth, scene):
    officer, company, _, round_, app = scene
    auth.login(officer)
    response = client.post(move_url(app), data={"to": "coaching", "expected": "intent", "next": f"/rounds/{round_.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/rounds/{round_.id}"
    db.session.refresh(app)
    move = db.session.scalar(select(ApplicationMove).where(ApplicationMove.application_id == app.id,
                                                           ApplicationMove.to_stage == "coaching"))
    assert (app.stage, move.from_stage, move.moved_by_id) == ("coaching", "intent", officer.id)
    assert move.seconds_in_previous >= 5 * 86400


def test_a_script_move_answers_json_with_the_card_in_its_new_stage(make, client, auth, scene):
    officer, company, _, round_, app = scene
    auth.login(officer)
    response = client.post(move_url(app), data={"to": "coaching", "expected": "intent"}, headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["stage"] == "coaching"
    assert 'data-stage="coaching"' in body["card"] and "川东智能科技有限公司" in body["card"]


def test_a_script_move_without_a_reason_is_refused_in_json(make, client, auth, scene):
    officer, _, _, _, app = scene
    auth.login(officer)
    response = client.post(move_url(app), data={"to": "withdrawn", "expected": "intent"}, headers=JSON)
    assert response.status_code == 422
    assert response.get_json() == {"ok": False, "error": "移到“放弃”需要填写原因"}


def test_a_plain_form_move_that_needs_a_reason_asks_for_it(make, client, auth, scene):
    officer, _, _, _, app = scene
    auth.login(officer)
    response = client.post(move_url(app), data={"to": "withdrawn", "expected": "intent"})
    assert response.status_code == 422
    assert "需要填写原因" in response.text and 'name="reason"' in response.text
    response = client.post(move_url(app), data={"to": "withdrawn", "expected": "intent", "reason": "企业今年不报"})
    assert response.status_code == 302
    db.session.refresh(app)
    assert (app.stage, app.reason) == ("withdrawn", "企业今年不报")


def test_approving_on_the_board_records_the_certification(make, client, auth):
    officer = make.user("officer")
    company = make.company(officer=officer)
    round_ = make_round(kind="hnte", name="高企认定")
    app = application(company, round_, by=officer, stage_path=["submitted", "publicised"])
    auth.login(officer)
    on = today()
    response = client.post(move_url(app), headers=JSON, data={
        "to": "approved", "expected": "publicised", "number": "GR202551000777",
        "issued_on": f"{on.year}年{on.month}月{on.day}日"})
    assert response.get_json()["ok"] is True
    db.session.refresh(app)
    cert = db.session.get(Certification, app.certification_id)
    assert (cert.kind, cert.number, cert.issued_on, cert.source) == ("hnte", "GR202551000777", on, "application")


def test_a_stale_move_is_a_conflict(make, client, auth, scene):
    officer, _, _, _, app = scene
    auth.login(officer)
    client.post(move_url(app), data={"to": "coaching", "expected": "intent"}, headers=JSON)
    response = client.post(move_url(app), data={"to": "coaching", "expected": "intent"}, headers=JSON)
    assert response.status_code == 409 and "请刷新" in response.get_json()["error"]


def test_viewer_cannot_move_or_open_applications(make, client, auth, scene):
    _, company, _, round_, app = scene
    auth.login(make.user("viewer"))
    assert client.post(move_url(app), data={"to": "coaching"}, headers=JSON).status_code == 403
    assert client.post("/rounds/applications", data={"company_id": company.id, "round_id": round_.id}).status_code == 403
    assert client.get(f"/rounds/{round_.id}/applications/new").status_code == 403
    db.session.refresh(app)
    assert app.stage == "intent"


def test_officer_outside_the_area_gets_404_on_board_actions(make, client, auth, scene):
    officer, company, elsewhere, round_, app = scene
    outsider = make.user("officer", areas=["511725"])
    auth.login(outsider)
    assert client.post(move_url(app), data={"to": "coaching", "expected": "intent"}, headers=JSON).status_code == 404
    assert client.post(move_url(app), data={"to": "coaching", "expected": "intent"}).status_code == 404
    assert client.post("/rounds/applications", data={"company_id": company.id, "round_id": round_.id}).status_code == 404
    board = client.get(f"/rounds/{round_.id}").text
    assert "川东智能科技有限公司" not in board
    assert officer.username not in board  # nor, in the officer filter, who holds applications elsewhere
    db.session.refresh(app)
    assert app.stage == "intent" and len(app.moves) == 1
    # ... while a company inside the outsider's area is theirs to apply for
    assert client.post("/rounds/applications", data={"company_id": elsewhere.id, "round_id": round_.id}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Application).where(Application.company_id == elsewhere.id)) == 1


# ---- opening from the board and from the company page -------------------------------------------------

def test_officer_finds_a_company_and_opens_an_application_from_the_board(make, client, auth, scene):
    officer, company, elsewhere, round_, _ = scene
    other = make.company(name="川东电子股份有限公司", district="511702")
    auth.login(officer)
    page = client.get(f"/rounds/{round_.id}/applications/new", query_string={"q": "川东"}).text
    assert "川东电子股份有限公司" in page and "已在申报中" in page  # 川东智能 already applies
    assert "渠江新材有限公司" not in client.get(f"/rounds/{round_.id}/applications/new", query_string={"q": "渠江"}).text
    response = client.post("/rounds/applications", data={"company_id": other.id, "round_id": round_.id})
    assert response.status_code == 302
    assert db.session.scalar(select(Application.stage).where(Application.company_id == other.id)) == "intent"


def test_opening_a_second_application_shows_the_chinese_reason(make, client, auth, scene):
    officer, company, _, round_, _ = scene
    auth.login(officer)
    response = client.post("/rounds/applications", data={"company_id": company.id, "round_id": round_.id},
                           follow_redirects=True)
    assert "已有进行中的申报，不能重复新建" in response.text


def test_company_page_lists_applications_with_their_history(make, client, auth, scene):
    officer, company, _, round_, app = scene
    auth.login(officer)
    client.post(move_url(app), data={"to": "coaching", "expected": "intent"})
    page = client.get(f"/companies/{company.id}").text
    assert 'id="applications"' in page and round_.name in page
    assert "意向 → 辅导" in page and "在意向停留 5 天" in page


def test_company_page_offers_only_open_rounds_of_kinds_not_held(make, client, auth):
    officer = make.user("officer")
    company = make.company(officer=officer)
    on = today()
    make.cert(company, "tech_sme", year=on.year, number="held")
    held = make_round(kind="tech_sme", name="科小批次")
    closed = make_round(kind="hnte", name="已截止的高企批次", opens=on - timedelta(days=60), closes=on - timedelta(days=1))
    wanted = make_round(kind="hnte", name="开放中的高企批次")
    auth.login(officer)
    page = client.get(f"/companies/{company.id}").text
    assert f'<option value="{wanted.id}">' in page
    assert f'<option value="{held.id}">' not in page and f'<option value="{closed.id}">' not in page
    response = client.post("/rounds/applications", data={
        "company_id": company.id, "round_id": wanted.id, "next": f"/companies/{company.id}#applications"})
    assert response.headers["Location"] == f"/companies/{company.id}#applications"
    assert f'<option value="{wanted.id}">' not in client.get(f"/companies/{company.id}").text  # now applying


def test_company_page_panel_runs_a_constant_number_of_queries(make, client, auth, count_queries):
    officer = make.user("officer")
    company = make.company(officer=officer)
    auth.login(officer)

    def queries():
        with count_queries() as q:
            client.get(f"/companies/{company.id}")
        return q.count

    application(company, make_round(name="一"), by=officer, stage_path=["coaching"])
    few = queries()
    for ahead, name in enumerate(("二", "三", "四"), start=1):  # one open application per kind and year
        application(company, make_round(name=name, year=today().year + ahead), by=officer,
                    stage_path=["coaching", "preparing", "submitted"])
    assert queries() == few


def test_board_and_column_urls_of_unknown_things_are_404(make, client, auth, scene):
    round_ = scene[3]
    auth.login(make.user("admin"))
    assert client.get("/rounds/99999").status_code == 404
    assert client.get(f"/rounds/{round_.id}/stages/shipped").status_code == 404
    assert client.post("/rounds/applications/99999/move", data={"to": "coaching"}).status_code == 404


def test_unsafe_next_is_ignored(make, client, auth, scene):
    officer, _, _, round_, app = scene
    auth.login(officer)
    response = client.post(move_url(app), data={"to": "coaching", "expected": "intent", "next": "//evil.example/"})
    assert response.headers["Location"] == f"/rounds/{round_.id}"
