"""In a browser: fill in the template with a mistake, see the preview, download the error report,
fix the file, confirm; then export the company list (CSRF on, as in production)."""
import re

from openpyxl import load_workbook
from sqlalchemy import select

from crm.extensions import db
from crm.models import Company
from crm.normalize import uscc_check_char

from .conftest import login

GOOD = "91511702MA6C4X3K5" + uscc_check_char("91511702MA6C4X3K5")
FIXED = "91511703MA62QW8T1" + uscc_check_char("91511703MA62QW8T1")


def saved(download, path):
    """Playwright keeps downloads under random names; openpyxl wants the extension."""
    download.value.save_as(path)
    return path


def test_import_with_errors_then_fixed_then_confirmed_then_exported(page, make, tmp_path):
    make.user("admin", username="e2e-admin")
    login(page, "e2e-admin")
    page.goto("/transfer/import")
    with page.expect_download() as template:
        page.click("text=下载导入模板")
    workbook = load_workbook(saved(template, tmp_path / "模板.xlsx"))
    sheet = workbook["企业"]
    sheet.append(["川东智能科技有限公司", GOOD, "通川区", "达州高新区"])
    sheet.append(["巴山新材有限公司", FIXED, "火星区"])
    filled = tmp_path / "台账.xlsx"
    workbook.save(filled)

    page.set_input_files("input[type=file]", str(filled))
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(re.compile(r"/transfer/import/[0-9a-f]{32}$"))
    assert page.locator("table.problems").inner_text().count("未知的区县“火星区”") == 1
    assert page.locator("text=确认导入").count() == 0
    with page.expect_download() as report:
        page.click("text=下载错误报告")
    bad_rows = list(load_workbook(saved(report, tmp_path / "错误报告.xlsx"))["企业-错误行"].iter_rows(values_only=True))
    assert bad_rows[1][:4] == (4, "巴山新材有限公司", FIXED, "火星区") and "未知的区县" in bad_rows[1][-1]

    sheet["C4"] = "达川区"
    workbook.save(filled)
    page.click("text=上传其他文件")
    page.set_input_files("input[type=file]", str(filled))
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(re.compile(r"/transfer/import/[0-9a-f]{32}$"))
    assert "没有发现错误" in page.content()
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入完成：新建 2 行")
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Company.uscc))) == sorted([GOOD, FIXED])

    page.goto("/companies/")
    with page.expect_download() as export:
        page.click("button:has-text('导出 Excel')")
    rows = list(load_workbook(saved(export, tmp_path / "企业名单.xlsx")).active.iter_rows(values_only=True))
    assert rows[0][0] == "企业名称" and {r[0] for r in rows[1:]} == {"川东智能科技有限公司", "巴山新材有限公司"}
    assert page.outside == []
