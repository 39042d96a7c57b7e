"""Writing tables as .xlsx or .csv the way Chinese offices open them (Excel and WPS).

One writer for every export (shortlists, visit ledgers, company lists, monthly reports):
frozen bold header, real number and date cells, UTF-8 with BOM for CSV, and text that a spreadsheet
would run as a formula neutralised (OWASP CSV injection).
"""
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

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
        return "、".join(str(v) for v in value)
    return neutralise(value)


def write_xlsx(out: IO[bytes] | str | Path, sheets: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Any]]]]) -> None:
    """Write one or more sheets: (title, columns, rows)."""
    wb = Workbook(write_only=False)
    wb.remove(wb.active)
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append([c.header for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = column.width
            if column.number_format == "@":
                ws.column_dimensions[get_column_letter(i)].number_format = "@"
            if column.note:
                ws.cell(1, i).comment = Comment(column.note, "Ladder", width=260, height=90)
            if column.choices:
                _drop_down(wb, ws, i, column.choices)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for i, column in enumerate(columns, start=1):
            fmt = column.number_format
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                if isinstance(cell.value, (date, datetime)):
                    cell.number_format = fmt or "yyyy-mm-dd"
                elif fmt and isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
    wb.save(out)


def _drop_down(wb: Workbook, ws, index: int, choices: Sequence[str]) -> None:
    """A list validation on the column, its values in the hidden choices sheet; other values only warn."""
    if CHOICES_SHEET not in wb.sheetnames:
        wb.create_sheet(CHOICES_SHEET).sheet_state = "hidden"
    lists = wb[CHOICES_SHEET]
    col = get_column_letter(1 if lists["A1"].value is None else lists.max_column + 1)
    for r, choice in enumerate(choices, start=1):
        lists[f"{col}{r}"] = _cell(choice)
    rule = DataValidation(type="list", formula1=f"'{CHOICES_SHEET}'!${col}$1:${col}${len(choices)}",
                          allow_blank=True, errorStyle="warning", showErrorMessage=True,
                          error="请从下拉列表中选择", errorTitle=ws.cell(1, index).value)
    ws.add_data_validation(rule)
    letter = get_column_letter(index)
    rule.add(f"{letter}2:{letter}{CHOICE_ROWS}")


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
