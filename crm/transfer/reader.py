"""Reading an uploaded workbook or CSV safely into plain tables (issue 7, "safe reading").

Nothing in a file is trusted. An .xlsx is inspected as a zip archive before any XML is parsed (entry
count, uncompressed size, compression ratio, CRC, DOCTYPE/ENTITY declarations); the XML parsers
never expand entities (calamine has no DTD support, openpyxl uses defusedxml when it is installed,
and both are only reached after the check). Formulas are read as the values Excel cached. A file that
is not what its extension says is refused with a reason in Chinese.
"""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

import pandas as pd
import python_calamine

from crm.normalize import is_blank
from crm.transfer.schema import IGNORED_SHEETS, SheetSpec, money_unit, sheet_by_headers, sheet_by_title, with_money_unit

MAX_ENTRIES = 1000  # a workbook has a few dozen parts
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200  # XML compresses 5–20×; zip bombs 1000× and more
RATIO_FLOOR = 1024 * 1024  # small parts may compress oddly without harm
# The reader holds a sheet as a full grid up to its farthest cell (about 50 bytes a cell): one stray cell at XFD200000
# in a 2 KB file would ask for half a terabyte and end the process. 100,000 rows × 30 columns fit.
MAX_GRID_CELLS = 3_000_000
_CELL, _ROW = re.compile(rb"<c(?=[\s/>])([^>]*)>"), re.compile(rb"<row(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"\br=\"([A-Z]{0,3})([0-9]{1,7})\"")
_CELL_TAG = re.compile(rb"<c[\s/>]")
_FIRST_REF_COLUMN, _FIRST_REF_ROW = re.compile(rb'<c r="([A-Z]{1,3})[0-9]'), re.compile(rb'<row r="([0-9]{1,7})"')
HEADER_SEARCH_ROWS = 10  # a ledger may have a title row or two above its header
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and password-protected .xlsx
ZIP_MAGIC = b"PK\x03\x04"
SUPPORTED = (".xlsx", ".csv")


class ImportRefused(Exception):
    """The file cannot be imported at all; `reason` (Chinese) says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Table:
    spec: SheetSpec
    title: str  # as named in the file
    header_row: int  # Excel row number of the header
    headers: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)  # (Excel row number, cells); blank rows left out
    header_problem: str | None = None  # a sheet named for its kind whose header row was not found


@dataclass(frozen=True)
class Problem:
    """Where and why: (sheet, row as Excel shows it, column, value, reason in Chinese)."""

    sheet: str
    row: int
    column: str
    value: str
    reason: str

    def line(self) -> str:
        """One line, whatever the cells held: a header typed with Alt+Enter (营业收入⏎（万元）) as it reads, other
        breaks as spaces."""
        column = "".join(self.column.splitlines())
        return " ".join(f"{self.sheet}:{self.row}:{column}: {self.reason}".split())


Spans = dict[tuple[int, int], int]  # a value merged across columns: (row, first column) -> last column


def read_upload(data: bytes, filename: str) -> tuple[list[Table], list[Problem]]:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        grids, spans = _xlsx_grids(data)
    elif suffix == ".csv":
        grids, spans = {None: _csv_grid(data)}, {}
    else:
        raise ImportRefused(f"不支持 {suffix or '无扩展名'} 文件：请上传 .xlsx 工作簿或 .csv 文件（旧版 .xls 请先另存为 .xlsx）")
    return _tables(grids, spans)


def _xlsx_grids(data: bytes) -> tuple[dict[str, list[list]], dict[str, Spans]]:
    merged = inspect_xlsx(data)
    try:
        frames = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="calamine",
                               keep_default_na=False, na_values=[])
        grids = {str(title): frame.values.tolist() for title, frame in frames.items()}
        spans = _merge(data, grids) if merged else {}
    except Exception as exc:  # noqa: BLE001 — whatever the parser trips on, the file is unreadable
        raise ImportRefused("无法读取该 Excel 工作簿，文件可能已损坏：请在 Excel 中打开并重新保存后再上传") from exc
    return grids, spans


def _merge(data: bytes, grids: dict[str, list[list]]) -> dict[str, Spans]:
    """A value merged down one column over several rows — a 所属区县 over its companies, a code over its years —
    belongs to each of them (pandas sees it in the first row only), so it is filled in. Merges across columns (a
    title, a group label, a note box) are left as read — copying them would put a note into other cells — and
    returned, so that a group label's unit reaches the columns under it."""
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    spans: dict[str, Spans] = {}
    for title, grid in grids.items():
        for (top, column), (bottom, right) in book.get_sheet_by_name(title).merged_cell_ranges or ():
            if right != column:
                spans.setdefault(title, {})[(top, column)] = right
                continue
            for row in grid[top + 1:bottom + 1]:
                if column < len(row) and is_blank(row[column]):
                    row[column] = grid[top][column]
    return spans


