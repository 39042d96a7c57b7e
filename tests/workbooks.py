"""Building import files in tests: real .xlsx (openpyxl) and .csv bytes, no fixtures on disk."""
import io
import zipfile

from openpyxl import Workbook, load_workbook

COMPANY_HEADERS = ["企业名称", "统一社会信用代码", "所属区县", "所在园区", "产业领域", "成立日期", "联系人", "联系电话", "联系邮箱", "包联干部"]
CERT_HEADERS = ["统一社会信用代码", "资质类型", "编号", "年度", "发证日期", "有效期至", "状态"]
FIGURE_HEADERS = ["统一社会信用代码", "年度", "职工总数", "科技人员数", "营业收入（万元）", "研发费用（万元）"]


def xlsx(sheets: dict[str, list[list]], text_cells: bool = True, merged: dict[str, list[str]] | None = None) -> bytes:
    """A workbook: {title: [header, row, ...]}. Strings stay text even when they begin with '='. `merged`: ranges
    to merge per sheet ({"企业": ["C3:C4"]}), which keeps the first cell's value, as Excel does."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if text_cells and isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
        for cells in (merged or {}).get(title, ()):
            ws.merge_cells(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def read_xlsx(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def patch_xlsx(data: bytes, part: str, transform) -> bytes:
    """Rewrite one part of an .xlsx archive (e.g. to add a cached formula value by hand)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, transform(content) if item.filename == part else content)
    return out.getvalue()
