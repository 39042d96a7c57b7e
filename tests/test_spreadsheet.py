"""The shared export writer: real cells, frozen bold header, BOM, formula-leading text neutralised."""
import csv
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from crm.transfer.spreadsheet import Column, neutralise, write_table

COLUMNS = [Column("企业名称", 30), Column("成立日期"), Column("营业收入（万元）", number_format="0.00"), Column("人数")]
ROWS = [["=HYPERLINK(\"http://x\")", date(2021, 3, 5), Decimal("1234.50"), 12],
        ["-1 公司", None, None, None], ["@SUM(A1)", date(2020, 1, 1), Decimal("0"), 0],
        ["\t制表符", None, None, None], ["正常企业", "", None, None]]


@pytest.mark.parametrize("text", ["=1+1", "+86", "-5", "@x", "\tx", "\rx"])
def test_formula_leading_text_neutralised(text):
    assert neutralise(text) == "'" + text


def test_numbers_and_plain_text_untouched():
    assert neutralise(-5) == -5 and neutralise("达州") == "达州"


def test_xlsx_has_real_cells_and_frozen_bold_header(tmp_path):
    path = tmp_path / "out.xlsx"
    write_table(path, COLUMNS, ROWS, title="名单")
    ws = openpyxl.load_workbook(path)["名单"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert ws["B2"].is_date and ws["B2"].value.date() == date(2021, 3, 5)
    assert ws["C2"].value == 1234.5 and ws["C2"].number_format == "0.00"
    assert [ws[f"A{i}"].value for i in range(2, 7)] == ["'=HYPERLINK(\"http://x\")", "'-1 公司", "'@SUM(A1)", "'\t制表符", "正常企业"]
    assert ws["A2"].data_type == "s"
    assert ws["B6"].value is None and ws["D2"].value == 12  # nothing written for None or "", zero kept


def test_csv_is_utf8_with_bom_and_neutralised(tmp_path):
    path = tmp_path / "out.csv"
    write_table(path, COLUMNS, ROWS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [c.header for c in COLUMNS]
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "2021-03-05", "1234.50", "12"]
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:])


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_list_joined_into_one_cell_is_neutralised_too(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    write_table(path, [Column("缺失数据")], [[["=1+1", "研发费用"]], [["研发人员", "营业收入"]]])
    if suffix == ".xlsx":
        cells = [row[0].value for row in openpyxl.load_workbook(path).active.iter_rows(min_row=2)]
    else:
        cells = [row[0] for row in csv.reader(path.read_text(encoding="utf-8-sig").splitlines()[1:])]
    assert cells == ["'=1+1、研发费用", "研发人员、营业收入"]


def test_unknown_extension_refused(tmp_path):
    with pytest.raises(ValueError, match="xlsx"):
        write_table(tmp_path / "out.pdf", COLUMNS, ROWS)
