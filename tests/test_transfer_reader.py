"""Safe reading of uploads: zip bombs, entity expansion, disguised files, encodings, cached formula values."""
import io
import re
import zipfile

import openpyxl.xml
import pytest
from workbooks import COMPANY_HEADERS, csv_bytes, patch_xlsx, xlsx

from crm.transfer.reader import MAX_ENTRIES, ImportRefused, inspect_xlsx, read_upload

CODE = "91511702MA6C4X3K5"  # first 17 characters; the value does not matter to the reader


def refused(data: bytes, filename: str) -> str:
    with pytest.raises(ImportRefused) as info:
        read_upload(data, filename)
    return info.value.reason


def archive(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_any_xml_is_parsed():
    bomb = archive({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                    "xl/worksheets/sheet1.xml": b"\0" * (50 * 1024 * 1024)})
    assert len(bomb) < 200_000  # 50 MB squeezed a thousandfold
    assert "压缩比可疑" in refused(bomb, "台账.xlsx")


def test_an_archive_with_too_many_entries_is_refused():
    many = archive({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                    **{f"xl/media/{i}.xml": b"<a/>" for i in range(MAX_ENTRIES)}})
    with pytest.raises(ImportRefused, match="文件结构异常"):
        inspect_xlsx(many)


def test_an_archive_whose_declared_sizes_lie_is_refused():
    honest = archive({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>" + b" " * 5000})
    # declare the workbook part as 11 bytes long: decompressing it then fails the CRC check
    lying = honest.replace((5011).to_bytes(4, "little"), (11).to_bytes(4, "little"))
    assert lying != honest
    with pytest.raises(ImportRefused, match="文件结构异常"):
        inspect_xlsx(lying)


def test_xml_entity_declarations_are_refused():
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    data = patch_xlsx(xlsx({"企业": [COMPANY_HEADERS, ["x"] * 10]}), "xl/worksheets/sheet1.xml",
                      lambda xml: laughs + xml.replace(b"<t>x</t>", b"<t>&lol2;</t>"))
    assert "DOCTYPE/ENTITY" in refused(data, "台账.xlsx")


def test_one_stray_cell_far_away_is_refused_before_the_reader_asks_for_its_grid():
    """A 2 KB workbook with a cell at XFD200000 would have the reader allocate half a terabyte and end the process
    (a web worker, by anyone allowed to import). Cells and rows placed by order, without a reference, count too."""
    far = xlsx({"企业": [COMPANY_HEADERS]})
    stray = patch_xlsx(far, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"</sheetData>", b'<row r="200000"><c r="XFD200000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    assert "200000 行 × 16384 列" in refused(stray, "台账.xlsx")
    unplaced = patch_xlsx(far, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 5000 + b"</row></sheetData>"))
    assert "已用区域过大" in refused(unplaced, "台账.xlsx")
    wide_but_short = patch_xlsx(far, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"</sheetData>", b'<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    assert read_upload(wide_but_short, "台账.xlsx")  # 3 × 16384 cells: read (its far column is reported unknown)


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


def test_a_renamed_text_file_is_not_taken_for_a_workbook():
    assert "可能是其他类型的文件改了扩展名" in refused("企业名称,统一社会信用代码\n".encode(), "台账.xlsx")


def test_an_old_xls_or_encrypted_workbook_gets_its_own_explanation():
    assert "另存为 .xlsx" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "台账.xlsx")


def test_a_word_document_renamed_xlsx_is_refused():
    docx = archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
    assert "不是有效的 Excel 工作簿" in refused(docx, "台账.xlsx")


def test_binary_content_named_csv_is_refused():
    assert "含有二进制内容" in refused(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "企业.csv")


def test_a_workbook_named_csv_is_refused_with_the_fix():
    assert "请以 .xlsx 扩展名上传" in refused(xlsx({"企业": [COMPANY_HEADERS]}), "企业.csv")


def test_other_extensions_are_refused():
    assert "不支持 .pdf 文件" in refused(b"%PDF-1.7", "台账.pdf")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_the_same(encoding):
    tables, _ = read_upload(csv_bytes([COMPANY_HEADERS, ["达州巴山电子有限公司", CODE, "通川区"]], encoding), "企业.csv")
    assert tables[0].spec.key == "companies"
    assert tables[0].headers[:2] == ["企业名称", "统一社会信用代码"]
    assert tables[0].rows == [(2, ["达州巴山电子有限公司", CODE, "通川区"])]


def test_a_csv_whose_headers_name_no_sheet_is_refused():
    assert "无法识别 CSV 文件的内容" in refused(csv_bytes([["姓名", "电话"], ["张三", "1"]]), "x.csv")


def test_codes_keep_leading_zeros_and_stay_text():
    tables, _ = read_upload(xlsx({"企业": [COMPANY_HEADERS, ["甲", "0012", "通川区"]]}), "台账.xlsx")
    assert tables[0].rows[0][1][1] == "0012"


def test_a_formula_is_read_as_the_value_excel_cached_and_text_beginning_with_equals_stays_text():
    data = xlsx({"企业": [COMPANY_HEADERS, ["=1+1", "x", "通川区"], ["placeholder", "y", "达川区"]]})
    # Replace A3's text by a formula whose cached value is 2, as Excel saves it.
    data = patch_xlsx(data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb'<c r="A3" t="inlineStr"><is><t>placeholder</t></is></c>', b'<c r="A3"><f>1+1</f><v>2</v></c>', xml))
    tables, _ = read_upload(data, "台账.xlsx")
    rows = dict(tables[0].rows)
    assert rows[2][0] == "=1+1"
    assert rows[3][0] == 2


def test_unknown_and_template_sheets_are_reported_or_skipped():
    tables, notices = read_upload(xlsx({"企业": [COMPANY_HEADERS], "说明": [["工作表"]], "备忘": [["随手记"]]}), "台账.xlsx")
    assert [t.title for t in tables] == ["企业"]
    assert [(n.sheet, n.reason.startswith("未识别的工作表")) for n in notices] == [("备忘", True)]


def test_a_sheet_named_otherwise_is_recognised_by_its_headers():
    tables, notices = read_upload(xlsx({"Sheet1": [COMPANY_HEADERS, ["甲", CODE, "通川区"]]}), "台账.xlsx")
    assert [(t.spec.key, t.title) for t in tables] == [("companies", "Sheet1")] and notices == []


def test_a_known_sheet_without_a_header_row_is_explained():
    reason = refused(xlsx({"企业": [["甲", CODE, "通川区"]]}), "台账.xlsx")
    assert reason.startswith("文件中没有可导入的工作表：“企业”未找到表头行")


def test_a_value_merged_down_one_column_fills_each_row_and_a_merged_note_box_fills_none():
    rows = [COMPANY_HEADERS[:3], ["甲公司", "CODE1", "达川区"], ["乙公司", "CODE2", None],
            ["本表由各区县填报，数据截至年底", None, None], [None, None, None]]
    (table,), _ = read_upload(xlsx({"企业": rows}, merged={"企业": ["C2:C3", "A4:C5"]}), "x.xlsx")
    assert [cells[:3] for _, cells in table.rows] == [
        ["甲公司", "CODE1", "达川区"], ["乙公司", "CODE2", "达川区"], ["本表由各区县填报，数据截至年底", "", ""]]