def inspect_xlsx(data: bytes) -> bool:
    """Refuse anything but a plausible, honest .xlsx archive, before any XML parser sees it. True when a sheet
    has merged cells."""
    if data[:4] == OLE_MAGIC:
        raise ImportRefused("这是旧版 Excel（.xls）文件或设置了密码的工作簿：请在 Excel 中另存为 .xlsx（不设密码）后再上传")
    not_xlsx = ImportRefused("文件不是有效的 Excel 工作簿（.xlsx），可能是其他类型的文件改了扩展名")
    if data[:4] != ZIP_MAGIC:
        raise not_xlsx
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise not_xlsx from None
    suspicious = ImportRefused("文件结构异常（解压后过大或压缩比可疑），为安全起见拒绝读取；请在 Excel 中重新保存后再上传")
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
        raise suspicious
    if any(e.file_size > RATIO_FLOOR and e.file_size > MAX_RATIO * max(e.compress_size, 1) for e in entries):
        raise suspicious
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
    return any([_verify_entry(archive, entry, suspicious) for entry in entries])  # every entry verified


def _verify_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, suspicious: ImportRefused) -> bool:
    """Decompress once: zipfile stops at the declared size and checks the CRC, so sizes cannot lie;
    an XML part may not declare a DTD (the way to entity-expansion bombs). True when it lists merged cells."""
    tail, merged = b"", False
    columns = rows = 0  # the grid a sheet asks for: its farthest cell, and past it a cell or row placed by order

    sheet = entry.filename.startswith("xl/worksheets/")
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                window = tail + chunk
                upper = window.upper()
                if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
                    raise ImportRefused("工作簿中含有不允许的 XML 声明（DOCTYPE/ENTITY），为安全起见拒绝读取")
                merged = merged or b"<MERGECELL " in upper
                if sheet:
                    new = window[len(tail) - _lead(tail):]  # tags begun in the tail are read once, whole, here
                    columns, rows = _extent(new, columns, rows)
                tail = chunk[-256:]
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        raise suspicious from None
    if columns * rows > MAX_GRID_CELLS:
        raise ImportRefused(f"工作表的已用区域过大（{rows} 行 × {columns} 列）：请删除表格以外远处的单元格（或其内容、格式），"
                            f"重新保存后再上传")
    return merged


def _extent(xml: bytes, columns: int, rows: int) -> tuple[int, int]:
    """The grid (columns, rows) grown by the cells and rows in `xml`. Spreadsheet programs write each cell's and
    row's reference first (<c r="B7">), read in bulk; any other tag is read one by one, and one placed by order
    (no reference) counts past the farthest."""
    column_letters, row_numbers = _FIRST_REF_COLUMN.findall(xml), _FIRST_REF_ROW.findall(xml)
    columns = max([columns, *map(_column_number, set(column_letters))])
    rows = max([rows, *map(int, row_numbers)])
    if len(_CELL_TAG.findall(xml)) == len(column_letters) and xml.count(b"<row") == len(row_numbers):
        return columns, rows
    for pattern, is_row in ((_CELL, False), (_ROW, True)):
        for attributes in pattern.findall(xml):
            ref = _REF.search(attributes)
            if ref is None:
                columns, rows = (columns, rows + 1) if is_row else (columns + 1, rows)
            else:
                rows = max(rows, int(ref[2]))
                columns = columns if is_row else max(columns, _column_number(ref[1]))
    return columns, rows


def _lead(tail: bytes) -> int:
    """How much of the previous read's tail a tag still open at its end takes up (0 when none is)."""
    start = tail.rfind(b"<")
    return len(tail) - start if start >= 0 and b">" not in tail[start:] else 0


