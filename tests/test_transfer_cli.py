"""`flask companies import PATH [--dry-run] [--skip-invalid] [--as USERNAME]` (INTERFACES.md)."""
from sqlalchemy import func, select
from workbooks import CERT_HEADERS, COMPANY_HEADERS, csv_bytes, xlsx

from crm.extensions import db
from crm.models import AuditLog, Company
from crm.normalize import uscc_check_char

A = "91511702MA6C4X3K5" + uscc_check_char("91511702MA6C4X3K5")
B = "91511703MA62QW8T1" + uscc_check_char("91511703MA62QW8T1")
GOOD = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"], ["巴山新材有限公司", B, "达川区"]]}
ONE_BAD = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"], ["巴山新材有限公司", B, "火星区"]]}


def companies() -> int:
    return db.session.scalar(select(func.count()).select_from(Company))


def invoke(runner, tmp_path, sheets, *options, name="台账.xlsx", merged=None):
    path = tmp_path / name
    path.write_bytes(xlsx(sheets, merged=merged))
    return runner.invoke(args=["companies", "import", str(path), *options])


def test_a_clean_import_prints_the_summary_and_exits_0(runner, tmp_path):
    result = invoke(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["created 2, updated 0, unchanged 0, rejected 0"]
    assert companies() == 2
    again = invoke(runner, tmp_path, GOOD)
    assert again.stdout.splitlines() == ["created 0, updated 0, unchanged 2, rejected 0"]


def test_a_rejected_row_prints_each_problem_writes_nothing_and_exits_1(runner, tmp_path):
    result = invoke(runner, tmp_path, ONE_BAD)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "created 0, updated 0, unchanged 0, rejected 1",
        "企业:3:所属区县: 未知的区县“火星区”：请填写达州市的区县名称或代码（如 通川区 或 511702）",
    ]
    assert len(result.stderr.strip().splitlines()) == 1 and "1 行有错误，未写入任何数据" in result.stderr
    assert companies() == 0


def test_a_sheet_missing_a_required_column_writes_nothing_and_exits_1(runner, tmp_path):
    result = invoke(runner, tmp_path, {**GOOD, "资质": [["统一社会信用代码", "证书编号"]]})
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == "created 0, updated 0, unchanged 0, rejected 0"
    assert any(line.startswith("资质:1:资质类型: ") for line in result.stdout.splitlines()[1:])
    assert len(result.stderr.strip().splitlines()) == 1 and "未写入任何数据" in result.stderr
    assert companies() == 0


def test_a_sheet_named_for_its_kind_without_a_recognisable_header_rejects_its_rows(runner, tmp_path):
    """资质 headed 企业代码/证书类别/…: its rows are rejected (nothing written, exit 1), not silently left out."""
    unknown = {"资质": [["企业代码", "证书类别", "证书号码"], [A, "高企", "GR1"], [B, "高企", "GR2"]]}
    result = invoke(runner, tmp_path, {**GOOD, **unknown})
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[:2] == [
        "created 0, updated 0, unchanged 0, rejected 2",
        "资质:1:: 未找到表头行：前10行中应有一行列名，如 统一社会信用代码、资质类型、编号，本表各行均未导入"]
    assert companies() == 0
    skipped = invoke(runner, tmp_path, {**GOOD, **unknown}, "--skip-invalid")
    assert skipped.exit_code == 0 and skipped.stdout.splitlines()[0] == "created 2, updated 0, unchanged 0, rejected 2"


def test_the_sheet_named_for_a_kind_wins_over_an_earlier_sheet_with_the_same_headers(runner, tmp_path):
    old = {"旧数据": [COMPANY_HEADERS, ["老名字有限公司", A, "渠县"]]}
    result = invoke(runner, tmp_path, {**old, **GOOD})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created 2, updated 0, unchanged 0, rejected 0",
        "旧数据:1:: 列名与企业表相同，但文件中已有名为“企业”的工作表，本表已忽略"]
    assert db.session.scalar(select(Company.name).where(Company.uscc == A)) == "川东智能科技有限公司"


def test_a_sheet_of_notes_named_like_a_kind_does_not_displace_the_real_one_in_either_order(runner, tmp_path):
    notes = {"企业信息": [["填表说明"], ["请按模板填写"]]}  # 企业信息 is an alias of 企业, without a header row
    first = invoke(runner, tmp_path, {**notes, **GOOD})
    assert first.exit_code == 0 and first.stdout.splitlines() == [
        "created 2, updated 0, unchanged 0, rejected 0", "企业信息:1:: 与工作表“企业”重复（都是企业），已忽略"]
    second = invoke(runner, tmp_path, {**GOOD, **notes})
    assert second.exit_code == 0 and second.stdout.splitlines()[0] == "created 0, updated 0, unchanged 2, rejected 0"


