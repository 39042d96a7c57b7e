"""Correcting and deleting a saved visit: who may, what the audit trail keeps, conflicts, and the follow-ups."""
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm.clock import today
from crm.extensions import db
from crm.models import AuditLog, FollowUp, NeedCategory, Visit
from tests.conftest import PASSWORD
from tests.visit_data import add_visit, need_id


def correction(visit: Visit, **over) -> dict:
    """The correction form as the page fills it (its hidden fingerprint included), with `over` typed in."""
    data = {"visited_on": visit.visited_on.isoformat(), "kind": visit.kind, "summary": visit.summary,
            "need_ids": [n.id for n in visit.needs], "needs_detail": visit.needs_detail,
            "officer_ids": [u.id for u in visit.officers], "company_people": visit.company_people}
    return data | over


def loaded_form(client, visit: Visit) -> dict:
    page = client.get(f"/visits/{visit.id}/edit")
    assert page.status_code == 200
    return {"loaded": re.search(r'name="loaded" type="hidden" value="([0-9a-f]+)"', page.text).group(1)}


def fresh(visit_id: int) -> Visit:
    db.session.expire_all()
    return db.session.get(Visit, visit_id)


def test_the_officer_who_made_a_visit_corrects_it_and_the_timeline_shows_old_and_new(make, auth, client):
    officer = make.user("officer", display_name="张伟")
    colleague = make.user("officer", display_name="李娜")
    company = make.company(name="达州凤凰科技有限公司")
    visit = add_visit(company, officer, days_ago=1, needs=["资金支持"])
    auth.login(officer)
    form = client.get(f"/visits/{visit.id}/edit").text
    assert "走访</textarea>" in form and f'value="{need_id("资金支持")}" checked' in form  # filled as saved
    response = client.post(f"/visits/{visit.id}/edit", data=correction(
        visit, **loaded_form(client, visit), summary="座谈研发投入", kind="phone", visited_on=today().isoformat(),
        need_ids=[need_id("资金支持"), need_id("知识产权")], officer_ids=[officer.id, colleague.id]))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/visits/{visit.id}")
    saved = fresh(visit.id)
    assert (saved.summary, saved.kind, saved.visited_on) == ("座谈研发投入", "phone", today())
    assert sorted(n.name for n in saved.needs) == ["知识产权", "资金支持"]
    assert sorted(u.label for u in saved.officers) == ["张伟", "李娜"] and saved.officer_id == officer.id
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "visit"))
    assert (entry.action, entry.entity_id, entry.company_id) == ("update", visit.id, company.id)
    assert entry.user_id == officer.id
    assert entry.changes["summary"] == ["走访", "座谈研发投入"]
    timeline = client.get(f"/companies/{company.id}?tl=edit").text
    assert f'修改 <a href="/visits/{visit.id}">走访记录</a>' in re.sub(r"\s+", " ", timeline)  # which visit
    assert "<li>走访情况：走访 → 座谈研发投入</li>" in timeline
    assert "<li>走访方式：实地走访 → 电话</li>" in timeline
    assert "<li>企业诉求：资金支持 → 资金支持、知识产权</li>" in timeline
    assert "<li>走访干部：张伟 → 张伟、李娜</li>" in timeline
    page = client.get(f"/visits/{visit.id}").text
    assert "<li>走访情况：走访 → 座谈研发投入</li>" in page.split("<main")[1]  # the visit's own history, in the page
    assert "修改记录" not in re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    auth.logout()
    auth.login(make.user("admin", locale="en"))
    page = client.get(f"/visits/{visit.id}").text
    assert "<title>Visit record" in page and "Visits" not in re.search(r"<h1>(.*?)<br>", page, re.S).group(1)


