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
