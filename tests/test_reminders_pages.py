"""Reminders in the app: upcoming_deadlines(), the deadlines page, preferences, the admins' page (runs,
outbox, test e-mail, lead times) and the 年报 panel on the company page (DOMAIN §3.3, §6)."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import AnnualReport, Application, FollowUp, JobRun, ReminderDigest, Round
from crm.models.reminder import PENDING, SENT, TEST
from crm.reminders.deadlines import Deadline, upcoming_deadlines
from crm.reminders.service import lead_times, run_reminders
from tests.conftest import d, staff


@pytest.fixture
def city(make):
    """Officer zhang covers 通川区 (511702), li covers 达川区 (511703); each has a certificate expiring."""
    zhang = make.user("officer", areas=["511702"], username="zhang")
    li = staff("officer", username="li", areas=[make.area("511703")])
    ours = make.company(name="川东智能科技有限公司", district="511702", officer_id=zhang.id)
    theirs = make.company(name="巴山新材股份有限公司", district="511703", officer_id=li.id)
    orphan = make.company(name="无人包联有限公司", district="511703")
    make.cert(ours, "hnte", issued_on=d("2020-12-03"), number="GR202051000001")  # due 2023-12-02
    make.cert(theirs, "hnte", issued_on=d("2020-12-20"), number="GR202051000002")  # due 2023-12-19
    make.cert(orphan, "hnte", issued_on=d("2021-01-05"), number="GR202151000003")  # due 2024-01-04
    return {"zhang": zhang, "li": li, "ours": ours, "theirs": theirs, "orphan": orphan}


# --- upcoming_deadlines (shared with "My work") ---------------------------------------------------------

def test_upcoming_deadlines_for_an_officer(city):
    found = upcoming_deadlines(city["zhang"].id, d("2023-11-20"), days=60)
    assert found == [Deadline("hnte_expiry", d("2023-12-02"),
                              "高企证书 GR202051000001 将于 2023-12-02 到期（最后有效日），请提醒企业重新申报",
                              city["ours"].id, "川东智能科技有限公司", city["ours"].uscc, city["zhang"].id)]


def test_upcoming_deadlines_window_areas_and_all(city, make):
    start = d("2023-11-20")
    assert [x.company_name for x in upcoming_deadlines(None, start, days=60)] == [
        "川东智能科技有限公司", "巴山新材股份有限公司", "无人包联有限公司"]
    assert [x.due_on for x in upcoming_deadlines(None, start, days=29)] == [d("2023-12-02"), d("2023-12-19")]
    dachuan = [make.area("511703").id]
    found = upcoming_deadlines(None, start, days=60, area_ids=dachuan)
    assert [(x.company_name, x.officer_id) for x in found] == [
        ("巴山新材股份有限公司", city["li"].id), ("无人包联有限公司", None)]


def test_upcoming_deadlines_include_what_is_addressed_to_the_officer_elsewhere(city):
    db.session.add(FollowUp(company_id=city["theirs"].id, title="回访", owner_id=city["zhang"].id, due_on=d("2023-11-25")))
    db.session.add(FollowUp(company_id=city["ours"].id, title="已完成", owner_id=city["zhang"].id, due_on=d("2023-11-26"),
                            done_at=datetime(2023, 11, 1)))
    db.session.commit()
    db.session.add(FollowUp(company_id=city["ours"].id, title="李的回访", owner_id=city["li"].id, due_on=d("2023-11-27")))
    db.session.commit()
    found = upcoming_deadlines(city["zhang"].id, d("2023-11-20"))
    assert [(x.kind, x.company_name) for x in found] == [("follow_up_due", "巴山新材股份有限公司"),
                                                         ("hnte_expiry", "川东智能科技有限公司")]
    # A colleague's follow-up at zhang's company is li's to do: in li's list, not in zhang's "mine".
    assert [(x.kind, x.company_name) for x in upcoming_deadlines(city["li"].id, d("2023-11-20"))] == [
        ("follow_up_due", "川东智能科技有限公司"), ("hnte_expiry", "巴山新材股份有限公司")]


def test_upcoming_deadlines_run_a_constant_number_of_queries(city, make, count_queries):
    def queries():
        with count_queries() as q:
            upcoming_deadlines(None, d("2023-11-20"), days=365)
        return q.count

    few = queries()
    for n in range(12):
        company = make.company(officer_id=city["zhang"].id)
        make.cert(company, "hnte", issued_on=d("2021-02-01"))
        make.cert(company, "tech_sme", year=2023)
        db.session.add(FollowUp(company_id=company.id, title=f"事项{n}", owner_id=city["zhang"].id, due_on=d("2023-12-01")))
    rnd = Round(kind="tech_sme", year=2024, name="2024 科小", opens_on=d("2024-06-30"), closes_on=d("2024-09-30"))
    db.session.add(rnd)
    db.session.commit()
    assert queries() == few + 3  # rounds appeared: applications, registrations and pools are read once each


# --- the deadlines page ------------------------------------------------------------------------------

def test_officer_sees_own_deadlines_grouped_by_week(city, client, auth, monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2023-11-20"))
    auth.login(city["zhang"])
    page = client.get("/deadlines").get_data(as_text=True)
    assert "川东智能科技有限公司" in page and city["ours"].uscc in page
    assert "巴山新材" not in page and "无人包联" not in page
    assert "2023-11-27 至 2023-12-03" in page


def test_deadlines_read_in_the_readers_language_while_the_email_text_stays_chinese(city, client, auth, make,
                                                                                    monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2023-11-20"))
    round_ = Round(kind="hnte", year=2023, name="2023 年高企认定", opens_on=d("2023-05-01"), closes_on=d("2023-12-01"))
    db.session.add_all([round_, Application(company=city["ours"], round=round_, stage="coaching",
                                            officer_id=city["zhang"].id)])
    db.session.commit()
    city["zhang"].locale = "en"
    db.session.commit()
    auth.login(city["zhang"])
    page = client.get("/deadlines").get_data(as_text=True)
    assert "HNTE certificate GR202051000001 expires on 2023-12-02" in page
    assert "is still at the &#34;Coaching&#34; stage" in page or "is still at the \"Coaching\" stage" in page
    assert "高企证书" not in page and "辅导" not in page
    (deadline,) = [x for x in upcoming_deadlines(city["zhang"].id, d("2023-11-20"))
                   if x.kind == "hnte_expiry"]  # outside a request: the catalogue's own language
    assert deadline.text == "高企证书 GR202051000001 将于 2023-12-02 到期（最后有效日），请提醒企业重新申报"


def test_officer_limited_to_areas_even_when_asking_for_all(city, client, auth, make, monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2023-11-20"))
    auth.login(city["zhang"])
    page = client.get("/deadlines?officer=&days=60").get_data(as_text=True)
    assert "川东智能" in page and "巴山新材" not in page and "无人包联" not in page
    assert client.get(f"/deadlines?area={make.area('511703').id}").status_code == 404


def test_admin_sees_all_and_filters_by_officer_and_area(city, client, auth, make, monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2023-11-20"))
    auth.login(make.user("admin"))
    page = client.get("/deadlines").get_data(as_text=True)
    assert all(name in page for name in ("川东智能", "巴山新材", "无人包联"))
    assert "管理员（未分配干部）" in page
    by_officer = client.get(f"/deadlines?officer={city['li'].id}").get_data(as_text=True)
    assert "巴山新材" in by_officer and "川东智能" not in by_officer and "无人包联" not in by_officer
    by_area = client.get(f"/deadlines?area={make.area('511702').id}").get_data(as_text=True)
    assert "川东智能" in by_area and "巴山新材" not in by_area


def test_deadlines_page_runs_a_constant_number_of_queries(city, client, auth, make, count_queries, monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2023-11-20"))
    auth.login(make.user("admin"))

    def queries():
        client.get("/deadlines?days=365")  # reloads the logged-in user after the test's commits
        with count_queries() as q:
            assert client.get("/deadlines?days=365").status_code == 200
        return q.count

    few = queries()
    for _ in range(10):
        make.cert(make.company(officer_id=city["zhang"].id), "hnte", issued_on=d("2021-03-01"))
    assert queries() == few


# --- preferences ---------------------------------------------------------------------------------------

def test_preferences_turn_kinds_off(city, client, auth):
    auth.login(city["zhang"])
    assert "跟进事项到期" in client.get("/reminders/preferences").get_data(as_text=True)
    kinds = ["hnte_annual_report", "tech_sme_renewal", "round_deadline", "follow_up_due"]
    assert client.post("/reminders/preferences", data={"kinds": kinds}).status_code == 302
    db.session.refresh(city["zhang"])
    assert city["zhang"].reminder_opt_out == ["hnte_expiry"]


# --- the admins' page ----------------------------------------------------------------------------------

def test_admin_page_is_for_admins_only(city, client, auth):
    auth.login(city["zhang"])
    assert client.get("/reminders/admin").status_code == 403
    assert client.post("/reminders/admin/test-email").status_code == 403


def test_admin_page_shows_the_last_run_and_the_outbox(city, client, auth, make, smtp):
    admin = make.user("admin")
    run_reminders(d("2023-11-28"))
    auth.login(admin)
    page = client.get("/reminders/admin").get_data(as_text=True)
    assert "发出 3 封邮件、3 项提醒，未能发出 0 封" in page  # zhang, li, and the orphan to the only admin
    assert page.count("已发送") >= 3 and "1 项提醒" in page
    assert "08:30（Asia/Shanghai）" in page


def test_test_email_is_queued_not_sent_in_the_request(city, client, auth, make, smtp):
    admin = make.user("admin")
    auth.login(admin)
    response = client.post("/reminders/admin/test-email", follow_redirects=True)
    assert "下一次提醒任务" in response.get_data(as_text=True)
    assert smtp.messages == []
    digest = db.session.scalar(select(ReminderDigest))
    assert (digest.kind, digest.status, digest.email) == (TEST, PENDING, admin.email)
    result = run_reminders(d("2030-01-01"))  # nothing else is due
    assert (result.sent, result.items) == (1, 0)
    (message,) = smtp.messages
    assert message["To"] == admin.email and message["Subject"] == "Ladder 测试邮件"
    assert db.session.scalar(select(ReminderDigest.status)) == SENT


def test_admin_sets_lead_times(city, client, auth, make):
    auth.login(make.user("admin"))
    form = {"hnte_expiry": "90，30 7", "hnte_annual_report": "30, 14, 3", "tech_sme_renewal": "30, 7, 1",
            "round_deadline": "", "follow_up_due": "3, 0"}
    client.post("/reminders/admin/leads", data=form)
    assert lead_times()["hnte_expiry"] == (90, 30, 7) and lead_times()["round_deadline"] == ()
    response = client.post("/reminders/admin/leads", data={**form, "hnte_expiry": "90, soon"}, follow_redirects=True)
    assert "请填写以逗号分隔的天数" in response.get_data(as_text=True)
    assert lead_times()["hnte_expiry"] == (90, 30, 7)


def test_job_runs_are_described_in_the_readers_language(city, client, auth, make):
    db.session.add_all([
        JobRun(job="reminders", ok=True, result='{"sent": 2, "items": 5, "failed": 1, "queued": 3, "day": "2026-11-28"}'),
        JobRun(job="housekeeping", ok=True, result='{"purged": 4}'),
        JobRun(job="snapshot", ok=False, result="OperationalError: database is locked")])
    db.session.commit()
    auth.login(make.user("admin"))
    page = client.get("/reminders/admin").text
    assert "发出 2 封邮件、5 项提醒，未能发出 1 封；2026-11-28 新增 3 项" in page and "到期提醒" in page
    assert "清理一天前的登录失败记录 4 条" in page and "夜间维护" in page
    assert "OperationalError: database is locked" in page  # a failure's reason as recorded
    assert 'href="/admin/" class="active" aria-current="page"' in page  # the page sits behind 管理
    auth.logout()
    auth.login(make.user("admin", locale="en"))
    page = client.get("/reminders/admin").text
    assert "发出" not in page and "2 e-mails" in page


def test_overdue_scheduler_is_flagged(city, client, auth, make):
    auth.login(make.user("admin"))
    assert "请确认调度进程" in client.get("/reminders/admin").get_data(as_text=True)
    db.session.add(JobRun(job="reminders", ok=True, result="sent 0 e-mails, 0 items; failed 0"))
    db.session.commit()
    assert "请确认调度进程" not in client.get("/reminders/admin").get_data(as_text=True)


# --- 年报 on the company page (DOMAIN §3.3) --------------------------------------------------------------

@pytest.fixture
def hnte_2022(city, make, monkeypatch):
    """A certificate issued 2022-11-10: reports owed for 2022 (due 2023-05-31) and 2023 (due 2024-05-31)."""
    monkeypatch.setattr("crm.clock.today", lambda: d("2024-07-01"))
    company = make.company(name="州河电子科技有限公司", district="511702", officer_id=city["zhang"].id)
    make.cert(company, "hnte", issued_on=d("2022-11-10"))
    return company


@pytest.mark.parametrize("year, filed_on, reason", [
    ("2024", "2024-06-30", "2024 年度尚未结束，该年度的年报在 2025-01-01 以后填报"),  # today is 2024-07-01
    ("2023", "2023-12-20", "2023 年度的年报在该年结束后填报，填报日期应不早于 2024-01-01"),
    ("2021", "2022-05-20", "该企业 2021 年 12 月 31 日未持有有效的高企证书，不需填报该年度年报"),
])
def test_a_report_for_a_year_not_over_or_not_owed_is_refused(hnte_2022, city, client, auth, year, filed_on, reason):
    """§3.3: the report for year Y is filed after Y ends, by a company whose certificate was valid on 31 December
    of Y; recording one for the current year (a typo) would silence next May's reminder."""
    auth.login(city["zhang"])
    response = client.post(f"/companies/{hnte_2022.id}/annual-reports",
                           data={"report-year": year, "report-filed_on": filed_on})
    assert response.status_code == 422 and reason in response.text
    assert db.session.scalar(select(AnnualReport.id)) is None