def test_who_may_correct_a_visit(make, auth, client):
    author = make.user("officer", areas=["511702"])
    participant = make.user("officer", areas=["511702"])
    colleague = make.user("officer", areas=["511702"])
    elsewhere = make.user("officer", areas=["511703"])
    viewer = make.user("viewer")
    admin = make.user("admin")
    company = make.company(district="511702")
    visit = add_visit(company, author)
    visit.officers.append(participant)
    db.session.commit()
    for user, status in ((colleague, 403), (elsewhere, 404), (viewer, 403), (participant, 200), (admin, 200)):
        auth.login(user)
        assert client.get(f"/visits/{visit.id}/edit").status_code == status, user.username
        page = client.get(f"/visits/{visit.id}")
        assert (f"/visits/{visit.id}/edit" in page.text) == (status == 200), user.username
        auth.logout()
    for user in (colleague, viewer):
        auth.login(user)
        assert client.post(f"/visits/{visit.id}/edit", data=correction(visit, summary="改")).status_code == 403
        assert client.post(f"/visits/{visit.id}/delete").status_code == 403
        auth.logout()
    assert fresh(visit.id).summary == "走访"


def test_a_correction_with_a_mistake_is_refused_with_the_reason_and_keeps_the_typing(make, auth, client):
    officer = make.user("officer")
    company = make.company(founded_on=today() - timedelta(days=30))
    visit = add_visit(company, officer)
    auth.login(officer)
    response = client.post(f"/visits/{visit.id}/edit", data=correction(
        visit, summary="补充了研发情况", visited_on=(today() - timedelta(days=40)).isoformat()))
    assert response.status_code == 422
    assert "走访日期不能早于企业成立日期" in response.text and "补充了研发情况</textarea>" in response.text
    assert "未保存" in response.text
    promised = add_visit(company, officer, days_ago=5, follow_ups=[("推送政策", -2)])  # due three days after it
    response = client.post(f"/visits/{promised.id}/edit", data=correction(promised, visited_on=today().isoformat()))
    assert response.status_code == 422 and "走访日期不能晚于它的跟进事项的期限" in response.text
    response = client.post(f"/visits/{visit.id}/edit", data=correction(visit, summary=" ", officer_ids=[]))
    assert response.status_code == 422 and "请填写走访情况" in response.text and "请至少选择一名走访干部" in response.text
    assert fresh(visit.id).summary == "走访"
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "visit")) == 0


def test_two_people_correcting_one_visit_the_second_is_told_and_keeps_the_typing(make, app):
    officer = make.user("officer", username="zhang", display_name="张伟")
    admin = make.user("admin", username="boss")
    visit = add_visit(make.company(), officer)
    a, b = app.test_client(), app.test_client()
    for client, user in ((a, officer), (b, admin)):
        client.post("/login", data={"username": user.username, "password": PASSWORD})
    loaded_a, loaded_b = loaded_form(a, visit), loaded_form(b, visit)
    assert a.post(f"/visits/{visit.id}/edit", data=correction(visit, **loaded_a, summary="甲的说明")).status_code == 302
    second = b.post(f"/visits/{visit.id}/edit", data=correction(visit, **loaded_b, summary="乙的说明"))
    assert second.status_code == 409
    assert "张伟" in second.text and "修改了这条走访记录" in second.text
    assert "<li>走访情况：走访 → 甲的说明</li>" in second.text and "乙的说明</textarea>" in second.text
    assert fresh(visit.id).summary == "甲的说明"
    again = b.post(f"/visits/{visit.id}/edit", data=correction(visit, **loaded_form(b, visit), summary="乙的说明"))
    assert again.status_code == 302 and fresh(visit.id).summary == "乙的说明"  # saving again overwrites, knowingly


def test_a_correction_sent_twice_is_saved_once_and_the_second_is_no_conflict(make, auth, client):
    officer = make.user("officer")
    visit = add_visit(make.company(), officer)
    auth.login(officer)
    data = correction(visit, **loaded_form(client, visit), summary="补充说明")
    assert client.post(f"/visits/{visit.id}/edit", data=data).status_code == 302
    resent = client.post(f"/visits/{visit.id}/edit", data=data, follow_redirects=True)
    assert resent.status_code == 200 and "走访记录没有变化" in resent.text
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "visit")) == 1