def test_a_header_or_value_typed_over_two_lines_still_makes_one_line_per_problem_naming_the_header_as_it_reads(runner, tmp_path):
    headers = ["统一社会信用代码", "企业\n名称", "所属\n区县"]
    result = invoke(runner, tmp_path, {"企业": [headers, [A, "川东智能科技有限公司", "火星\n区"]]})
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        "企业:2:所属区县: 未知的区县“火星 区”：请填写达州市的区县名称或代码（如 通川区 或 511702）"]


def test_skip_invalid_imports_the_rest_and_exits_0(runner, tmp_path):
    result = invoke(runner, tmp_path, ONE_BAD, "--skip-invalid")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "created 1, updated 0, unchanged 0, rejected 1"
    assert result.stdout.splitlines()[1].startswith("企业:3:所属区县: ")
    assert companies() == 1


def test_skip_invalid_with_no_valid_row_writes_nothing_and_exits_1(runner, tmp_path):
    result = invoke(runner, tmp_path, {"企业": ONE_BAD["企业"][::2]}, "--skip-invalid")
    assert result.exit_code == 1 and companies() == 0


def test_skip_invalid_when_the_valid_rows_are_already_stored_writes_nothing_and_exits_1(runner, tmp_path):
    """INTERFACES.md: a rejected row and nothing written is a failure, however it came about."""
    invoke(runner, tmp_path, ONE_BAD, "--skip-invalid")
    again = invoke(runner, tmp_path, ONE_BAD, "--skip-invalid")
    assert again.stdout.splitlines()[0] == "created 0, updated 0, unchanged 1, rejected 1"
    assert again.exit_code == 1 and "未写入任何数据" in again.stderr


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(runner, tmp_path):
    result = invoke(runner, tmp_path, GOOD, "--dry-run")
    assert (result.exit_code, result.stdout.splitlines()) == (0, ["created 2, updated 0, unchanged 0, rejected 0"])
    assert companies() == 0
    assert invoke(runner, tmp_path, ONE_BAD, "--dry-run").exit_code == 1


def test_warnings_are_printed_in_the_same_format(runner, tmp_path):
    sheets = {"企业": [COMPANY_HEADERS + ["备注"], ["川东智能科技有限公司", A, "通川区", "", "", "", "", "", "", "", "x"]]}
    assert invoke(runner, tmp_path, sheets).stdout.splitlines()[1:] == ["企业:1:备注: 未识别的列，已忽略"]


def test_a_registration_dated_after_its_year_is_imported_with_a_warning(runner, tmp_path):
    """§5 counts a 2024 recognition from its issue date within 2024: issued in 2025, it never counts — say so."""
    certs = {"资质": [["统一社会信用代码", "资质类型", "年度", "发证日期"], [A, "瞪羚企业", 2024, "2025-03-01"],
                      [B, "科技型中小企业", 2024, "2024-08-01"]]}
    result = invoke(runner, tmp_path, {**GOOD, **certs})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created 4, updated 0, unchanged 0, rejected 0",
        "资质:2:发证日期: 发证日期晚于年度 2024：按统计口径，该瞪羚企业资质不会计入任何年度的目标进度，请核对年度或发证日期"]


def test_as_user_attributes_the_changes_and_limits_them_to_the_users_areas(runner, tmp_path, make):
    officer = make.user("officer", areas=["511702"], username="zhangwei")
    result = invoke(runner, tmp_path, GOOD, "--as", "zhangwei", "--skip-invalid")
    assert result.stdout.splitlines()[:2] == ["created 1, updated 0, unchanged 0, rejected 1",
                                              "企业:3:所属区县: 该企业不在您负责的区域内，不能导入"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "company"))
    assert (entry.user_id, entry.source) == (officer.id, "import:台账.xlsx")


def test_an_unknown_or_read_only_user_and_an_unreadable_file_fail_with_one_line(runner, tmp_path, make):
    make.user("viewer", username="leader")
    for options in (["--as", "nobody"], ["--as", "leader"]):
        result = invoke(runner, tmp_path, GOOD, *options)
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    path = tmp_path / "企业.csv"
    path.write_bytes(b"\x00\x01binary")
    result = runner.invoke(args=["companies", "import", str(path)])
    assert result.exit_code == 1 and "含有二进制内容" in result.stderr
    assert companies() == 0


