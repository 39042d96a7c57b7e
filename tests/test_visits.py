"""Visits (走访) and follow-ups (跟进事项): the form, the rules, the scoping and the admin list of needs."""
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.clock import today
from crm.extensions import db
from crm.models import FollowUp, FollowUpEvent, NeedCategory, Visit
from crm.visits.service import FollowUpDraft, VisitDraft, is_overdue, log_visit
from tests.conftest import d
from tests.visit_data import add_visit, need_id, visit_form


# --- logging a visit ------------------------------------------------------------------------------

def test_a_visit_with_two_follow_ups_and_needs_is_created_in_one_form(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    auth.login(officer)
    due = today() + timedelta(days=10)
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(
        officer, need_ids=[need_id("资金支持"), need_id("认定辅导")],
        **{"follow_ups-0-title": "推送研发费用后补助通知", "follow_ups-1-title": "协助准备高企申报材料",
           "follow_ups-1-due_on": due.isoformat()}))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/companies/{company.id}")
    visit = db.session.scalar(select(Visit))
    assert (visit.company_id, visit.visited_on, visit.kind, visit.officer_id) == (company.id, today(), "onsite", officer.id)
    assert [u.id for u in visit.officers] == [officer.id]
    assert sorted(n.name for n in visit.needs) == ["认定辅导", "资金支持"]
    assert [(f.title, f.owner_id, f.due_on, f.company_id) for f in visit.follow_ups] == [
        ("推送研发费用后补助通知", officer.id, today() + timedelta(days=7), company.id),
        ("协助准备高企申报材料", officer.id, due, company.id),
    ]


def test_the_form_defaults_to_today_me_and_the_company_contact(make, auth, client):
    officer = make.user("officer", display_name="张伟")
    company = make.company(contact_name="刘经理")
    auth.login(officer)
    page = client.get(f"/visits/new?company={company.id}").get_data(as_text=True)
    assert f'value="{today().isoformat()}"' in page
    assert '<input checked id="kind-0" name="kind" type="radio" value="onsite">' in page
    assert f'<option selected value="{officer.id}">张伟</option>' in page
    assert 'value="刘经理"' in page
    assert page.count('name="follow_ups-2-title"') == 1 and 'name="follow_ups-3-title"' not in page  # three rows without JS