def test_people_and_needs_since_retired_stay_on_the_visit_when_it_is_corrected(make, auth, client):
    lead = make.user("officer", display_name="王强")
    former = make.user("officer", display_name="已离岗干部")
    company = make.company()
    visit = add_visit(company, lead, needs=["用地/厂房"])
    visit.officers.append(former)
    db.session.commit()
    former.active = False
    db.session.get(NeedCategory, need_id("用地/厂房")).active = False
    db.session.commit()
    auth.login(lead)
    assert "已离岗干部" in client.get(f"/visits/{visit.id}/edit").text
    response = client.post(f"/visits/{visit.id}/edit", data=correction(visit, **loaded_form(client, visit),
                                                                       summary="更正"))
    assert response.status_code == 302
    saved = fresh(visit.id)
    assert {u.label for u in saved.officers} == {"王强", "已离岗干部"}
    assert [n.name for n in saved.needs] == ["用地/厂房"]


def test_taking_the_lead_off_a_visit_makes_a_remaining_officer_its_lead(make, auth, client):
    lead, helper = make.user("officer"), make.user("officer")
    visit = add_visit(make.company(), lead)
    auth.login(make.user("admin"))
    response = client.post(f"/visits/{visit.id}/edit", data=correction(visit, **loaded_form(client, visit),
                                                                       officer_ids=[helper.id]))
    assert response.status_code == 302
    assert fresh(visit.id).officer_id == helper.id


def test_deleting_a_visit_keeps_its_follow_ups_and_what_it_said(make, auth, client):
    officer = make.user("officer")
    company = make.company()
    visit = add_visit(company, officer, follow_ups=[("推送政策", 7)], needs=["人才引进"])
    visit_id, visit_date = visit.id, visit.visited_on.isoformat()
    auth.login(officer)
    client.post(f"/visits/{visit_id}/edit", data=correction(visit, **loaded_form(client, visit), summary="先改过一次"))
    page = client.get(f"/visits/{visit_id}").text
    assert "它的 1 项跟进事项仍保留在企业名下" in page  # the confirmation says what stays
    assert client.get(f"/visits/{visit_id}/delete").status_code == 405
    response = client.post(f"/visits/{visit_id}/delete", follow_redirects=True)
    assert response.status_code == 200 and "已删除走访记录" in response.text
    assert fresh(visit_id) is None
    follow_up = db.session.scalar(select(FollowUp))
    assert (follow_up.title, follow_up.company_id, follow_up.visit_id) == ("推送政策", company.id, None)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "visit", AuditLog.action == "delete"))
    assert entry.action == "delete" and entry.company_id == company.id
    assert entry.changes["summary"] == ["先改过一次", None] and entry.changes["needs"] == ["人才引进", None]
    timeline = re.sub(r"\s+", " ", client.get(f"/companies/{company.id}").text)
    assert f"删除 走访记录 {visit_date}" in timeline and "推送政策" in timeline
    assert f'href="/visits/{visit_id}"' not in timeline  # an earlier correction of it links nowhere now
    history = client.get(f"/visits/follow-ups/{follow_up.id}").text
    assert f"删除了它所属的走访记录（{visit_date}）" in history  # the follow-up's own history says where its visit went
    again = client.post(f"/visits/{visit_id}/delete", follow_redirects=True)  # a second tap
    assert "这条走访记录已被 " in again.text and f"/companies/{company.id}" in again.request.url
    typed = client.post(f"/visits/{visit_id}/edit", data={"summary": "改了一半"}, follow_redirects=True)
    assert "删除，刚才的修改没有保存" in typed.text  # a correction sent after the visit was deleted
    assert client.get(f"/visits/{visit_id}/edit").status_code == 404