def test_a_csv_in_gbk_imports(runner, tmp_path):
    path = tmp_path / "企业.csv"
    path.write_bytes(csv_bytes(GOOD["企业"], "gbk"))
    result = runner.invoke(args=["companies", "import", str(path)])
    assert result.stdout.splitlines() == ["created 2, updated 0, unchanged 0, rejected 0"]


# --- workbooks as a bureau's offices make them -------------------------------------------------------

def test_a_ledger_with_a_title_serial_numbers_a_merged_district_a_totals_row_and_a_footer_imports_its_companies(
        runner, tmp_path):
    rows = [["2024年达州市科技型中小企业名单"],
            ["序号", "企业名称", "统一社会信用代码", "所属区县", "备注"],
            [1, "川东智能科技有限公司", A, "达川区", ""], [2, "巴山新材有限公司", B, None, ""],
            [3], [4],  # 序号 filled down past the list
            ["合计", "2家"], [None, None, None, None, "填表人：张三"]]
    result = invoke(runner, tmp_path, {"Sheet1": rows}, merged={"Sheet1": ["A1:E1", "D3:D4"]})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created 2, updated 0, unchanged 0, rejected 0"
    assert "Sheet1:7:: 合计行或表尾说明，已忽略" in lines and "Sheet1:8:: 合计行或表尾说明，已忽略" in lines
    assert not any(line.startswith(("Sheet1:5:", "Sheet1:6:")) for line in lines)  # 序号 alone: nothing to say
    assert db.session.scalars(select(Company.district_id.distinct())).all() == [
        db.session.scalar(select(Company.district_id).where(Company.uscc == A))]  # 达川区 merged over both


def test_a_code_merged_over_its_years_and_a_header_in_two_rows_import_every_year(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["统一社会信用代码", "年度", "人员情况", None, "主要经济指标"],
            [None, None, "职工总数（人）", "科技人员数（人）", "营业收入（万元）"],
            [A, 2023, 100, 20, 800], [None, 2024, 120, 30, 900]]
    result = invoke(runner, tmp_path, {"年度数据": rows}, merged={"年度数据": ["A1:A2", "B1:B2", "C1:D1", "A3:A4"]})
    assert result.stdout.splitlines() == ["created 2, updated 0, unchanged 0, rejected 0"], result.output
    from crm.models import CompanyYear
    assert db.session.execute(select(CompanyYear.year, CompanyYear.employees, CompanyYear.tech_staff)
                              .order_by(CompanyYear.year)).all() == [(2023, 100, 20), (2024, 120, 30)]


def test_a_year_alone_in_a_date_column_is_refused_not_stored_as_1905(runner, tmp_path):
    rows = [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区", None, None, 2015]]
    result = invoke(runner, tmp_path, {"企业": rows})
    assert result.exit_code == 1 and companies() == 0
    assert result.stdout.splitlines()[1].startswith("企业:2:成立日期: 成立日期“2015”不完整：只有年份或年月，请填写到日")


def test_invisible_characters_in_a_number_cell_are_a_blank_cell(runner, tmp_path):
    rows = [["统一社会信用代码", "年度", "职工总数", "营业收入（万元）"], [A, 2024, "\u200b", "\ufeff"]]
    result = invoke(runner, tmp_path, {**GOOD, "年度数据": rows})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created 3, updated 0, unchanged 0, rejected 0"  # 2 companies, 1 year


def test_a_code_kept_as_text_with_an_apostrophe_is_the_code(runner, tmp_path):
    rows = [COMPANY_HEADERS, ["川东智能科技有限公司", "'" + A, "通川区"]]
    assert invoke(runner, tmp_path, {"企业": rows}).exit_code == 0
    assert db.session.scalar(select(Company.uscc)) == A


def test_csv_ledgers_of_figures_or_certifications_repeating_name_and_district_are_read_as_such(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    for name, rows in (
            ("年度数据.csv", [["序号", "企业名称", "统一社会信用代码", "所属区县", "年度", "营业收入（万元）"],
                           [1, "川东智能科技有限公司", A, "通川区", 2024, 800]]),
            ("资质.csv", [["序号", "企业名称", "统一社会信用代码", "资质类型", "年度"],
                        [1, "川东智能科技有限公司", A, "科技型中小企业", 2024]])):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, "gb18030"))
        result = runner.invoke(args=["companies", "import", str(path)])
        assert result.exit_code == 0 and result.stdout.startswith("created 1, "), result.output
    noted = tmp_path / "企业名单.csv"  # a company list noting each one's 资质类型 is still a company list
    noted.write_bytes(csv_bytes([["企业名称", "统一社会信用代码", "所属区县", "资质类型"],
                                 ["川东智能科技有限公司", A, "达川区", "高新技术企业"]], "gb18030"))
    result = runner.invoke(args=["companies", "import", str(noted)])
    assert result.stdout.splitlines()[0] == "created 0, updated 1, unchanged 0, rejected 0", result.output