def test_the_report_form_offers_a_year_that_is_over(hnte_2022, city, client, auth, make):
    """Its default must be recordable: the oldest year owed and not filed, never the year still running."""
    auth.login(city["zhang"])
    client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "2022", "report-filed_on": "2023-05-20"})
    client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "2023", "report-filed_on": "2024-05-20"})
    page = client.get(f"/companies/{hnte_2022.id}").text  # every year over is filed; 2024 is still running
    assert re.search(r'id="report-year"[^>]*value="2023"', page) or re.search(r'value="2023"[^>]*id="report-year"', page)


def test_panel_lists_reports_owed_and_flags_one_missed_as_at_risk(hnte_2022, city, client, auth):
    db.session.add(AnnualReport(company_id=hnte_2022.id, year=2022, filed_on=d("2023-05-20")))
    db.session.commit()
    auth.login(city["zhang"])
    page = client.get(f"/companies/{hnte_2022.id}").get_data(as_text=True)
    assert "高企年度发展情况报表" in page and "已填报（2023-05-20）" in page
    assert "未填报（已逾期）" in page and "风险：已有 1 年未填报" in page


def test_two_missed_reports_may_cancel_the_status(hnte_2022, city, client, auth, monkeypatch):
    monkeypatch.setattr("crm.clock.today", lambda: d("2024-06-01"))
    auth.login(city["zhang"])
    page = client.get(f"/companies/{hnte_2022.id}").get_data(as_text=True)
    assert "已累计 2 年未填报" in page