# --- a follow-up without a visit ------------------------------------------------------------------

def test_a_follow_up_is_added_without_a_visit_and_reaches_its_owner(make, auth, client):
    officer = make.user("officer", display_name="张伟")
    colleague = make.user("officer", display_name="李娜")
    company = make.company(name="达州凤凰科技有限公司", officer=officer)
    auth.login(officer)
    form = client.get(f"/visits/follow-ups/new?company={company.id}").text
    assert f'<option selected value="{officer.id}">张伟</option>' in form
    assert f'value="{(today() + timedelta(days=7)).isoformat()}"' in form
    due = today() + timedelta(days=3)
    data = {"title": "电话答应：寄送研发费用加计扣除政策", "owner_id": colleague.id, "due_on": f"{due.year}年{due.month}月{due.day}日"}
    response = client.post(f"/visits/follow-ups/new?company={company.id}", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/companies/{company.id}")
    again = client.post(f"/visits/follow-ups/new?company={company.id}", data=data, follow_redirects=True)
    assert "重复提交的未再保存" in again.text  # a second tap
    follow_up = db.session.scalar(select(FollowUp))
    assert (follow_up.company_id, follow_up.visit_id, follow_up.owner_id, follow_up.due_on, follow_up.created_by_id) == (
        company.id, None, colleague.id, due, officer.id)
    assert db.session.scalar(select(func.count(FollowUp.id))) == 1
    assert "电话答应：寄送研发费用加计扣除政策" in client.get(f"/companies/{company.id}").text
    auth.logout()
    auth.login(colleague)
    assert "电话答应：寄送研发费用加计扣除政策" in client.get("/work").text


def test_a_follow_up_without_a_title_due_date_or_a_possible_owner_is_refused(make, auth, client):
    officer = make.user("officer", areas=["511702"])
    elsewhere = make.user("officer", areas=["511703"])
    company = make.company(district="511702")
    auth.login(officer)
    url = f"/visits/follow-ups/new?company={company.id}"
    past = (today() - timedelta(days=1)).isoformat()
    response = client.post(url, data={"title": " ", "owner_id": officer.id, "due_on": past})
    assert response.status_code == 422 and "请填写跟进事项" in response.text and "日期不能早于今天" in response.text
    response = client.post(url, data={"title": "协助", "owner_id": elsewhere.id, "due_on": today().isoformat()})
    assert response.status_code == 422 and "value=\"协助\"" in response.text
    assert db.session.scalar(select(func.count(FollowUp.id))) == 0
    auth.logout()
    auth.login(elsewhere)
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login(make.user("viewer"))
    assert client.get(url).status_code == 403
    assert "follow-ups/new" not in client.get(f"/companies/{company.id}").text


def test_an_officer_swapped_for_a_namesake_is_a_correction_too(make, auth, client):
    """Two 张伟 in one bureau: the names read the same, the people differ."""
    first, namesake = make.user("officer", display_name="张伟"), make.user("officer", display_name="张伟")
    lead = make.user("officer")
    visit = add_visit(make.company(), lead)
    visit.officers.append(first)
    db.session.commit()
    auth.login(lead)
    response = client.post(f"/visits/{visit.id}/edit", data=correction(
        visit, **loaded_form(client, visit), officer_ids=[lead.id, namesake.id]), follow_redirects=True)
    assert "已保存对走访记录的修改" in response.text
    assert {u.id for u in fresh(visit.id).officers} == {lead.id, namesake.id}
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "visit")) == 1


def test_a_visit_deleted_twice_at_once_is_deleted_once(make):
    from crm.visits.service import withdraw_visit

    officer = make.user("officer")
    visit = add_visit(make.company(), officer)
    assert withdraw_visit(visit.id, visit.company_id, officer) == 0
    assert withdraw_visit(visit.id, visit.company_id, officer) is None  # the second finds it gone
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "visit")) == 1