def test_as_names_the_user_in_any_case(runner, tmp_path, make):
    make.user("officer", username="ZhangWei")
    result = invoke(runner, tmp_path, GOOD, "--as", "zhangwei")
    assert result.exit_code == 0, result.output


def test_a_list_split_over_sheets_is_refused_for_the_sheets_after_the_first_never_left_out(runner, tmp_path):
    sheets = {"通川区": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"]],
              "达川区": [COMPANY_HEADERS, ["巴山新材有限公司", B, "达川区"]]}
    result = invoke(runner, tmp_path, sheets)
    assert result.exit_code == 1 and companies() == 0
    assert result.stdout.splitlines() == [
        "created 0, updated 0, unchanged 0, rejected 1",
        "达川区:1:: 与工作表“通川区”同为企业表，请合并到一张工作表，本表各行均未导入"]
    partly = invoke(runner, tmp_path, sheets, "--skip-invalid")
    assert partly.stdout.splitlines()[0] == "created 1, updated 0, unchanged 0, rejected 1" and companies() == 1


def test_a_totals_row_written_in_the_code_column_is_skipped_too(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["统一社会信用代码", "年度", "职工总数", "营业收入（万元）"], [A, 2024, 100, 1000], ["合计", None, 100, 1000]]
    result = invoke(runner, tmp_path, {"年度数据": rows})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["created 1, updated 0, unchanged 0, rejected 0",
                                          "年度数据:3:: 合计行或表尾说明，已忽略"]


