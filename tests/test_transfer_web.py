"""The web flow (upload → preview → confirm), the template, the error report, and list exports."""
import csv
import io
import os
import time
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import func, select
from workbooks import CERT_HEADERS, COMPANY_HEADERS, FIGURE_HEADERS, read_xlsx, xlsx

from crm.extensions import db
from crm.models import AuditLog, Company
from crm.normalize import uscc_check_char
from crm.transfer import uploads
from crm.transfer.schema import SHEETS

A = "91511702MA6C4X3K5" + uscc_check_char("91511702MA6C4X3K5")
B = "91511703MA62QW8T1" + uscc_check_char("91511703MA62QW8T1")


def post_file(client, data: bytes, filename: str = "台账.xlsx"):
    return client.post("/transfer/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def companies() -> int:
    return db.session.scalar(select(func.count()).select_from(Company))


GOOD = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"], ["巴山新材有限公司", B, "达川区"]]}
ONE_BAD = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"], ["巴山新材有限公司", B, "火星区"]]}


# --- upload, preview, confirm ------------------------------------------------------------------

def test_upload_shows_a_preview_and_only_confirming_writes(client, auth, make):
    auth.login(make.user("admin"))
    response = post_file(client, xlsx(GOOD))
    assert response.status_code == 302
    preview = client.get(response.location)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "川东智能科技有限公司" in html and "通川区" in html and "确认导入" in html
    assert companies() == 0
    token = response.location.rsplit("/", 1)[1]
    done = client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"}, follow_redirects=True)
    assert "导入完成：新建 2 行" in done.get_data(as_text=True)
    assert companies() == 2
    assert not (uploads.folder() / f"{token}.xlsx").exists()  # the file is not kept once imported
    again = client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"})
    assert again.status_code == 302 and companies() == 2


def test_a_second_confirm_while_the_first_is_importing_imports_nothing(client, auth, make):
    """A double click or a second tab: the file is claimed by the first confirm, the second finds it taken."""
    admin = make.user("admin")
    auth.login(admin)
    token = post_file(client, xlsx(GOOD)).location.rsplit("/", 1)[1]
    first = uploads.load(token, admin.id)
    assert first.claim() is not None  # the first confirm, still importing
    second = client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"}, follow_redirects=True)
    assert "该文件正在导入" in second.text and companies() == 0
    assert first.claim() is None
    first.release()  # stopped without importing: the file may be confirmed again
    assert first.claim() is not None
    os.utime(first.claimed_path, (0, time.time() - uploads.CLAIM_LEASE_SECONDS - 1))  # its worker died long ago
    done = client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"}, follow_redirects=True)
    assert "导入完成：新建 2 行" in done.text and companies() == 2


def test_the_preview_of_an_update_shows_what_blank_cells_keep(client, auth, make):
    officer = make.user("officer", username="zhangwei", display_name="张伟")
    make.company("川东智能科技有限公司", uscc=A, park="达州高新区", industry="电子信息", officer_id=officer.id)
    auth.login(make.user("admin"))
    row = ["川东智能科技有限公司", A, "通川区", "", "", "", "刘经理", "", "", ""]  # only 联系人 filled in
    html = client.get(post_file(client, xlsx({"企业": [COMPANY_HEADERS, row]})).location).text
    assert "刘经理" in html and "达州高新区" in html and "电子信息" in html and "张伟" in html


def test_the_preview_lists_every_error_and_confirming_all_writes_nothing(client, auth, make):
    auth.login(make.user("admin"))
    location = post_file(client, xlsx(ONE_BAD)).location
    html = client.get(location).get_data(as_text=True)
    assert "未知的区县“火星区”" in html and "下载错误报告" in html and "确认导入" not in html
    assert "只导入无误的 1 行" in html
    token = location.rsplit("/", 1)[1]
    client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"})
    assert companies() == 0
    make.company("川东智能科技有限公司", uscc=A, district="511702")  # the good row is stored already
    html = client.get(post_file(client, xlsx(ONE_BAD)).location).text
    assert 'value="valid"' not in html and "没有需要写入的内容" in html  # nothing would be written


def test_the_error_report_holds_the_bad_rows_with_a_reason_column(client, auth, make):
    auth.login(make.user("admin"))
    location = post_file(client, xlsx(ONE_BAD)).location
    report = client.get(f"{location}/errors.xlsx")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    sheets = read_xlsx(report.data)
    assert sheets["错误汇总"][1][:4] == ("错误", "企业", 3, "所属区县")
    bad = sheets["企业-错误行"]
    assert bad[0] == ("行号", *COMPANY_HEADERS, "错误原因")
    assert bad[1][:4] == (3, "巴山新材有限公司", B, "火星区") and "所属区县：未知的区县" in bad[1][-1]


def test_a_rejected_rows_numbers_and_dates_stay_numbers_and_dates_in_the_error_report(client, auth, make):
    """Fixed in the report and imported again, the row is read as it was typed: -500 a negative amount, not text."""
    auth.login(make.user("admin"))
    rows = [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区", "", "", date(2019, 5, 6)]]
    figures = [FIGURE_HEADERS, [A, 2024, 100, 20, -500, 50.5]]
    location = post_file(client, xlsx({"企业": rows, "年度数据": figures})).location
    bad = read_xlsx(client.get(f"{location}/errors.xlsx").data)["年度数据-错误行"]
    assert bad[1][:7] == (2, A, 2024, 100, 20, -500, 50.5) and "营业收入（万元）：" in bad[1][-1]
    assert "企业-错误行" not in read_xlsx(client.get(f"{location}/errors.xlsx").data)
    dated = post_file(client, xlsx({"企业": [rows[0], ["巴山新材有限公司", B, "火星区", "", "", date(2019, 5, 6)]]})).location
    assert read_xlsx(client.get(f"{dated}/errors.xlsx").data)["企业-错误行"][1][6] == datetime(2019, 5, 6)


def test_importing_only_the_valid_rows_is_an_explicit_choice(client, auth, make):
    auth.login(make.user("admin"))
    token = post_file(client, xlsx(ONE_BAD)).location.rsplit("/", 1)[1]
    html = client.post(f"/transfer/import/{token}/confirm", data={"mode": "valid"}, follow_redirects=True).get_data(as_text=True)
    assert "未导入 1 行" in html
    assert list(db.session.scalars(select(Company.uscc))) == [A]


def test_confirming_validates_the_stored_file_again(client, auth, make):
    officer = make.user("officer", username="zhangwei")
    auth.login(make.user("admin"))
    sheet = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区", "", "", "", "", "", "", "zhangwei"]]}
    token = post_file(client, xlsx(sheet)).location.rsplit("/", 1)[1]
    officer.active = False  # changed between preview and confirm
    db.session.commit()
    html = client.post(f"/transfer/import/{token}/confirm", data={"mode": "all"}, follow_redirects=True).get_data(as_text=True)
    assert "未导入任何数据" in html and "不是在岗的包联干部" in html
    assert companies() == 0


def test_an_upload_is_visible_only_to_the_user_who_made_it(client, auth, make):
    first, second = make.user("admin"), make.user("admin")
    auth.login(first)
    location = post_file(client, xlsx(GOOD)).location
    auth.logout()
    auth.login(second)
    assert client.get(location).status_code == 404
    assert client.post(f"{location}/confirm", data={"mode": "all"}).status_code == 404
    assert client.get(f"{location}/errors.xlsx").status_code == 404
    assert client.get("/transfer/import/..%2F..%2Fconfig").status_code == 404
    assert companies() == 0


def test_viewers_cannot_import(client, auth, make):
    auth.login(make.user("viewer"))
    assert client.get("/transfer/import").status_code == 403
    assert post_file(client, xlsx(GOOD)).status_code == 403


def test_a_file_that_cannot_be_read_is_explained_on_the_upload_page(client, auth, make):
    auth.login(make.user("officer"))
    before = set(uploads.folder().iterdir())
    response = post_file(client, b"just text", "台账.xlsx")
    assert response.status_code == 422
    assert "可能是其他类型的文件改了扩展名" in response.get_data(as_text=True)
    assert set(uploads.folder().iterdir()) == before  # a refused file is not kept
    assert "只能上传 .xlsx 工作簿或 .csv 文件" in post_file(client, b"x", "a.exe").get_data(as_text=True)


def test_an_oversized_upload_gets_413(client, auth, make, app, monkeypatch):
    auth.login(make.user("officer"))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    response = post_file(client, b"x" * 20_000, "企业.csv")
    assert response.status_code == 413 and "上传的文件太大" in response.get_data(as_text=True)


def test_uploaded_text_is_shown_escaped(client, auth, make):
    auth.login(make.user("admin"))
    location = post_file(client, xlsx({"企业": [COMPANY_HEADERS, ["<script>alert(1)</script>", A, "通川区"],
                                                ["巴山新材有限公司", B, "<b>区</b>"]]})).location
    html = client.get(location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>区</b>" not in html and "&lt;b&gt;区&lt;/b&gt;" in html


# --- the template ------------------------------------------------------------------------------

def test_the_template_has_the_three_sheets_notes_examples_and_drop_downs(client, auth, make):
    auth.login(make.user("officer"))
    response = client.get("/transfer/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[:1] == ["企业"] and {"资质", "年度数据", "说明", "选项"} <= set(wb.sheetnames)
    assert wb["选项"].sheet_state == "hidden"
    for spec in SHEETS:
        ws = wb[spec.title]
        assert [c.value for c in ws[1]] == [f.header for f in spec.fields]
        assert ws.max_row == 2  # one example row
        assert all(c.comment for c, f in zip(ws[1], spec.fields) if f.note)
    lists = {ws.title: {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
             for ws in (wb["企业"], wb["资质"])}
    options = wb["选项"]

    def choices(formula):
        column = formula.split("!")[1].split(":")[0].strip("$").rstrip("0123456789").strip("$")
        return [c.value for c in options[column] if c.value]

    assert choices(lists["企业"]["C2"]) == ["通川区", "达川区", "宣汉县", "开江县", "大竹县", "渠县", "万源市"]
    assert choices(lists["企业"]["D2"]) == ["无", "达州高新区", "达州东部经开区"]  # “无” takes a company out of its park
    assert choices(lists["资质"]["B2"]) == ["科技型中小企业", "高新技术企业", "瞪羚企业"]
    assert wb["企业"].column_dimensions["B"].number_format == "@"  # codes stay text when typed


def test_the_template_imports_as_is_without_creating_its_examples(client, auth, make):
    auth.login(make.user("admin"))
    template = client.get("/transfer/template.xlsx").data
    html = client.get(post_file(client, template, "模板.xlsx").location).get_data(as_text=True)
    assert "模板中的示例行，已忽略" in html and "没有发现错误" in html
    assert companies() == 0


# --- exports -----------------------------------------------------------------------------------

def test_the_company_list_exports_as_xlsx_with_real_dates_and_a_frozen_bold_header(client, auth, make):
    auth.login(make.user("admin"))
    make.company("达州巴山电子有限公司", district="511702", park="达州高新区", founded_on=date(2018, 6, 1),
                 contact_phone="0818-2345678")
    response = client.post("/transfer/export/companies", data={"format": "xlsx"})
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in ws[1]] == ["企业名称", "统一社会信用代码", "所属区县", "所在园区", "当前梯次", "包联干部",
                                        "成立日期", "联系人", "联系电话"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    row = [c.value for c in ws[2]]
    assert row[0] == "达州巴山电子有限公司" and row[2:4] == ["通川区", "达州高新区"] and row[8] == "0818-2345678"
    assert ws["G2"].is_date and ws["G2"].value.date() == date(2018, 6, 1)


def test_the_csv_export_has_a_bom_and_follows_the_list_filter(client, auth, make):
    auth.login(make.user("admin"))
    make.company("通川企业", district="511702")
    make.company("达川企业", district="511703")
    district = make.area("511703").id
    response = client.post("/transfer/export/companies", data={"format": "csv", "district": str(district)})
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["企业名称", "统一社会信用代码", "所属区县"]
    assert [r[0] for r in rows[1:]] == ["达川企业"]


def test_an_export_respects_the_users_areas_and_is_audited(client, auth, make):
    officer = make.user("officer", areas=["511702"])
    make.company("通川企业", district="511702")
    make.company("达川企业", district="511703")
    auth.login(officer)
    rows = read_xlsx(client.post("/transfer/export/companies", data={"format": "xlsx"}).data)["企业名单"]
    assert [r[0] for r in rows[1:]] == ["通川企业"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "export"))
    assert (entry.user_id, entry.action, entry.changes["rows"], entry.changes["format"]) == (officer.id, "export", 1, "xlsx")


def test_exports_are_post_only(client, auth, make):
    auth.login(make.user("admin"))
    assert client.get("/transfer/export/companies").status_code == 405
    assert client.post("/transfer/export/companies", data={"format": "pdf"}).status_code == 400


def test_a_formula_typed_as_a_name_is_imported_as_text_and_neutralised_on_export(client, auth, make):
    auth.login(make.user("admin"))
    token = post_file(client, xlsx({"企业": [COMPANY_HEADERS, ["=1+1", A, "通川区"], ["@SUM(A1)", B, "达川区"]]})).location
    client.post(f"{token}/confirm", data={"mode": "all"})
    assert sorted(db.session.scalars(select(Company.name))) == ["=1+1", "@SUM(A1)"]
    rows = read_xlsx(client.post("/transfer/export/companies", data={"format": "xlsx", "sort": "uscc"}).data)["企业名单"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'@SUM(A1)"]
    text = client.post("/transfer/export/companies", data={"format": "csv", "sort": "uscc"}).data.decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == ["'=1+1", "'@SUM(A1)"]


def test_the_company_list_offers_both_exports_with_its_filter(client, auth, make):
    auth.login(make.user("viewer"))
    html = client.get("/companies/?district=2&q=%E5%B7%B4").get_data(as_text=True)
    assert 'action="/transfer/export/companies"' in html
    assert 'name="district" value="2"' in html and 'name="q" value="巴"' in html
    assert 'value="xlsx"' in html and 'value="csv"' in html


def test_the_certifications_sheet_alone_imports_as_a_csv(client, auth, make):
    make.company(uscc=A)
    auth.login(make.user("admin"))
    data = "\n".join([",".join(CERT_HEADERS), f"{A},科小,,2024,,,"]).encode("gbk")
    location = post_file(client, data, "资质.csv").location
    client.post(f"{location}/confirm", data={"mode": "all"})
    assert db.session.scalar(select(Company).where(Company.uscc == A)).certifications[0].year == 2024


def test_the_company_list_exported_and_imported_again_changes_nothing_even_where_it_was_neutralised(
        client, auth, make, runner, tmp_path):
    auth.login(make.user("admin"))
    make.company("=HYPERLINK(\"http://x\",\"点我\")", district="511702", founded_on=date(2018, 6, 1),
                 contact_name="-王五", contact_phone="+86 138 0000 0000")
    make.company("达川企业", district="511703", park="达州高新区", contact_name="@李四")
    for fmt in ("xlsx", "csv"):
        path = tmp_path / f"企业名单.{fmt}"
        path.write_bytes(client.post("/transfer/export/companies", data={"format": fmt}).data)
        result = runner.invoke(args=["companies", "import", str(path)])
        assert result.stdout.splitlines()[0] == "created 0, updated 0, unchanged 2, rejected 0", result.output
    assert sorted(db.session.scalars(select(Company.contact_name))) == ["-王五", "@李四"]


def test_downloads_carry_their_chinese_name_and_an_ascii_name_that_still_says_what_they_are(client, auth, make):
    from urllib.parse import quote

    from crm.clock import today as bureau_today

    auth.login(make.user("admin"))
    today = bureau_today().strftime("%Y%m%d")  # the bureau's day (Asia/Shanghai), not this machine's
    company_list = client.post("/transfer/export/companies", data={"format": "csv"}).headers["Content-Disposition"]
    template = client.get("/transfer/template.xlsx").headers["Content-Disposition"]
    errors = client.get(f"{post_file(client, xlsx(ONE_BAD)).location}/errors.xlsx").headers["Content-Disposition"]
    assert company_list == f"attachment; filename=\"companies-{today}.csv\"; filename*=UTF-8''{quote(f'企业名单-{today}.csv')}"
    assert template.startswith('attachment; filename="ladder-import-template.xlsx"; filename*=UTF-8\'\'Ladder')
    assert errors.startswith('attachment; filename="import-errors.xlsx"') and quote("错误报告-台账") in errors