def test_recording_a_filed_report_clears_the_risk_and_the_reminder(hnte_2022, city, client, auth, smtp):
    auth.login(city["zhang"])
    response = client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "２０２３年", "report-filed_on": "2024年5月20日"})
    assert response.status_code == 302
    assert db.session.scalar(select(AnnualReport.filed_on).where(AnnualReport.company_id == hnte_2022.id)) == d("2024-05-20")
    client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "2022", "report-filed_on": "2023-05-20"})
    page = client.get(f"/companies/{hnte_2022.id}").get_data(as_text=True)
    assert "风险" not in page and "未填报（已逾期）" not in page
    assert run_reminders(d("2024-05-31")).queued == 0
    client.post(f"/companies/{hnte_2022.id}/annual-reports/2023/delete")
    assert run_reminders(d("2024-05-31")).queued == 1


def test_a_report_not_recorded_says_so_at_the_top_and_keeps_the_input(hnte_2022, city, client, auth):
    auth.login(city["zhang"])
    response = client.post(f"/companies/{hnte_2022.id}/annual-reports",
                           data={"report-year": "2022", "report-filed_on": "2099-01-01"})
    assert response.status_code == 422
    head, panel = response.text.split('class="page-head"')[0], response.text.split('id="annual-reports"')[1]
    assert "未保存：请按红字提示修改" in head and 'href="#annual-reports"' in head  # where a phone's screen is
    assert "日期不能晚于今天" in panel and 'value="2099-01-01"' in panel and 'value="2022"' in panel
    assert "<details open" in panel
    assert db.session.scalar(select(func.count()).select_from(AnnualReport)) == 0


