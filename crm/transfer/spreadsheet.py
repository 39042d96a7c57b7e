"""Writing tables as .xlsx or .csv the way Chinese offices open them (Excel and WPS).

One writer for every export (shortlists, visit ledgers, company lists, monthly reports):
frozen bold header, real number and date cells, UTF-8 with BOM for CSV, and text that a spreadsheet
would run as a formula neutralised (OWASP CSV injection). .xlsx files are written by xlsxwriter: several
times faster than openpyxl for the thousands of rows of a province-scale shortlist.
"""
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
CHOICES_SHEET = "选项"  # hidden sheet holding drop-down lists (inline lists are limited to 255 characters)
CHOICE_ROWS = 10000  # how far down a drop-down reaches
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"


def neutralise(value: Any) -> Any:
    """Text beginning with = + - @ tab or CR gets a leading apostrophe; numbers and dates stay real."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def unneutralised(text: str) -> str:
    """Text as it was before neutralise(): an exported list read back in (a company list re-imported) is unchanged.
    Excel drops the apostrophe typed before = itself; a CSV or a cell read as text keeps it."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_LEADS) else text


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 14
    number_format: str | None = None  # e.g. "0.00", "0%", "yyyy-mm-dd"; "@" makes the whole column text
    note: str = ""  # a comment on the header cell (templates)
    choices: tuple[str, ...] = ()  # a drop-down list on the column's cells (templates)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple, set)):
        return neutralise("、".join(str(v) for v in value))
    return neutralise(value)


def write_xlsx(out: IO[bytes] | str | Path, sheets: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Any]]]]) -> None:
    """Write one or more sheets: (title, columns, rows). Strings are always written as text, never as formulas."""
    wb = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False})
    formats: dict[str, Any] = {}

    def number_format(code: str | None):
        if code and code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats.get(code)

    bold, lists = wb.add_format({"bold": True}), _ChoiceLists(wb)
    for title, columns, rows in sheets:
        ws = wb.add_worksheet(title[:31])
        ws.freeze_panes(1, 0)
        for i, column in enumerate(columns):
            # The width as stored in the file (7 px a character), not xlsxwriter's padded on-screen width.
            ws.set_column_pixels(i, i, column.width * 7, number_format("@") if column.number_format == "@" else None)
            ws.write_string(0, i, column.header, bold)
            if column.note:
                ws.write_comment(0, i, column.note, {"author": "Ladder", "width": 260, "height": 90})
            if column.choices:  # a list validation; other values only warn
                ws.data_validation(1, i, CHOICE_ROWS - 1, i, {
                    "validate": "list", "source": lists.range(column.choices), "ignore_blank": True,
                    "error_type": "warning", "error_title": column.header, "error_message": "请从下拉列表中选择"})
        numbers = [number_format(c.number_format) for c in columns]
        dates = [number_format(c.number_format or "yyyy-mm-dd") for c in columns]
        for r, row in enumerate(rows, start=1):
            for i, value in enumerate(row):
                value = _cell(value)
                if value is None or value == "":  # a blank cell, not an empty string
                    continue
                if isinstance(value, str):
                    ws.write_string(r, i, value)
                elif isinstance(value, (date, datetime)):
                    ws.write_datetime(r, i, value, dates[i])
                elif isinstance(value, bool):
                    ws.write_boolean(r, i, value, numbers[i])
                else:
                    ws.write_number(r, i, value, numbers[i])
    try:
        wb.close()
    except FileCreateError as exc:  # the OSError itself, which callers report as "cannot write"
        raise exc.args[0] from None


class _ChoiceLists:
    """Drop-down values on the hidden choices sheet, one column per list, the sheet added when first needed."""

    def __init__(self, wb):
        self.wb, self.sheet, self.used = wb, None, 0

    def range(self, choices: Sequence[str]) -> str:
        if self.sheet is None:
            self.sheet = self.wb.add_worksheet(CHOICES_SHEET)
            self.sheet.hide()
        col, self.used = self.used, self.used + 1
        for r, choice in enumerate(choices):
            self.sheet.write_string(r, col, _cell(choice))
        letter = xl_col_to_name(col)
        return f"='{CHOICES_SHEET}'!${letter}$1:${letter}${len(choices)}"


def write_csv(out: IO[str], columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM so that Excel and WPS recognise the encoding; dates as YYYY-MM-DD."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (date, datetime, Decimal)):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return _cell(value)


def write_table(path: str | Path, columns: Sequence[Column], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> None:
    """Write to `path` as .xlsx or .csv by its extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_xlsx(path, [(title, columns, rows)])
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            write_csv(fh, columns, rows)
    else:
        raise ValueError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请用 .xlsx 或 .csv")


def table_bytes(fmt: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> tuple[bytes, str]:
    """The file's bytes and MIME type, for a download response."""
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(buf, columns, rows)
        return buf.getvalue().encode("utf-8"), CSV_MIME
    out = io.BytesIO()
    write_xlsx(out, [(title, columns, rows)])
    return out.getvalue(), XLSX_MIME
