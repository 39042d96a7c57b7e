"""Tick companies on the list, add them to a pool, and export the shortlist, in a browser with CSRF on."""
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.ladder_data import YEAR, passing, pool


def test_bulk_add_ticked_companies_and_export_the_shortlist(page, phone_page, make):
    officer = make.user("officer", username="zhang", areas=["511702"])
    target = pool("tech_sme", name="浏览器培育库")
    for name in ("浏览器甲科技有限公司", "浏览器乙科技有限公司", "浏览器丙科技有限公司"):
        passing(make, name)
    login(page, officer.username, PASSWORD)
    page.goto("/companies/?q=浏览器")
    page.check("input[aria-label='选择 浏览器甲科技有限公司']")
    page.check("input[aria-label='选择 浏览器乙科技有限公司']")
    page.click("text=将勾选企业加入培育库")
    assert "将选中的 2 家企业加入" in page.content()
    page.select_option("select[name=pool_id]", str(target.id))
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/pools/{target.id}")
    assert "浏览器甲科技有限公司" in page.content() and "浏览器丙科技有限公司" not in page.content()

    page.goto(f"/shortlists/?kind=tech_sme&year={YEAR}")
    with page.expect_download() as download:
        page.click("text=导出 Excel")
    assert download.value.suggested_filename == f"{YEAR}年科技型中小企业申报名单.xlsx"
    with page.expect_download() as csv_download:  # the form's other button at once: not taken for a second tap
        page.click("text=导出 CSV")
    assert csv_download.value.suggested_filename == f"{YEAR}年科技型中小企业申报名单.csv"
    assert page.outside == []

    login(phone_page, officer.username, PASSWORD)
    phone_page.goto(f"/shortlists/?kind=tech_sme&year={YEAR}")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