def test_report_records_need_an_editor_in_the_companys_area(hnte_2022, city, client, auth, make):
    auth.login(make.user("officer", areas=["511703"]))
    assert client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "2023", "report-filed_on": "2024-05-20"}).status_code == 404
    auth.logout()
    auth.login(make.user("viewer"))
    assert client.post(f"/companies/{hnte_2022.id}/annual-reports", data={"report-year": "2023", "report-filed_on": "2024-05-20"}).status_code == 403
    page = client.get(f"/companies/{hnte_2022.id}").get_data(as_text=True)
    assert "高企年度发展情况报表" in page and "记录已填报的年报" not in page


def test_no_panel_without_a_hnte_certificate(city, client, auth, make):
    auth.login(city["zhang"])
    company = make.company(district="511702")
    assert "高企年度发展情况报表" not in client.get(f"/companies/{company.id}").get_data(as_text=True)


def test_round_deadline_reminders_name_the_application_stage(city, smtp):
    rnd = Round(kind="hnte", year=2023, name="2023 年高企认定", opens_on=d("2023-05-01"), closes_on=d("2023-11-30"))
    db.session.add(rnd)
    db.session.flush()
    db.session.add(Application(company_id=city["ours"].id, round_id=rnd.id, officer_id=city["zhang"].id, stage="coaching"))
    db.session.commit()
    run_reminders(d("2023-11-29"))
    (message,) = smtp.to(city["zhang"].email)
    assert "申报批次「2023 年高企认定」将于 2023-11-30 截止，申报仍处于「辅导」阶段" in message.get_body(("plain",)).get_content()
