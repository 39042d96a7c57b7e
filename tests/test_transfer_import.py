"""Importing the bureau's workbook (DOMAIN §7, §8): normalising, every error class, all-or-nothing,
skip-invalid, re-import, audit and area scoping."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from workbooks import CERT_HEADERS, COMPANY_HEADERS, FIGURE_HEADERS, csv_bytes, xlsx

from crm.clock import today
from crm.extensions import db
from crm.models import AuditLog, Certification, Company, CompanyYear
from crm.normalize import uscc_check_char
from crm.transfer.importer import run_import
from crm.transfer.reader import ImportRefused
from crm.transfer.schema import EXAMPLE_USCC


def code(body: str) -> str:
    """A valid code from its first 17 characters."""
    return body + uscc_check_char(body)


A = code("91511702MA6C4X3K5")
B = code("91511703MA62QW8T1")
C = code("91511722MA7B0L2N3")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(sheets, user=None, filename="台账.xlsx", **kw):
    return run_import(xlsx(sheets), filename, user, **kw)


def company_row(name="川东智能科技有限公司", uscc=A, district="通川区", park="", founded="", officer=""):
    return [name, uscc, district, park, "电子信息", founded, "刘经理", "13900000000", "", officer]


def problems_of(result):
    return [(p.sheet, p.row, p.column, p.reason) for p in result.problems]


# --- a messy ledger ----------------------------------------------------------------------------

def test_a_messy_ledger_is_normalised_as_domain_7_says(make):
    officer = make.user("officer", username="zhangwei")
    spaced_lower = " ".join([A[:2], A[2:8].lower(), A[8:12].lower(), A[12:].lower()])
    sheets = {
        "企业": [
            ["企业全称", " 信用代码 ", "区县", "园区", "行业", "注册日期", "联系人", "联系电话", "负责人", "备注"],
            ["川东智能科技有限公司", spaced_lower, "通川区", "达州高新区", "电子信息", "2021年3月5日", "刘经理", 13912345678, "zhangwei", "老客户"],
            ["巴山新材股份有限公司", fullwidth(B), "511721", "", "新材料", 44260, "", "", "", ""],
            ["宣汉精密制造有限公司", C, "宣汉", "", "", date(2019, 7, 1), "", "", "", ""],
        ],
        "资质": [
            ["信用代码", "资质类型", "证书编号", "年度", "发证日期", "状态"],
            [A, "高企", "GR202351000123", "", "2023/12/12", "有效"],
            [fullwidth(B), "科技型中小企业", "", "２０２４", "", ""],
        ],
        "年度数据": [
            ["统一社会信用代码", "年度", "职工总数", "科技人员数", "营业收入(万元)", "研发费用", "Ⅰ类知识产权数", "II类知识产权数"],
            [A, "2023年", "１２０", 36, "8,600.5", "520万元", 2, 15],
        ],
    }
    result = run(sheets)
    assert result.problems == []
    assert result.written
    assert [(w.sheet, w.row, w.column) for w in result.warnings] == [("企业", 1, "备注")]
    assert result.summary_line() == "created 6, updated 0, unchanged 0, rejected 0"
    a, b, c = (db.session.scalar(select(Company).where(Company.uscc == x)) for x in (A, B, C))
    assert (a.name, a.district.name, a.park.name, a.founded_on, a.contact_phone, a.officer_id) == (
        "川东智能科技有限公司", "通川区", "达州高新区", date(2021, 3, 5), "13912345678", officer.id)
    assert (b.district.name, b.founded_on, b.park) == ("达川区", date(2021, 3, 5), None)  # old code 511721, Excel serial
    assert (c.district.name, c.founded_on) == ("宣汉县", date(2019, 7, 1))
    hnte = a.certifications[0]
    assert (hnte.kind, hnte.number, hnte.issued_on, hnte.valid_until, hnte.status) == (
        "hnte", "GR202351000123", date(2023, 12, 12), date(2026, 12, 11), "valid")
    assert (b.certifications[0].kind, b.certifications[0].year, b.certifications[0].valid_until) == ("tech_sme", 2024, date(2024, 12, 31))
    figures = a.years[0]
    assert (figures.year, figures.employees, figures.tech_staff, figures.revenue, figures.rd_expense,
            figures.ip_class1, figures.ip_class2) == (2023, 120, 36, Decimal("8600.50"), Decimal("520.00"), 2, 15)


def test_a_header_row_below_a_title_row_is_found_and_rows_keep_their_excel_numbers():
    result = run({"企业": [["2024年企业台账"], COMPANY_HEADERS, company_row(district="火星区")]})
    assert problems_of(result) == [("企业", 3, "所属区县", "未知的区县“火星区”：请填写达州市的区县名称或代码（如 通川区 或 511702）")]


def test_a_csv_is_recognised_by_its_headers_in_utf8_and_gbk(make):
    make.company(uscc=A)
    for encoding in ("utf-8-sig", "utf-8", "gbk"):
        data = csv_bytes([CERT_HEADERS, [A, "科技型中小企业", f"{encoding}-1", 2024, "", "", ""]], encoding)
        result = run_import(data, "资质.csv", None)
        assert (result.sheets[0].key, result.sheets[0].created, result.problems) == ("certifications", 1, [])
    assert sorted(db.session.scalars(select(Certification.number))) == ["GBK-1", "UTF-8-1", "UTF-8-SIG-1"]  # numbers are codes: upper-cased


def test_the_template_example_row_is_skipped_with_a_warning():
    result = run({"企业": [COMPANY_HEADERS, company_row(uscc=EXAMPLE_USCC), company_row()]})
    assert result.sheets[0].created == 1
    assert [(w.row, w.reason) for w in result.warnings] == [(2, "模板中的示例行，已忽略")]


def test_a_code_failing_its_check_that_an_admin_confirmed_is_matched(make):
    bad = A[:17] + ("0" if A[17] != "0" else "1")
    make.company(uscc=bad, uscc_check_waived=True, name="老企业")
    result = run({"企业": [COMPANY_HEADERS, company_row(name="老企业新名", uscc=bad)]})
    assert (result.problems, result.sheets[0].updated) == ([], 1)


# --- every error class of DOMAIN §8, with its sheet, row and column ---------------------------

FUTURE = "2099-01-01"  # see the boundary test below for "tomorrow"
ERROR_CASES = {
    "required cell missing": (
        {"企业": [COMPANY_HEADERS, company_row(name="")]}, ("企业", 2, "企业名称", "企业名称不能为空")),
    "required column missing": (
        {"企业": [COMPANY_HEADERS[1:], company_row()[1:]]}, ("企业", 1, "企业名称", "缺少必需的列“企业名称”，本表各行均未导入")),
    "bad check character": (
        {"企业": [COMPANY_HEADERS, company_row(uscc=A[:17] + ("0" if A[17] != "0" else "1"))]},
        ("企业", 2, "统一社会信用代码", f"统一社会信用代码校验码应为 {A[17]}")),
    "code stored as a number": (
        {"企业": [COMPANY_HEADERS, company_row(uscc=915117020000000011)]},
        ("企业", 2, "统一社会信用代码", "统一社会信用代码被存为数字")),
    "unknown district": (
        {"企业": [COMPANY_HEADERS, company_row(district="成都市")]}, ("企业", 2, "所属区县", "未知的区县“成都市”")),
    "unknown park": (
        {"企业": [COMPANY_HEADERS, company_row(park="天府新区")]}, ("企业", 2, "所在园区", "未知的园区“天府新区”")),
    "unknown officer": (
        {"企业": [COMPANY_HEADERS, company_row(officer="nobody")]}, ("企业", 2, "包联干部", "未知的包联干部“nobody”")),
    "duplicate code in the sheet": (
        {"企业": [COMPANY_HEADERS, company_row(), company_row(name="另一家")]},
        ("企业", 3, "统一社会信用代码", "与本表第2行重复")),
    "future date": (
        {"企业": [COMPANY_HEADERS, company_row(founded=FUTURE)]}, ("企业", 2, "成立日期", "成立日期不能晚于今天")),
    "certification for an unknown company": (
        {"资质": [CERT_HEADERS, [B, "科技型中小企业", "", 2024, "", "", ""]]},
        ("资质", 2, "统一社会信用代码", f"统一社会信用代码 {B} 既不在本文件的企业表中")),
    "figures for an unknown company": (
        {"年度数据": [FIGURE_HEADERS, [B, 2023, 10, 2, 100, 5]]},
        ("年度数据", 2, "统一社会信用代码", f"统一社会信用代码 {B} 既不在本文件的企业表中")),
    "tech staff above employees": (
        {"企业": [COMPANY_HEADERS, company_row()], "年度数据": [FIGURE_HEADERS, [A, 2023, 10, 11, 100, 5]]},
        ("年度数据", 2, "科技人员数", "科技人员数（11）不能大于职工总数（10）")),
    "negative amount": (
        {"企业": [COMPANY_HEADERS, company_row()], "年度数据": [FIGURE_HEADERS, [A, 2023, 10, 2, -100, 5]]},
        ("年度数据", 2, "营业收入（万元）", "营业收入（万元）不能为负数")),
    "future year": (
        {"企业": [COMPANY_HEADERS, company_row()], "年度数据": [FIGURE_HEADERS, [A, 2099, 10, 2, 100, 5]]},
        ("年度数据", 2, "年度", "年度不能晚于今年")),
    "tech SME without a year": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "科技型中小企业", "X1", "", "", "", ""]]},
        ("资质", 2, "年度", "科技型中小企业需填写年度")),
    "certification issued before the company was founded": (
        {"企业": [COMPANY_HEADERS, company_row(founded="2015-04-07")],
         "资质": [CERT_HEADERS, [A, "瞪羚企业", "D1", 2010, "2010-03-01", "", ""]]},
        ("资质", 2, "发证日期", "发证日期不能早于企业成立日期（2015-04-07）")),
    "gazelle without a year": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "瞪羚企业", "D1", "", "", "", ""]]},
        ("资质", 2, "年度", "瞪羚企业需填写年度")),
    "high-tech certificate without an issue date": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "高新技术企业", "GR1", 2023, "", "", ""]]},
        ("资质", 2, "发证日期", "高新技术企业需填写发证日期")),
    "certificate issued in the future": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "高新技术企业", "GR1", "", FUTURE, "", ""]]},
        ("资质", 2, "发证日期", "发证日期不能晚于今天")),
    "bad certification kind": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "专精特新", "", 2024, "", "", ""]]},
        ("资质", 2, "资质类型", "资质类型“专精特新”无效")),
    "bad certification status": (
        {"企业": [COMPANY_HEADERS, company_row()], "资质": [CERT_HEADERS, [A, "科小", "", 2024, "", "", "过期"]]},
        ("资质", 2, "状态", "状态“过期”无效")),
    "duplicate certification": (
        {"企业": [COMPANY_HEADERS, company_row()],
         "资质": [CERT_HEADERS, [A, "科小", "", 2024, "", "", ""], [A, "科技型中小企业", "", 2024, "", "", ""]]},
        ("资质", 3, "统一社会信用代码", "与本表第2行重复")),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_each_error_class_is_reported_with_sheet_row_and_column(case):
    sheets, (sheet, row, column, reason) = ERROR_CASES[case]
    result = run(sheets)
    matching = [p for p in result.problems if (p.sheet, p.row, p.column) == (sheet, row, column)]
    assert matching and reason in matching[0].reason, problems_of(result)
    assert not result.written and result.rejected >= 1
    assert count(Company) == count(Certification) == count(CompanyYear) == 0


def test_a_date_may_be_today_but_not_tomorrow():
    ok = run({"企业": [COMPANY_HEADERS, company_row(founded=today().isoformat())]}, dry_run=True)
    late = run({"企业": [COMPANY_HEADERS, company_row(founded=(today() + timedelta(days=1)).isoformat())]}, dry_run=True)
    assert ok.problems == [] and [p.column for p in late.problems] == ["成立日期"]


def test_a_district_written_with_spaces_inside_or_the_city_before_it_is_found(make):
    for written in ("通川 区", "通川\u3000区", " 511 702 ", "达州市通川区", "四川省达州市通川区", "511702.0"):
        result = run({"企业": [COMPANY_HEADERS, company_row(district=written)]}, dry_run=True)
        assert result.problems == [], written


def test_an_officer_is_found_by_username_in_any_case_or_by_name_when_only_one_has_it(make):
    zhang = make.user("officer", username="zhangwei", display_name="张伟")
    make.user("officer", username="liping", display_name="李萍")
    make.user("officer", username="liping2", display_name="李萍")
    rows = [company_row(name=f"企业{i}", uscc=code(f"91511702MA6C4X3{i:02d}"), officer=written)
            for i, written in enumerate((" ZhangWei ", "张 伟", "zhangwei"))]
    result = run({"企业": [COMPANY_HEADERS, *rows]})
    assert result.problems == []
    assert set(db.session.scalars(select(Company.officer_id))) == {zhang.id}
    ambiguous = run({"企业": [COMPANY_HEADERS, company_row(officer="李萍")]}, dry_run=True)
    assert [p.reason for p in ambiguous.problems] == ["有 2 名用户都叫“李萍”：请填写干部在 Ladder 中的用户名"]


def test_an_officer_limited_to_other_areas_cannot_be_assigned_a_company(make):
    make.user("officer", username="dachuan", areas=["511703"])
    make.user("admin", username="boss", areas=["511703"])  # an admin's areas limit nothing
    result = run({"企业": [COMPANY_HEADERS, company_row(officer="dachuan"),
                          company_row(name="另一家", uscc=B, district="达川区", officer="dachuan"),
                          company_row(name="第三家", uscc=C, officer="boss")]}, dry_run=True)
    assert [(p.row, p.column, p.reason) for p in result.problems] == [(2, "包联干部", "包联干部“dachuan”不负责通川区")]
    run({"企业": [COMPANY_HEADERS, company_row(name="另一家", uscc=B, district="达川区", officer="dachuan")]})
    moved = run({"企业": [COMPANY_HEADERS, company_row(name="另一家", uscc=B, district="通川区")]}, dry_run=True)
    assert [p.reason for p in moved.problems] == ["包联干部“dachuan”不负责通川区"]  # the officer a blank cell keeps


def test_a_company_is_taken_out_of_its_park_by_writing_none_not_by_a_blank_cell(make):
    """Blank cells never overwrite; "无" (or 不在园区, /) says the company is in no park any more."""
    run({"企业": [COMPANY_HEADERS, company_row(park="达州高新区")]})
    company = db.session.scalar(select(Company))
    assert run({"企业": [COMPANY_HEADERS, company_row(park="")]}).summary_line() == "created 0, updated 0, unchanged 1, rejected 0"
    for written in ("无", "不在园区", "／"):
        company.park_id = make.area("达州高新区").id
        db.session.commit()
        preview = run({"企业": [COMPANY_HEADERS, company_row(park=written)]}, dry_run=True)
        sheet = preview.sheets[0]
        assert sheet.preview[0][1 + sheet.fields.index("所在园区")] in ("", "—"), written  # as it will be, written
        result = run({"企业": [COMPANY_HEADERS, company_row(park=written)]})
        assert result.summary_line() == "created 0, updated 1, unchanged 0, rejected 0", (written, result.problems)
        db.session.expire_all()
        assert company.park_id is None


def test_a_certification_issued_before_a_stored_company_was_founded_is_refused(make):
    make.company(uscc=A, founded_on=date(2015, 4, 7))
    result = run({"资质": [CERT_HEADERS, [A, "高新技术企业", "GR1", "", "2014-12-01", "", ""]]}, dry_run=True)
    assert [(p.column, p.reason) for p in result.problems] == [("发证日期", "发证日期不能早于企业成立日期（2015-04-07）")]


def test_a_founding_date_after_a_stored_certificate_was_issued_is_refused(make, auth, client):
    """The import and the edit form refuse the state the certification rule forbids from the other side; otherwise
    the stored certificate could no longer be re-imported (DOMAIN §8: re-importing changes nothing)."""
    from tests.test_companies import edit_data

    company = make.company(uscc=A, founded_on=date(2015, 4, 7))
    make.cert(company, "hnte", issued_on=date(2021, 10, 3))
    make.cert(company, "hnte", issued_on=date(2018, 10, 3), status="revoked")  # a revoked one does not count
    result = run({"企业": [COMPANY_HEADERS, company_row(uscc=A, founded="2022-06-01")]}, dry_run=True)
    assert [(p.column, p.reason) for p in result.problems] == [
        ("成立日期", "成立日期不能晚于该企业已登记资质的发证日期（2021-10-03）")]
    assert run({"企业": [COMPANY_HEADERS, company_row(uscc=A, founded="2019-06-01")]}).problems == []
    auth.login(make.user("admin"))
    response = client.post(f"/companies/{company.id}/edit", data=edit_data(company, founded_on="2022年6月1日"))
    assert response.status_code == 422 and "成立日期不能晚于该企业已登记资质的发证日期（2021-10-03）" in response.text


def test_a_tech_sme_expiry_past_its_year_is_ignored_with_a_warning_not_the_row(make):
    """Ledgers write a registration's end as they see it (the next evaluation); it still lapses on 31 December of
    its year (DOMAIN §2.4). 有效期至 is optional (§8): the date is left out and said, the registration imported."""
    sheets = {"企业": [COMPANY_HEADERS, company_row()],
              "资质": [CERT_HEADERS, [A, "科技型中小企业", "X1", 2024, "2024-06-01", "2025-06-30", ""]]}
    result = run(sheets)
    assert result.problems == [] and [(w.row, w.column, w.value, w.reason) for w in result.warnings] == [
        (2, "有效期至", "2025-06-30", "科技型中小企业入库登记当年有效，至 2024-12-31 止：填写的有效期至已忽略")]
    cert = db.session.scalar(select(Certification))
    assert (cert.expires_on, cert.valid_until) == (None, date(2024, 12, 31))
    assert run(sheets).summary_line() == "created 0, updated 0, unchanged 2, rejected 0"
    before_issue = {**sheets, "资质": [CERT_HEADERS, [A, "科技型中小企业", "X1", 2024, "2024-06-01", "2024-05-01", ""]]}
    assert [p.reason for p in run(before_issue, dry_run=True).problems] == ["有效期至不能早于发证日期（2024-06-01）"]


def test_a_founding_date_left_as_it_was_is_not_judged_again(make, auth, client):
    """Data older than the rule (a certificate recorded before its company's founding date was corrected): the
    company's phone can still be changed on the form, and its row re-imported, without touching the date."""
    from tests.test_companies import edit_data

    company = make.company(uscc=A, founded_on=date(2022, 6, 1), contact_phone="0818-1111111")
    make.cert(company, "hnte", issued_on=date(2021, 10, 3))
    assert run({"企业": [COMPANY_HEADERS, company_row(uscc=A, founded="2022-06-01")]}).problems == []
    auth.login(make.user("admin"))
    response = client.post(f"/companies/{company.id}/edit", data=edit_data(company, contact_phone="0818-2222222"))
    assert response.status_code == 302
    assert client.post(f"/companies/{company.id}/edit",
                       data=edit_data(company, founded_on="2022-07-01")).status_code == 422  # a new one still is


def test_a_new_code_for_a_registered_name_is_imported_with_a_warning(make):
    """The ledger still has the code corrected since on the company's page: the row is a new company (codes decide),
    but the report says a company of that name exists, so the twin is caught."""
    make.company(name="渠江新材技术有限公司", uscc=B)
    result = run({"企业": [COMPANY_HEADERS, company_row(name="渠江新材技术有限公司", uscc=A)]})
    assert result.summary_line() == "created 1, updated 0, unchanged 0, rejected 0"
    assert [(w.row, w.column, w.reason) for w in result.warnings] == [
        (2, "企业名称", f"系统中已有同名企业（统一社会信用代码 {B}）：如是同一家企业，请核对统一社会信用代码；本行按新企业登记")]
    assert run({"企业": [COMPANY_HEADERS, company_row(name="渠江新材技术有限公司", uscc=A)]}).warnings == []


def test_imported_names_sort_by_pinyin_and_a_renamed_company_moves(make):
    run({"企业": [COMPANY_HEADERS, company_row(name="万源信息实业有限公司"), company_row(name="巴山新材有限公司", uscc=B)]})
    keys = dict(db.session.execute(select(Company.name, Company.name_sort)).all())
    assert keys == {"万源信息实业有限公司": "wanyuanxinxishiyeyouxiangongsi", "巴山新材有限公司": "bashanxincaiyouxiangongsi"}
    run({"企业": [COMPANY_HEADERS, company_row(name="川东智能科技有限公司")]})  # A renamed
    db.session.expire_all()
    assert db.session.scalar(select(Company.name_sort).where(Company.uscc == A)) == "chuandongzhinengkejiyouxiangongsi"


def test_a_problem_carries_the_value_as_written():
    result = run({"企业": [COMPANY_HEADERS, company_row(district=" 成都市 ")]})
    assert result.problems[0].value == " 成都市 "
    assert result.problems[0].line() == "企业:2:所属区县: 未知的区县“ 成都市 ”：请填写达州市的区县名称或代码（如 通川区 或 511702）"


# --- all-or-nothing, skip-invalid, re-import ---------------------------------------------------

GOOD_AND_BAD = {
    "企业": [COMPANY_HEADERS, company_row(), company_row(name="坏企业", uscc=B, district="火星区")],
    "资质": [CERT_HEADERS, [A, "科小", "", 2024, "", "", ""], [B, "科小", "", 2024, "", "", ""]],
    "年度数据": [FIGURE_HEADERS, [A, 2023, 10, 2, 100, 5], [B, 2023, 10, 2, 100, 5]],
}


def test_by_default_one_bad_row_means_nothing_is_written():
    result = run(GOOD_AND_BAD)
    assert not result.applied and not result.written
    assert result.summary_line() == "created 0, updated 0, unchanged 0, rejected 3"
    assert count(Company) == count(Certification) == count(CompanyYear) == count(AuditLog) == 0


def test_a_dry_run_writes_nothing_even_when_every_row_is_valid():
    result = run({"企业": [COMPANY_HEADERS, company_row()]}, dry_run=True)
    assert result.applied and not result.written and result.summary_line().startswith("created 1,")
    assert count(Company) == 0


def test_skip_invalid_writes_the_good_rows_and_rejects_rows_of_a_rejected_company():
    result = run(GOOD_AND_BAD, skip_invalid=True)
    assert result.written
    assert [(s.title, s.created, s.rejected) for s in result.sheets] == [("企业", 1, 1), ("资质", 1, 1), ("年度数据", 1, 1)]
    assert list(db.session.scalars(select(Company.uscc))) == [A]
    cascaded = [p for p in result.problems if p.sheet == "资质"]
    assert cascaded[0].row == 3 and "“企业”表第3行有错误" in cascaded[0].reason
    assert count(Certification) == count(CompanyYear) == 1


def test_reimporting_the_same_file_changes_nothing():
    sheets = {**GOOD_AND_BAD, "企业": GOOD_AND_BAD["企业"][:2], "资质": GOOD_AND_BAD["资质"][:2],
              "年度数据": GOOD_AND_BAD["年度数据"][:2]}
    first = run(sheets)
    audit = count(AuditLog)
    again = run(sheets)
    assert first.summary_line() == "created 3, updated 0, unchanged 0, rejected 0"
    assert again.summary_line() == "created 0, updated 0, unchanged 3, rejected 0"
    assert not again.written and count(AuditLog) == audit == 3


def test_a_changed_cell_updates_only_that_value_and_blank_cells_keep_what_is_stored(make):
    company = make.company(uscc=A, name="旧名称有限公司", contact_phone="0818-1234567", industry="新材料")
    version = company.version
    result = run({"企业": [COMPANY_HEADERS, ["新名称有限公司", A, "通川区", "", "", "", "", "", "", ""]]})
    db.session.expire_all()
    assert result.sheets[0].updated == 1
    assert (company.name, company.contact_phone, company.industry, company.version) == (
        "新名称有限公司", "0818-1234567", "新材料", version + 1)


def test_certifications_match_by_number_or_else_by_year_and_figures_by_year(make):
    company = make.company(uscc=A)
    make.cert(company, "tech_sme", year=2023, number="")
    make.cert(company, "hnte", number="GR1", issued_on=date(2022, 11, 1))
    db.session.add(CompanyYear(company_id=company.id, year=2023, employees=50))
    db.session.commit()
    result = run({
        "资质": [CERT_HEADERS, [A, "科小", "2023-0001", 2023, "", "", ""], [A, "国家高新技术企业", "GR1", "", "2022-11-01", "", "撤销"],
                [A, "科小", "", 2024, "", "", ""]],
        "年度数据": [FIGURE_HEADERS, [A, 2023, 60, 10, "", ""], [A, 2022, 40, 5, "", ""]],
    })
    assert [(s.created, s.updated, s.unchanged) for s in result.sheets] == [(1, 2, 0), (1, 1, 0)]
    db.session.expire_all()
    certs = {(c.kind, c.year or c.issued_on.year): (c.number, c.status) for c in company.certifications}
    assert certs == {("tech_sme", 2023): ("2023-0001", "valid"), ("hnte", 2022): ("GR1", "revoked"),
                     ("tech_sme", 2024): ("", "valid")}
    assert {y.year: y.employees for y in company.years} == {2022: 40, 2023: 60}


def test_an_edit_saved_while_the_import_was_checking_still_meets_a_conflict_afterwards(make, monkeypatch):
    """The import moves the version from what it is when written: the form opened after an officer's save (and
    before the import wrote) must not overwrite the import silently."""
    from sqlalchemy import update

    import crm.transfer.importer as importer

    company = make.company(uscc=A, name="旧名称有限公司")
    written = importer.write

    def officer_saves_first(batches, ctx):  # an officer's save, committed between the import's check and write
        with db.engine.begin() as other:
            other.execute(update(Company).where(Company.id == company.id).values(version=Company.version + 1,
                                                                                 contact_email="liu@example.cn"))
        written(batches, ctx)

    monkeypatch.setattr(importer, "write", officer_saves_first)
    assert run({"企业": [COMPANY_HEADERS, company_row(name="新名称有限公司", uscc=A)]}).sheets[0].updated == 1
    db.session.expire_all()
    assert (company.version, company.name, company.contact_email) == (3, "新名称有限公司", "liu@example.cn")


def test_tech_staff_above_the_stored_employees_is_an_error_like_in_one_row(make):
    """A sheet giving only 科技人员数 is checked against the 职工总数 it keeps (DOMAIN §8), and the other way round."""
    company = make.company(uscc=A)
    db.session.add(CompanyYear(company_id=company.id, year=2025, employees=100, tech_staff=20))
    db.session.commit()
    staff_only = run({"年度数据": [["统一社会信用代码", "年度", "科技人员数"], [A, 2025, 500]]})
    assert problems_of(staff_only) == [("年度数据", 2, "科技人员数",
                                        "科技人员数（500）不能大于职工总数（100）；系统中已有的职工总数未在本行填写，将保留")]
    employees_only = run({"年度数据": [["统一社会信用代码", "年度", "职工总数"], [A, 2025, 10]]})
    assert problems_of(employees_only)[0][2:] == (
        "职工总数", "科技人员数（20）不能大于职工总数（10）；系统中已有的科技人员数未在本行填写，将保留")
    assert run({"年度数据": [["统一社会信用代码", "年度", "科技人员数"], [A, 2025, 100]]}).sheets[0].updated == 1
    db.session.expire_all()
    assert [(y.employees, y.tech_staff) for y in company.years] == [(100, 100)]


def test_a_number_written_full_width_spaced_or_as_a_number_is_the_same_certificate(make):
    """ＧＲ２０２３ ５１０００１２３ from a phone and GR202351000123 from the ledger are one certificate."""
    company = make.company(uscc=A)
    make.cert(company, "hnte", number="gr2023 51000123", issued_on=date(2023, 12, 12))
    make.cert(company, "tech_sme", number="2024511702A0001", year=2024)
    result = run({"资质": [CERT_HEADERS, [A, "高企", fullwidth("GR2023 51000123"), "", "2023-12-12", "", ""],
                          [A, "科小", " 2024511702a0001 ", 2024, "", "", ""], [A, "科小", 202511702, 2025, "", "", ""]]})
    assert result.problems == []
    assert (result.sheets[0].created, result.sheets[0].unchanged) == (1, 2)
    db.session.expire_all()
    assert sorted(c.number for c in company.certifications) == ["2024511702A0001", "202511702", "GR202351000123"]


def test_every_change_is_in_the_audit_trail_as_made_by_that_import(make):
    admin = make.user("admin")
    company = make.company(uscc=A, name="旧名称有限公司")
    run({"企业": [COMPANY_HEADERS, company_row(name="新名称有限公司"), company_row(name="新企业", uscc=B, district="达川区")],
         "资质": [CERT_HEADERS, [B, "科小", "", 2024, "", "", ""]]}, user=admin, filename="/tmp/x/2024台账.xlsx")
    entries = db.session.scalars(select(AuditLog).where(AuditLog.source == "import:2024台账.xlsx").order_by(AuditLog.id)).all()
    assert [(e.entity, e.action, e.user_id) for e in entries] == [
        ("company", "create", admin.id), ("company", "update", admin.id), ("certification", "create", admin.id)]
    assert entries[1].company_id == company.id and entries[1].changes["name"] == ["旧名称有限公司", "新名称有限公司"]
    assert entries[0].changes["uscc"] == [None, B] and entries[2].company_id == entries[0].entity_id


def test_each_created_row_is_audited_under_its_own_id(make):
    """The bulk insert hands back the new rows' ids in file order, also when a deleted row left a gap."""
    make.company()
    db.session.delete(make.company())
    db.session.commit()
    run({"企业": [COMPANY_HEADERS, company_row(uscc=A), company_row(name="二号企业", uscc=B, district="达川区"),
                 company_row(name="三号企业", uscc=C, district="宣汉县")],
         "资质": [CERT_HEADERS, [C, "科小", "C-2024", 2024, "", "", ""], [A, "科小", "A-2023", 2023, "", "", ""]],
         "年度数据": [FIGURE_HEADERS, [B, 2023, 60, 10, "", ""], [B, 2022, 40, 5, "", ""], [A, 2023, 9, 1, "", ""]]})
    created = db.session.scalars(select(AuditLog).where(AuditLog.source == "import:台账.xlsx")
                                 .order_by(AuditLog.id)).all()
    assert [e.entity for e in created] == ["company"] * 3 + ["certification"] * 2 + ["figures"] * 3
    for entry in created:
        model = {"company": Company, "certification": Certification, "figures": CompanyYear}[entry.entity]
        row = db.session.get(model, entry.entity_id)
        assert (row.id if entry.entity == "company" else row.company_id) == entry.company_id
        for field, (_old, new) in entry.changes.items():
            if field in ("uscc", "number", "year", "employees"):
                assert getattr(row, field) == new, (entry.entity, field)


# --- area scoping ------------------------------------------------------------------------------

def test_an_officer_imports_only_companies_in_their_areas(make):
    officer = make.user("officer", areas=["511702"])
    outside = make.company(uscc=C, district="511722")
    result = run({
        "企业": [COMPANY_HEADERS, company_row(), company_row(name="外区企业", uscc=B, district="达川区")],
        "资质": [CERT_HEADERS, [C, "科小", "", 2024, "", "", ""]],
    }, user=officer, skip_invalid=True)
    assert problems_of(result) == [
        ("企业", 3, "所属区县", "该企业不在您负责的区域内，不能导入"),
        ("资质", 2, "统一社会信用代码", f"统一社会信用代码 {C} 既不在本文件的企业表中，也不是系统中已登记（且您可见）的企业"),
    ]
    assert list(db.session.scalars(select(Company.uscc).order_by(Company.id))) == [outside.uscc, A]


def test_an_officer_cannot_overwrite_a_company_outside_their_areas(make):
    officer = make.user("officer", areas=["511702"])
    make.company(uscc=B, district="511703", name="原名")
    result = run({"企业": [COMPANY_HEADERS, company_row(name="改名", uscc=B)]}, user=officer)
    assert problems_of(result) == [("企业", 2, "统一社会信用代码", "该统一社会信用代码已登记在您负责区域以外的企业名下，请联系管理员")]


def test_a_refused_row_about_a_company_outside_the_officers_areas_quotes_nothing_stored_about_it(make):
    """Its officer, park, founding date and first certificate stay unsaid: the refusal is all the preview shows."""
    officer = make.user("officer", areas=["511702"])
    theirs = make.user("officer", areas=["511703"], username="liping")
    outside = make.company(uscc=B, district="511703", park="达州高新区", officer=theirs, founded_on=date(2006, 2, 16))
    make.cert(outside, "hnte", issued_on=date(2024, 5, 14))
    result = run({"企业": [COMPANY_HEADERS, company_row(uscc=B)],
                  "资质": [CERT_HEADERS, [B, "高新技术企业", "GR1990", "", "1990-01-01", "", ""]]}, user=officer,
                 dry_run=True)
    said = " ".join(p.reason for p in result.problems + result.warnings)
    assert problems_of(result) == [
        ("企业", 2, "统一社会信用代码", "该统一社会信用代码已登记在您负责区域以外的企业名下，请联系管理员"),
        ("资质", 2, "统一社会信用代码", "该企业在“企业”表第2行有错误，本行不能导入")]
    assert not any(leak in said for leak in ("liping", "高新区", "2006-02-16", "2024-05-14"))
    founded_late = run({"企业": [COMPANY_HEADERS, company_row(uscc=B, founded="2026-01-01")]}, user=officer, dry_run=True)
    assert len(founded_late.problems) == 1 and "2024-05-14" not in founded_late.problems[0].reason


# --- files that cannot be imported at all ------------------------------------------------------

def test_a_workbook_without_any_known_sheet_is_refused():
    with pytest.raises(ImportRefused, match="工作表应命名为"):
        run({"Sheet1": [["名称", "地址"], ["x", "y"]]})