def _column_number(letters: bytes) -> int:
    """XFD → 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _csv_grid(data: bytes) -> list[list]:
    if data[:4] == ZIP_MAGIC or data[:4] == OLE_MAGIC:
        raise ImportRefused("这是一个 Excel 工作簿，不是 CSV 文件：请以 .xlsx 扩展名上传")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ImportRefused("CSV 文件为 UTF-16 编码：请另存为“CSV UTF-8（逗号分隔）”后再上传")
    if b"\x00" in data[:65536]:
        raise ImportRefused("文件不是文本格式的 CSV（含有二进制内容），可能是其他类型的文件改了扩展名")
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese Excel saves CSV as GBK (a subset of GB18030)
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码")
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text)))
    except csv.Error as exc:
        raise ImportRefused(f"CSV 文件格式有误：{exc}") from None


def _separator(text: str) -> str:
    """Comma, or the semicolon or tab a spreadsheet saved the file with (European Excel, a copied table): the first
    that splits the first lines into the same number of fields."""
    lines = [line for line in text[:65536].splitlines()[:20] if line.strip()][:5]
    for separator in ",;\t":
        counts = {line.count(separator) for line in lines}
        if len(counts) == 1 and counts != {0}:
            return separator
    return ","


def _tables(grids: dict[str | None, list[list]], spans: dict[str, Spans]) -> tuple[list[Table], list[Problem]]:
    """The sheets to import. A sheet named 企业/资质/年度数据 is that sheet; another sheet (Sheet1, a CSV) is
    recognised by its headers, and only for a kind no sheet is named after: old data on a spare or hidden
    sheet never takes the place of the sheet named for it."""
    found_sheets: list[tuple[str | None, list, int | None, SheetSpec]] = []
    notices: list[Problem] = []
    for title, grid in grids.items():
        if title is not None and title.strip() in IGNORED_SHEETS:
            continue
        spec = sheet_by_title(title) if title is not None else None
        found = _find_header(grid, spec)
        if found is not None:
            found_sheets.append((title, grid, *found))
        elif title is None:
            raise ImportRefused("无法识别 CSV 文件的内容：第一行应为表头，包含 统一社会信用代码 以及 企业名称、资质类型 或 年度数据的列名")
        elif any(not is_blank(c) for row in grid for c in row):
            if spec is not None:  # named for a kind, header not found: its rows are rejected, not left out
                found_sheets.append((title, grid, None, spec))
            else:
                notices.append(Problem(title, 1, "", "", "未识别的工作表，已忽略（工作表应命名为 企业、资质 或 年度数据）"))

    def is_named(title: str | None, spec: SheetSpec) -> bool:
        return title is not None and sheet_by_title(title) is spec

    named = {spec for title, _, _, spec in found_sheets if is_named(title, spec)}
    # For each kind: a named sheet with its header first, then a named one without (企业 beside a 企业信息 of notes),
    # then one recognised by its headers alone; workbook order among equals (sorted is stable).
    found_sheets.sort(key=lambda s: (not is_named(s[0], s[3]), s[2] is None))
    tables: list[Table] = []
    for title, grid, index, spec in found_sheets:
        label = title if title is not None else spec.title
        if index is None:  # its first line stands where the header should be
            index = next(n for n, row in enumerate(grid) if not all(is_blank(c) for c in row))
            problem = f"未找到表头行：前{HEADER_SEARCH_ROWS}行中应有一行列名，如 {'、'.join(f.header for f in spec.fields[:3])}"
        else:
            problem = None
        if spec in named and not is_named(title, spec):
            notices.append(Problem(label, index + 1, "", "", f"列名与{spec.title}表相同，但文件中已有名为“{spec.title}”的工作表，"
                                                             f"本表已忽略"))
        elif (kept := next((t for t in tables if t.spec is spec), None)) and problem:  # notes named like a kind
            notices.append(Problem(label, index + 1, "", "", f"与工作表“{kept.title}”重复（都是{spec.title}），已忽略"))
        elif kept:  # a list split over sheets (one per district): its rows are rejected, never silently left out
            tables.append(Table(spec, label, index + 1, [], _rows_below(grid, index),
                                header_problem=f"与工作表“{kept.title}”同为{spec.title}表，请合并到一张工作表"))
        else:
            headers, index = ([], index) if problem else _header(grid, index, spec, spans.get(title, {}))
            tables.append(Table(spec, label, index + 1, headers, _rows_below(grid, index), header_problem=problem))
    if all(t.header_problem for t in tables):
        found = "；".join([f"“{t.title}”{t.header_problem}" for t in tables]
                         + [f"“{n.sheet}”{n.reason}" for n in notices])
        raise ImportRefused(f"文件中没有可导入的工作表：{found or '工作表应命名为 企业、资质 或 年度数据，第一行为表头'}")
    return tables, notices


def _header(grid: list[list], index: int, spec: SheetSpec, spans: Spans) -> tuple[list[str], int]:
    """The column names of the header found at row `index`, and the row the header ends on: a second row of names
    under group labels, then units or 栏次 rows, belong to it; a money unit stated by a group label, a units row or
    a title above (金额单位：元) reaches the money columns that state none of their own."""
    headers, top = _names(grid[index]), index
    if index + 1 < len(grid) and (both := _two_row_header(headers, grid[index + 1], spec, spans, index)):
        headers, index = both, index + 1
    while index + 1 < len(grid) and (units := _units_row(grid[index + 1], headers)):  # 人 万元 元, 甲 乙 1 2
        headers = [_with_unit(h, u if u in ("元", "万元") else None, spec) for h, u in zip(headers, units)]
        index += 1
    title_unit = next((u for row in grid[:top] for name in _names(row) if (u := money_unit(name))), None)
    return [_with_unit(h, title_unit, spec) for h in headers], index


def _rows_below(grid: list[list], index: int) -> list[tuple[int, list]]:
    """(Excel row number, cells) of the rows under the header, blank rows left out."""
    return [(n + 1, row) for n, row in enumerate(grid) if n > index and not all(is_blank(c) for c in row)]


def _names(row: list) -> list[str]:
    return ["" if is_blank(c) else str(c).strip() for c in row]


def _two_row_header(headers: list[str], below: list, spec: SheetSpec, spans: Spans, row: int) -> list[str] | None:
    """A header in two rows — 主要经济指标 merged over 营业收入, 研发费用… — as one: the names the second row adds
    under a group label or a blank, each with the money unit its group label states; None when the row below is
    data (it adds no column name)."""
    names = _names(below)
    added = {i for i, name in enumerate(names)
             if name and spec.field_for(name) and not (i < len(headers) and spec.field_for(headers[i]))}
    if not added:
        return None
    group = {i: headers[first] for (r, first), last in spans.items() if r == row for i in range(first, last + 1)}
    return [_with_unit(names[i], money_unit(group.get(i, headers[i] if i < len(headers) else "")), spec)
            if i in added else (headers[i] if i < len(headers) else "") for i in range(len(names))]


def _with_unit(header: str, unit: str | None, spec: SheetSpec) -> str:
    """A money column's header stating the unit given above or below it (元 is converted to 万元 on import), unless
    it states its own."""
    f = spec.field_for(header) if header and unit else None
    return with_money_unit(header, unit) if f is not None and f.kind == "money" else header


_UNITS_ROW = {"人", "个", "件", "项", "名", "家", "万元", "元", "%", "年", "甲", "乙", "丙", "丁", "—", "-"}


def _units_row(row: list, headers: list[str]) -> list[str] | None:
    """The row under a statistical form's header that gives each column's unit (人, 万元, 元) or its 栏次 (甲, 乙,
    1, 2, 3…): part of the header, not data. None for any other row. A header cell merged down into it (统一社会信用代码
    over two rows) is the header's, not a unit."""
    names = _names(row)
    given = [n for i, n in enumerate(names) if n and not (i < len(headers) and n == headers[i])]
    if len(given) >= 2 and all(n in _UNITS_ROW or (n.isdigit() and len(n) <= 3) for n in given):
        return names
    return None


def _find_header(grid: list[list], spec: SheetSpec | None) -> tuple[int, SheetSpec] | None:
    """The first row, among the first few, that names at least two columns of the sheet."""
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        cells = [c for c in row if not is_blank(c)]
        candidate = spec or sheet_by_headers(cells)
        if candidate and sum(1 for c in cells if candidate.field_for(c)) >= 2:
            return index, candidate
    return None