def test_validation_errors_keep_everything_typed_and_point_at_the_row(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    auth.login(officer)
    yesterday = (today() - timedelta(days=1)).isoformat()
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(
        officer, summary="", company_people="财务王经理", need_ids=[need_id("知识产权")], visited_on=today().isoformat(),
        **{"follow_ups-0-title": "联系专利代理机构", "follow_ups-1-title": "补交材料", "follow_ups-1-due_on": yesterday,
           "follow_ups-2-title": "无期限的事项", "follow_ups-2-due_on": ""}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写走访情况" in page
    assert "跟进期限不能早于走访日期" in page and "请填写跟进期限" in page
    assert 'value="联系专利代理机构"' in page and 'value="补交材料"' in page and 'value="无期限的事项"' in page
    assert f'value="{yesterday}"' in page and 'value="财务王经理"' in page
    assert f'value="{need_id("知识产权")}" checked' in page
    blank = client.post(f"/visits/new?company={company.id}", data=visit_form(officer, summary="   \n "))
    assert blank.status_code == 422 and "请填写走访情况" in blank.text  # spaces are no summary
    long_title = client.post(f"/visits/new?company={company.id}", data=visit_form(
        officer, summary="走访", **{"follow_ups-0-title": "长" * 301}))
    assert long_title.status_code == 422 and "不能超过 300 字" in long_title.text
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    assert db.session.scalar(select(func.count(FollowUp.id))) == 0


def test_a_problem_only_in_a_follow_up_row_still_says_nothing_was_saved(make, auth, client):
    """The banner at the top is what an officer on a phone sees; the row's red text is screens below."""
    officer = make.user("officer")
    company = make.company()
    auth.login(officer)
    yesterday = (today() - timedelta(days=1)).isoformat()
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(
        officer, visited_on=today().isoformat(), **{"follow_ups-0-title": "补交材料", "follow_ups-0-due_on": yesterday}))
    assert response.status_code == 422
    assert "未保存：请按红字提示修改" in response.text and "跟进期限不能早于走访日期" in response.text


def test_a_visit_date_in_the_future_is_refused(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    auth.login(officer)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(officer, visited_on=tomorrow))
    assert response.status_code == 422 and "日期不能晚于今天" in response.get_data(as_text=True)


def test_a_visit_before_the_company_was_founded_is_refused(make, auth, client):
    officer = make.user("officer")
    company = make.company(founded_on=d("2015-04-07"))
    auth.login(officer)
    response = client.post(f"/visits/new?company={company.id}", data=visit_form(officer, visited_on="2010年1月5日"))
    assert response.status_code == 422 and "走访日期不能早于企业成立日期（2015-04-07）" in response.text
    assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_rows_added_by_the_script_beyond_three_are_saved(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    auth.login(officer)
    extra = {"follow_ups-3-title": "第四项", "follow_ups-3-owner_id": officer.id,
             "follow_ups-3-due_on": (today() + timedelta(days=3)).isoformat()}
    assert client.post(f"/visits/new?company={company.id}", data=visit_form(officer, **extra)).status_code == 302
    assert db.session.scalars(select(FollowUp.title)).all() == ["第四项"]


def test_saving_a_visit_is_one_transaction(make):
    officer = make.user("officer")
    company = make.company()
    draft = VisitDraft(company_id=company.id, visited_on=today(), kind="phone", officer_ids=[officer.id], summary="电话",
                       follow_ups=[FollowUpDraft("负责人不存在", 999999, today())])
    with pytest.raises(IntegrityError):  # the follow-up's owner breaks a foreign key
        log_visit(draft, officer)
    assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_the_same_visit_sent_twice_is_recorded_once(app, make):
    """A second tap on 保存走访 over a slow connection: two requests at once, one visit and one follow-up. Another
    visit to the same company that day (another summary) is its own."""
    from tests.test_companies import run_together

    officer = make.user("officer")
    company = make.company()
    draft = VisitDraft(company_id=company.id, visited_on=today(), kind="onsite", officer_ids=[officer.id],
                       summary="核对研发费用归集", follow_ups=[FollowUpDraft("补齐研发台账", officer.id, today())])
    officer_id = officer.id

    def submit():
        with app.app_context():
            log_visit(draft, db.session.get(type(officer), officer_id))

    run_together(submit, submit)
    submit()
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    assert db.session.scalar(select(func.count(FollowUp.id))) == 1
    assert log_visit(draft, officer)[1] is False  # said to the page: "already recorded"
    # Sent again with a follow-up added (the first answer was lost), or another visit that day: recorded.
    more = replace(draft, follow_ups=[*draft.follow_ups, FollowUpDraft("对接银行", officer.id, today())])
    assert log_visit(more, officer)[1] is True
    log_visit(replace(draft, summary="下午再访：看样品", follow_ups=[]), officer)
    assert db.session.scalar(select(func.count(Visit.id))) == 3


def test_without_a_company_the_form_asks_which_one_mine_first(make, auth, client):
    officer = make.user("officer")
    make.company(name="甲别人的企业有限公司")
    mine = make.company(name="乙我的企业有限公司", officer=officer)
    auth.login(officer)
    page = client.get("/visits/new").get_data(as_text=True)
    assert page.index(mine.name) < page.index("甲别人的企业有限公司")
    assert f"/visits/new?company={mine.id}" in page


# --- area scoping and roles -----------------------------------------------------------------------

def test_visits_and_follow_ups_outside_my_areas_are_404(make, auth, client):
    boss = make.user("admin")
    outside = make.company(district="511725")
    visit = add_visit(outside, boss, follow_ups=[("外区事项", 3)])
    follow_up = visit.follow_ups[0]
    officer = make.user("officer", areas=["511702"])
    auth.login(officer)
    for url in (f"/visits/{visit.id}", f"/visits/new?company={outside.id}", f"/visits/follow-ups/{follow_up.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/visits/new?company={outside.id}", data=visit_form(officer)).status_code == 404
    for action in ("done", "owner", "due"):
        assert client.post(f"/visits/follow-ups/{follow_up.id}/{action}", data={"due_on": "2030-01-01"}).status_code == 404
    for url in ("/visits/", "/visits/follow-ups/?owner=", "/work", f"/visits/?company={outside.id}"):
        assert outside.name not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/visits/?company={outside.id}").status_code == 404


def test_a_viewer_reads_visits_but_cannot_write(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    visit = add_visit(company, officer, follow_ups=[("事项", 3)])
    follow_up = visit.follow_ups[0]
    auth.login(make.user("viewer"))
    assert client.get(f"/visits/{visit.id}").status_code == 200
    assert client.get(f"/visits/follow-ups/{follow_up.id}").status_code == 200
    assert client.get(f"/visits/new?company={company.id}").status_code == 403
    assert client.post(f"/visits/new?company={company.id}", data=visit_form(officer)).status_code == 403
    for action in ("done", "owner", "due"):
        assert client.post(f"/visits/follow-ups/{follow_up.id}/{action}").status_code == 403
    assert client.get("/visits/settings").status_code == 403
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    assert db.session.get(FollowUp, follow_up.id).done_at is None


def test_participants_and_owners_are_limited_to_officers_of_the_company_area(make, auth, client):
    officer = make.user("officer", areas=["511702"])
    elsewhere = make.user("officer", areas=["511725"], display_name="外区干部")
    company = make.company(district="511702")
    auth.login(officer)
    assert "外区干部" not in client.get(f"/visits/new?company={company.id}").get_data(as_text=True)
    data = visit_form(officer, **{"follow_ups-0-title": "派给外区干部", "follow_ups-0-owner_id": elsewhere.id})
    assert client.post(f"/visits/new?company={company.id}", data=data).status_code == 422


# --- follow-ups -----------------------------------------------------------------------------------

def test_a_follow_up_is_not_overdue_on_its_due_date_and_is_the_day_after(make):
    officer = make.user("officer")
    visit = add_visit(make.company(), officer, days_ago=5, follow_ups=[("今天到期", 0), ("昨天到期", -1)])
    due_today, due_yesterday = (next(f for f in visit.follow_ups if f.title == t) for t in ("今天到期", "昨天到期"))
    assert not is_overdue(due_today, today())
    assert is_overdue(due_today, today() + timedelta(days=1))
    assert is_overdue(due_yesterday, today())


def test_overdue_follow_ups_carry_the_overdue_class_wherever_they_appear(make, auth, client):
    officer = make.user("officer")
    company = make.company(officer=officer)
    visit = add_visit(company, officer, days_ago=5, follow_ups=[("今天到期的事项", 0), ("昨天到期的事项", -1)])
    late = next(f for f in visit.follow_ups if f.title == "昨天到期的事项")
    auth.login(officer)
    for url in ("/work", f"/companies/{company.id}", f"/visits/{visit.id}", "/visits/follow-ups/",
                f"/visits/follow-ups/{late.id}"):
        page = client.get(url).get_data(as_text=True)
        assert 'class="follow-up overdue ' in page and f'data-follow-up="{late.id}"' in page, url
        on_time = page[page.index("今天到期的事项") - 400: page.index("今天到期的事项")] if "今天到期的事项" in page else ""
        assert "overdue" not in on_time.rsplit("<li", 1)[-1], url
    timeline = client.get(f"/companies/{company.id}?tl=follow_up").get_data(as_text=True)
    assert timeline.count('class="entry-follow_up overdue"') == 1


def test_marking_done_reassigning_and_rescheduling_keep_history(make, auth, client):
    officer = make.user("officer", display_name="张伟")
    colleague = make.user("officer", display_name="李萍")
    visit = add_visit(make.company(), officer, follow_ups=[("协助申报", 5)])
    follow_up = visit.follow_ups[0]
    auth.login(officer)
    new_due = today() + timedelta(days=20)
    past = client.post(f"/visits/follow-ups/{follow_up.id}/due", data={"due_on": (today() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and "日期不能早于今天" in past.text
    assert client.post(f"/visits/follow-ups/{follow_up.id}/owner", data={"owner_id": colleague.id}).status_code == 302
    assert client.post(f"/visits/follow-ups/{follow_up.id}/due", data={"due_on": new_due.isoformat(),
                                                                          "reason": "企业材料未齐"}).status_code == 302
    assert client.post(f"/visits/follow-ups/{follow_up.id}/done", data={"note": "材料已提交"}).status_code == 302
    db.session.expire_all()
    follow_up = db.session.get(FollowUp, follow_up.id)
    assert (follow_up.due_on, follow_up.owner_id, follow_up.done_note) == (new_due, colleague.id, "材料已提交")
    assert follow_up.done_at is not None
    history = [(e.field, e.old, e.new, e.note, e.by_id) for e in db.session.scalars(select(FollowUpEvent).order_by(FollowUpEvent.id))]
    assert history == [
        ("owner", "张伟", "李萍", "", officer.id),
        ("due_on", (today() + timedelta(days=5)).isoformat(), new_due.isoformat(), "企业材料未齐", officer.id),
        ("done", "", "done", "材料已提交", officer.id),
    ]
    page = client.get(f"/visits/follow-ups/{follow_up.id}").get_data(as_text=True)
    assert "企业材料未齐" in page and "张伟 → 李萍" in page and "材料已提交" in page
    assert f"创建，期限 {(today() + timedelta(days=5)).isoformat()}" in page  # the first due date, not a later one


def test_a_done_follow_up_cannot_be_done_again_reassigned_or_rescheduled(make, auth, client):
    officer = make.user("officer")
    follow_up = add_visit(make.company(), officer, follow_ups=[("事项", 5)]).follow_ups[0]
    auth.login(officer)
    client.post(f"/visits/follow-ups/{follow_up.id}/done", data={"note": "办结"})
    response = client.post(f"/visits/follow-ups/{follow_up.id}/done", data={"note": "再次"})
    assert response.status_code == 422 and "该跟进事项已完成" in response.text  # said, though the forms are gone
    later = (today() + timedelta(days=30)).isoformat()
    moved = client.post(f"/visits/follow-ups/{follow_up.id}/due", data={"due_on": later})
    assert moved.status_code == 422 and "不能再改派或调整期限" in moved.text
    assert client.post(f"/visits/follow-ups/{follow_up.id}/owner", data={"owner_id": officer.id}).status_code == 422
    assert db.session.scalar(select(func.count(FollowUpEvent.id))) == 1


def test_quick_done_from_my_work_returns_to_my_work_and_never_to_another_site(make, auth, client):
    officer = make.user("officer")
    first, second = add_visit(make.company(officer=officer), officer, follow_ups=[("事项", 1), ("另一项", 2)]).follow_ups
    auth.login(officer)
    response = client.post(f"/visits/follow-ups/{first.id}/done", data={"note": "", "next": "/work"})
    assert response.headers["Location"] == "/work"
    evil = client.post(f"/visits/follow-ups/{second.id}/done", data={"note": "", "next": "//evil.example/"})
    assert evil.headers["Location"] == f"/visits/follow-ups/{second.id}"


# --- the visit list and the needs analysis --------------------------------------------------------

def test_needs_are_counted_by_category_and_district_each_linking_to_its_visits(make, auth, client):
    officer = make.user("officer")
    tongchuan, dachuan = make.company(district="511702"), make.company(district="511703")
    add_visit(tongchuan, officer, days_ago=3, needs=["资金支持", "人才引进"])
    add_visit(tongchuan, officer, days_ago=2, needs=["资金支持"])
    add_visit(dachuan, officer, days_ago=1, needs=["资金支持"])
    add_visit(dachuan, officer, days_ago=400, needs=["资金支持"])  # before the period
    add_visit(dachuan, officer, days_ago=1)  # no needs
    auth.login(make.user("viewer"))
    start = (today() - timedelta(days=30)).isoformat()
    page = client.get(f"/visits/needs?from={start}&to={today().isoformat()}").get_data(as_text=True)
    funding, d1 = need_id("资金支持"), make.area("511702").id
    link = f'/visits/?need={funding}&amp;area={d1}&amp;from={start}&amp;to={today().isoformat()}">2</a>'
    assert link in page
    assert f'/visits/?need={funding}&amp;from={start}&amp;to={today().isoformat()}">3</a>' in page
    assert f'/visits/?need=any&amp;area={d1}&amp;from={start}&amp;to={today().isoformat()}">2</a>' in page
    listed = client.get(f"/visits/?need={funding}&area={d1}&from={start}&to={today().isoformat()}").get_data(as_text=True)
    assert listed.count('href="/visits/') - listed.count('href="/visits/?') >= 2
    assert "<small>2</small>" in listed
    other = make.user("officer")
    add_visit(tongchuan, other, days_ago=1, needs=["资金支持"])
    mine = client.get(f"/visits/needs?from={start}&officer={officer.id}").text  # a shared link, narrowed
    assert f'/visits/?need={funding}&amp;area={d1}&amp;from={start}&amp;officer={officer.id}">2</a>' in mine


def test_the_visit_list_filters_by_officer_kind_period_and_area(make, auth, client):
    a, b = make.user("officer"), make.user("officer")
    tongchuan, park = make.company(district="511702"), make.company(district="511703", park="达州高新区")
    add_visit(tongchuan, a, days_ago=1)
    add_visit(park, b, days_ago=1)
    add_visit(park, a, days_ago=100)
    auth.login(make.user("admin"))

    def total(query: str) -> str:
        page = client.get(f"/visits/?{query}").get_data(as_text=True)
        return page.split("<small>", 1)[1].split("</small>", 1)[0]

    assert total("") == "3"
    assert total(f"officer={a.id}") == "2"
    assert total(f"area={make.area('达州高新区').id}") == "2"
    assert total(f"from={(today() - timedelta(days=10)).isoformat()}") == "2"
    assert total("kind=phone") == "0"


# --- the need-category list (admin) ---------------------------------------------------------------

@pytest.fixture
def restore_categories():
    """need_category is reference data that survives between tests: put it back as it was."""
    before = [(c.id, c.name, c.sort, c.active) for c in db.session.scalars(select(NeedCategory))]
    yield
    db.session.rollback()
    for category in db.session.scalars(select(NeedCategory)):
        if category.id not in {row[0] for row in before}:
            db.session.delete(category)
    db.session.flush()
    for cid, name, sort, active in before:
        category = db.session.get(NeedCategory, cid)
        category.name, category.sort, category.active = name, sort, active
    db.session.commit()


def test_an_admin_adds_renames_deactivates_and_reorders_needs(make, auth, client, restore_categories):
    admin = make.user("admin")
    auth.login(admin)
    assert client.post("/visits/settings/categories", data={"add-name": "数字化转型"}).status_code == 302
    added = db.session.scalar(select(NeedCategory).where(NeedCategory.name == "数字化转型"))
    assert added.active and added.sort == max(c.sort for c in db.session.scalars(select(NeedCategory)))
    assert client.post("/visits/settings/categories", data={"add-name": "资金支持"}).status_code == 422  # duplicate

    other = need_id("其他")
    blank = client.post(f"/visits/settings/categories/{other}", data={"name": "", "active": "y"}, follow_redirects=True)
    assert blank.status_code == 200 and "请填写" in blank.text  # refused with the reason, the name kept
    client.post(f"/visits/settings/categories/{other}", data={"name": "其他诉求", "active": "y"})
    client.post(f"/visits/settings/categories/{added.id}/move", data={"step": "up"})
    funding = need_id("资金支持")
    client.post(f"/visits/settings/categories/{funding}", data={"name": "资金支持"})  # unchecked: deactivated
    db.session.expire_all()
    order = db.session.scalars(select(NeedCategory.name).order_by(NeedCategory.sort)).all()
    assert order[-2:] == ["数字化转型", "其他诉求"]
    assert db.session.get(NeedCategory, funding).active is False

    officer = make.user("officer")
    form = client.get(f"/visits/new?company={make.company().id}").get_data(as_text=True)
    assert "其他诉求" in form and "数字化转型" in form and "资金支持" not in form
    auth.logout()
    auth.login(officer)
    assert client.post("/visits/settings/categories", data={"add-name": "越权"}).status_code == 403


def test_a_deactivated_need_stays_on_past_visits_and_in_the_analysis(make, auth, client, restore_categories):
    officer = make.user("officer")
    visit = add_visit(make.company(), officer, needs=["用地/厂房"])
    db.session.get(NeedCategory, need_id("用地/厂房")).active = False
    db.session.commit()
    auth.login(officer)
    assert "用地/厂房" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "用地/厂房" in client.get("/visits/needs").get_data(as_text=True)
