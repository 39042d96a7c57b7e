"""Log in, register a company, find it in the list, open it on a phone."""
from datetime import timedelta

from crm.clock import today
from crm.extensions import db
from crm.models import Round
from crm.rounds.service import save_round
from tests.conftest import PASSWORD
from tests.e2e.conftest import login


def test_register_find_and_open_on_phone(page, phone_page, make):
    admin = make.user("admin", username="boss")
    login(page, admin.username, PASSWORD)
    page.goto("/companies/new")
    uscc = make.uscc("511703")
    page.fill("input[name=uscc]", uscc.lower())
    page.fill("input[name=name]", "达州浏览器测试科技有限公司")
    page.select_option("select[name=district_id]", label="达川区")
    page.fill("input[name=founded_on]", "2018年6月1日")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/companies/*")
    assert "已登记企业" in page.content()

    page.goto("/companies/")
    page.fill("input[name=q]", "浏览器测试")
    page.click("form.filters button[type=submit]")
    page.click("text=达州浏览器测试科技有限公司")
    assert uscc in page.content()
    assert page.outside == []

    on = today()  # an open round: the page offers it in a select as wide as its longest name
    save_round(Round(), "hnte", on.year, f"{on.year}年高新技术企业认定申报（第二批，含重新认定企业）",
               on - timedelta(days=5), on + timedelta(days=20))
    db.session.commit()
    login(phone_page, admin.username, PASSWORD)
    phone_page.goto("/companies/?q=" + uscc)
    phone_page.click("text=达州浏览器测试科技有限公司")
    assert phone_page.locator("h1").inner_text() == "达州浏览器测试科技有限公司"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the company page must not scroll sideways on a phone"
    phone_page.click("label.nav-toggle-label")
    assert phone_page.locator("nav.nav a", has_text="企业").is_visible()


def test_a_certification_not_saved_on_a_phone_says_so_on_screen_and_leads_to_the_form(phone_page, make):
    company = make.company(name="手机添加资质测试有限公司")
    login(phone_page, make.user("officer").username, PASSWORD)
    phone_page.goto(f"/companies/{company.id}")
    phone_page.click("#certifications summary")
    phone_page.select_option("#certifications select[name=kind]", value="hnte")
    phone_page.fill("input[name=issued_on]", "2025年2月30日")  # no such day
    phone_page.click("#certifications button[type=submit]")
    notice = phone_page.locator("[role=alert]", has_text="未保存")
    assert notice.is_visible() and notice.bounding_box()["y"] < 667, "the notice is on the first screen"
    notice.locator("a").click()
    error = phone_page.locator("#certifications p.error")  # one reason: unreadable, not also "missing"
    error.wait_for()
    assert "不是有效的日历日期" in error.inner_text()
    assert phone_page.locator("input[name=issued_on]").input_value() == "2025年2月30日"  # the input is kept
    box = error.bounding_box()
    assert 0 <= box["y"] < 667, "the link scrolls the form's error into view"