def test_a_draft_sent_again_long_after_its_save_went_through_is_not_a_second_visit(make):
    """The answer to the save was lost on a bad connection; the phone put the draft back a day later."""
    from datetime import datetime

    from crm.visits.service import VisitDraft, log_visit

    officer = make.user("officer")
    company = make.company(officer=officer)
    draft = VisitDraft(company.id, today(), "onsite", [officer.id], summary="座谈", client_token="0f" * 16)
    first, recorded = log_visit(draft, officer)
    assert recorded
    first.created_at = datetime(2020, 1, 1)  # long past the ten minutes a repeated tap is recognised within
    db.session.commit()
    again, recorded = log_visit(draft, officer)
    assert (again.id, recorded) == (first.id, False)
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    other, recorded = log_visit(VisitDraft(company.id, today(), "onsite", [officer.id], summary="座谈"), officer)
    assert recorded and other.id != first.id  # without a token: a visit of its own (past the ten minutes)


def test_the_follow_up_ledger_holds_follow_ups_with_a_visit_or_without(make, auth, client):
    """The 走访台账 is one row per visit (INTERFACES.md): a follow-up promised on a call, or whose visit was deleted,
    is in the 跟进事项台账 exported from the follow-ups list, with the list's filters and within the user's areas."""
    import csv
    import io

    from workbooks import read_xlsx

    officer = make.user("officer", areas=["511702"], display_name="张伟")
    company = make.company(name="达州凤凰科技有限公司", district="511702", officer=officer)
    elsewhere = make.company(name="区外企业有限公司", district="511703")
    visit = add_visit(company, officer, days_ago=3, follow_ups=[("推送政策", 4)])
    db.session.add_all([
        FollowUp(company_id=company.id, title="=HYPERLINK(\"http://x\")", owner_id=officer.id, due_on=today()),
        FollowUp(company_id=elsewhere.id, title="区外事项", owner_id=officer.id, due_on=today()),
    ])
    db.session.commit()
    auth.login(officer)
    assert 'href="/visits/follow-ups/export?status=open&amp;owner=me"' in client.get("/visits/follow-ups/").text
    sheet = read_xlsx(client.get("/visits/follow-ups/export?status=open&owner=me").data)["跟进事项台账"]
    assert sheet[0][:4] == ("企业名称", "统一社会信用代码", "所属区县", "跟进事项")
    rows = {r[3]: r for r in sheet[1:]}
    assert set(rows) == {"推送政策", "'=HYPERLINK(\"http://x\")"}  # another area's is not there; no formula runs
    assert rows["推送政策"][4:7] == ("张伟", datetime.combine(today() + timedelta(days=4), datetime.min.time()), "进行中")
    assert rows["推送政策"][9] == datetime.combine(visit.visited_on, datetime.min.time())  # 来自走访
    assert rows["'=HYPERLINK(\"http://x\")"][9] is None  # no visit
    colleague = make.user("officer", areas=["511702"])
    db.session.add(FollowUp(company_id=company.id, title="同事的事项", owner_id=colleague.id, due_on=today()))
    db.session.commit()
    everyone = client.get("/visits/follow-ups/?owner=&status=open").text  # 全部负责人: the export takes it along
    export = re.search(r'href="(/visits/follow-ups/export\?[^"]*)"', everyone).group(1).replace("&amp;", "&")
    assert "同事的事项" in {r[3] for r in read_xlsx(client.get(export).data)["跟进事项台账"]}
    client.post(f"/visits/{visit.id}/delete")
    text = client.get("/visits/follow-ups/export?status=open&owner=me&format=csv").data.decode("utf-8-sig")
    by_title = {r[3]: r for r in csv.reader(io.StringIO(text))}
    assert by_title["推送政策"][9] == ""  # its visit deleted, the follow-up still in the ledger
