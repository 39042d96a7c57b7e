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
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
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
    number_format: str | None = None  # e.g. "0.00", "0%", "yyyy-mm-dd"


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
