"""Reminders in a real browser, CSRF on: the admin queues a test e-mail, an officer files a 年报 and turns
off a reminder kind on a phone."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import AnnualReport, ReminderDigest, User
from tests.conftest import d
from tests.e2e.conftest import login


def test_admin_queues_a_test_email(page, make):
    admin = make.user("admin", username="e2e_admin")
    login(page, "e2e_admin")
    page.goto("/reminders/admin")
    page.get_by_role("button", name="给我发送测试邮件").click()
    page.wait_for_load_state()
    assert "测试邮件已加入发送队列" in page.content()
    db.session.expire_all()
    assert db.session.scalar(select(ReminderDigest.recipient_id)) == admin.id
    assert page.outside == []


def test_officer_files_an_annual_report_and_turns_off_a_kind_on_a_phone(phone_page, make):
    officer = make.user("officer", username="e2e_officer")
    company = make.company(name="州河电子科技有限公司", officer_id=officer.id)
    make.cert(company, "hnte", issued_on=d("2022-11-10"))
    login(phone_page, "e2e_officer")
    phone_page.goto(f"/companies/{company.id}")
    phone_page.get_by_text("记录已填报的年报").click()
    phone_page.fill("input[name=report-year]", "2023")
    phone_page.fill("input[name=report-filed_on]", "2024年5月20日")
    phone_page.get_by_role("button", name="记录").click()
    phone_page.wait_for_load_state()
    assert "已记录 2023 年度高企发展情况报表" in phone_page.content()
    db.session.expire_all()
    assert db.session.scalar(select(AnnualReport.filed_on)) == d("2024-05-20")

    phone_page.goto("/reminders/preferences")
    phone_page.get_by_label("跟进事项到期").uncheck()
    phone_page.get_by_role("button", name="保存").click()
    phone_page.wait_for_load_state()
    assert "提醒设置已保存" in phone_page.content()
    db.session.expire_all()
    assert db.session.scalar(select(User.reminder_opt_out).where(User.id == officer.id)) == ["follow_up_due"]
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