def test_marked_headers_status_variants_quoted_dates_and_semicolon_csv(runner, tmp_path):
    rows = [["企业名称（必填）", "统一社会信用代码*", "所属区县（必填）", "成立日期"], ["川东智能科技有限公司", A, "通川区", "'2021.03.05"]]
    result = invoke(runner, tmp_path, {"企业": rows, "资质": [CERT_HEADERS, [A, "科小", "2024A", 2024, None, None, "已撤消"]]})
    assert result.stdout.splitlines()[0] == "created 2, updated 0, unchanged 0, rejected 0", result.output
    from crm.models import Certification
    assert db.session.scalar(select(Certification.status)) == "revoked"
    path = tmp_path / "欧洲格式.csv"
    path.write_bytes(csv_bytes([["统一社会信用代码;企业名称;所属区县"], [f"{B};巴山新材有限公司;达川区"]]))
    result = runner.invoke(args=["companies", "import", str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("created 1, "), result.output


def test_a_long_number_a_spreadsheet_made_of_a_certificate_number_is_refused(runner, tmp_path):
    rows = [CERT_HEADERS, [A, "科小", "2.02351E+13", 2024], [A, "高企", 202351170200012416, None, "2024-01-05"]]
    result = invoke(runner, tmp_path, {**GOOD, "资质": rows})
    assert result.exit_code == 1
    problems = result.stdout.splitlines()[1:]
    assert [p.split(": ")[0] for p in problems] == ["资质:2:编号", "资质:3:编号"]
    assert all("精度已丢失" in p for p in problems)


def test_a_dry_run_with_a_rejected_row_exits_1_even_when_skipping_invalid_rows(runner, tmp_path):
    result = invoke(runner, tmp_path, ONE_BAD, "--dry-run", "--skip-invalid")
    assert result.exit_code == 1 and result.stdout.splitlines()[0] == "created 1, updated 0, unchanged 0, rejected 1"
    assert companies() == 0
    assert result.stderr.strip() == "Error: 1 行有错误；试运行（--dry-run），未写入任何数据"  # not "use --skip-invalid"


def test_totals_and_footer_rows_are_skipped_wherever_their_words_stand(runner, tmp_path):
    rows = [["序号", "统一社会信用代码", "企业名称", "所属区县", "备注"],
            [1, A, "川东智能科技有限公司", "通川区", "本年合计研发投入较多"],  # 合计 inside a remark: a company row
            [2, None, "合计", None, None],  # 序号 filled down past the list
            ["通川区小计", None, "1家"],
            ["合计", 1],  # a count in the code column
            ["填表人：张三", "联系电话：13800000000", None, "填表日期：2024-01-05"],
            ["审核：李四"]]
    result = invoke(runner, tmp_path, {"企业": rows})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created 1, updated 0, unchanged 0, rejected 0"
    assert [line.split(":")[1] for line in lines if "合计行或表尾说明" in line] == ["3", "4", "5", "6", "7"]


def test_amounts_headed_or_unit_rowed_in_yuan_are_stored_in_wan_yuan(runner, tmp_path):
    from crm.models import CompanyYear

    invoke(runner, tmp_path, GOOD)
    headed = [["统一社会信用代码", "年度", "营业收入（元）", "研发费用（万元）"], [A, 2023, 12345678, 50]]
    unit_row = [["统一社会信用代码", "年度", "职工总数", "营业收入"], ["甲", "乙", "人", "元"], [A, 2024, 120, 23456789]]
    numbered = [["统一社会信用代码", "年度", "职工总数"], ["甲", "乙", 1], [B, 2024, 80]]  # a form's 栏次 row
    for sheets in ({"年度数据": headed}, {"年度数据": unit_row}, {"年度数据": numbered}):
        result = invoke(runner, tmp_path, sheets)
        assert result.exit_code == 0 and result.stdout.startswith("created 1, "), result.output
    stored = dict(db.session.execute(select(CompanyYear.year, CompanyYear.revenue).where(
        CompanyYear.revenue.isnot(None))).all())
    assert {year: float(v) for year, v in stored.items()} == {2023: 1234.57, 2024: 2345.68}


def test_a_yuan_unit_in_a_title_or_a_group_label_is_applied_to_the_amounts_under_it(runner, tmp_path):
    from crm.models import CompanyYear

    invoke(runner, tmp_path, GOOD)
    titled = [["2023年企业经济指标（金额单位：元）"], ["统一社会信用代码", "年度", "营业收入", "研发费用（万元）"],
              [A, 2023, 12345678, 50]]
    grouped = [["统一社会信用代码", "年度", "主要经济指标（元）", None], [None, None, "营业收入", "研发费用"],
               [B, 2023, 23456789, 1000000]]
    for sheets, merged in (({"年度数据": titled}, None), ({"年度数据": grouped}, {"年度数据": ["C1:D1"]})):
        result = invoke(runner, tmp_path, sheets, merged=merged)
        assert result.exit_code == 0 and result.stdout.startswith("created 1, "), result.output
    stored = {tuple(r) for r in db.session.execute(select(CompanyYear.revenue, CompanyYear.rd_expense))}
    assert {(float(a), float(b)) for a, b in stored} == {(1234.57, 50.0), (2345.68, 100.0)}


def _years(runner, tmp_path, sheets, merged=None) -> dict[str, tuple]:
    """Import the sheets (companies A and B exist) and read back each company's (revenue, rd_expense, total_assets)."""
    from crm.models import CompanyYear

    result = invoke(runner, tmp_path, sheets, merged=merged)
    assert result.exit_code == 0, result.output
    return {code: tuple(None if v is None else float(v) for v in values) for code, *values in db.session.execute(
        select(Company.uscc, CompanyYear.revenue, CompanyYear.rd_expense, CompanyYear.total_assets)
        .join(CompanyYear, CompanyYear.company_id == Company.id))}


def test_units_stated_with_marks_in_groups_titles_and_units_rows_each_apply_where_they_stand(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    marked = [["统一社会信用代码", "年度", "营业收入（元）*", "研发费用（元）（必填）"], [A, 2023, 12345678, 1000000]]
    assert _years(runner, tmp_path, {"年度数据": marked})[A] == (1234.57, 100.0, None)
    # a title in 元 over a group in 万元: the group's unit is the one its columns are in; the mark and unit kept
    titled = [["（金额单位：元）"], ["统一社会信用代码", "年度", "主要经济指标（万元）", None, "资产总额"],
              [None, None, "营业收入*", "研发费用", None], [B, 2023, 2345, 120, 50000000]]
    assert _years(runner, tmp_path, {"年度数据": titled}, merged={"年度数据": ["C2:D2"]})[B] == (2345.0, 120.0, 5000.0)


def test_a_group_label_in_yuan_reaches_only_the_columns_it_is_merged_over(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["统一社会信用代码", "年度", "收入（单位：元）", None, None], [None, None, "营业收入", "研发费用", "资产总额"],
            [A, 2023, 12345678, 1000000, 5000]]
    assert _years(runner, tmp_path, {"年度数据": rows}, merged={"年度数据": ["C1:D1"]})[A] == (1234.57, 100.0, 5000.0)


def test_a_units_row_then_a_column_number_row_are_both_header_and_no_unit_is_doubled(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["统一社会信用代码", "年度", "营业收入（万元）", "研发费用"], [None, None, "万元", "元"], ["甲", "乙", 1, 2],
            [A, 2023, 800, 500000]]
    assert _years(runner, tmp_path, {"年度数据": rows})[A] == (800.0, 50.0, None)


def test_a_company_without_its_code_is_rejected_whatever_its_remark_says(runner, tmp_path):
    rows = [["序号", "企业名称", "统一社会信用代码", "所属区县", "备注"],
            [1, "新设科技有限公司", None, "达川区", "注：新设立，代码待补"],
            [2, "丁公司", "待补充", "达川区", "说明：营业执照办理中"]]
    result = invoke(runner, tmp_path, {"企业": rows})
    assert result.exit_code == 1 and result.stdout.splitlines()[0] == "created 0, updated 0, unchanged 0, rejected 2"


def test_a_comma_csv_whose_header_mentions_semicolons_is_still_comma_separated(runner, tmp_path):
    path = tmp_path / "企业.csv"
    path.write_bytes(csv_bytes([["企业名称", "统一社会信用代码", "所属区县", "备注（多项用;分隔;如a;b）"],
                                ["川东智能科技有限公司", A, "通川区", "x"]]))
    result = runner.invoke(args=["companies", "import", str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("created 1, "), result.output


def test_a_title_giving_another_columns_unit_leaves_the_amounts_in_wan_yuan(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["2023年度企业主要经济指标（人均工资单位：元）"], ["统一社会信用代码", "年度", "营业收入", "研发费用", "人均工资"],
            [A, 2023, 800, 60, 52000]]
    assert _years(runner, tmp_path, {"年度数据": rows})[A] == (800.0, 60.0, None)


def test_header_cells_merged_down_into_the_units_row_keep_it_a_units_row(runner, tmp_path):
    invoke(runner, tmp_path, GOOD)
    rows = [["统一社会信用代码", "年度", "职工总数", "营业收入", "研发费用"], [None, None, "人", "元", "元"],
            [A, 2023, 100, 12345678, 1000000]]
    assert _years(runner, tmp_path, {"年度数据": rows}, merged={"年度数据": ["A1:A2", "B1:B2"]})[A] == (1234.57, 100.0, None)


def test_a_company_whose_name_begins_like_a_total_is_rejected_without_its_code_not_skipped(runner, tmp_path):
    rows = [COMPANY_HEADERS, ["总计量检测（达州）有限公司", "91511702-MA0000001W", "通川区"], ["小计算科技有限公司", None, "通川区"]]
    result = invoke(runner, tmp_path, {"企业": rows})
    assert result.exit_code == 1 and result.stdout.splitlines()[0] == "created 0, updated 0, unchanged 0, rejected 2"


def test_a_nul_character_in_a_cell_rejects_that_cell_not_the_whole_import(runner, tmp_path):
    """Excel writes a NUL as _x0000_; PostgreSQL cannot store one, and a lookup sent with it failed the whole file."""
    c = "91511722MA6C4X3K5" + uscc_check_char("91511722MA6C4X3K5")
    sheets = {"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", A, "通川区"], ["坏_x0000_公司", B, "达川区"],
                     ["巴山新材有限公司", c[:-1] + "_x0000_" + c[-1], "通川区_x0000_"]]}
    result = invoke(runner, tmp_path, sheets, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created 1, updated 0, unchanged 0, rejected 2",
        "企业:3:企业名称: 企业名称含有不可见的空字符（NUL），请删去后重新导入",
        "企业:4:统一社会信用代码: 统一社会信用代码含有不可见的空字符（NUL），请删去后重新导入",
        "企业:4:所属区县: 所属区县含有不可见的空字符（NUL），请删去后重新导入",
    ]
    assert companies() == 1
