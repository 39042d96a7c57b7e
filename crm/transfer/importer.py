"""Importing the bureau's workbook (DOMAIN §8), for the web flow and `companies import`.

run_import() reads the file (reader.py), validates every row, plans an upsert against the database
(companies by code; certifications by company, kind and 编号 — or year when there is no 编号;
figures by company and year) and then writes the plan in bulk, in one transaction, with an audit
entry for every change — unless it is a dry run, or a row was rejected and skip_invalid is off.
Blank cells never overwrite what the database already holds, so re-importing changes nothing.
"""
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from crm.access import area_ids
from crm.areas import all_areas, resolve_district, resolve_park
from crm.audit import SKIPPED, acting_as, current_actor
from crm.audit import plain  # the audit trail's own JSON form of a value
from crm.clock import today, utcnow
from crm.companies.service import first_issued_on, founding_problem, hand_over
from crm.extensions import db
from crm.jobs import collector_paused
from crm.ladder.standing import KIND_LABELS, certification_problems, validity_window
from crm.models import AuditLog, Certification, Company, CompanyYear, User
from crm.models.area import PARK
from crm.models.certification import GAZELLE, HNTE, REVOKED, TECH_SME, VALID, period, same_certification
from crm.models.user import ADMIN, user_area
from crm.normalize import (InvalidValue, is_blank, name_sort_key, normalize_code, normalize_uscc, parse_date,
                           parse_int, parse_money, parse_year, to_halfwidth, validate_uscc)
from crm.settings import get_setting
from crm.transfer.reader import ImportRefused, Problem, Table, read_upload
from crm.transfer.schema import CERTIFICATIONS, COMPANIES, EXAMPLE_USCC, FIGURES, SHEETS, Field, header_key, money_unit
from crm.transfer.spreadsheet import Column, unneutralised, write_xlsx

CHUNK = 500  # codes per IN (...) lookup
PREVIEW_ROWS = 10
MAX_MONEY = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_COUNT = 2_000_000_000  # INTEGER
KINDS_BY_LABEL = {"科技型中小企业": TECH_SME, "科小": TECH_SME, "高新技术企业": HNTE, "高企": HNTE,
                  "国家高新技术企业": HNTE, "国家级高新技术企业": HNTE,  # as the certificate itself is headed
                  "瞪羚企业": GAZELLE, "瞪羚": GAZELLE, TECH_SME: TECH_SME, HNTE: HNTE, GAZELLE: GAZELLE}
STATUS_BY_LABEL = {"有效": VALID, "撤销": REVOKED, "已撤销": REVOKED, "撤消": REVOKED, "已撤消": REVOKED,  # 撤消: a common variant
                   VALID: VALID, REVOKED: REVOKED}
STATUS_LABELS = {VALID: "有效", REVOKED: "撤销"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ENTITIES = {COMPANIES: "company", CERTIFICATIONS: "certification", FIGURES: "figures"}
MODELS = {COMPANIES: Company, CERTIFICATIONS: Certification, FIGURES: CompanyYear}


@dataclass
class SheetResult:
    key: str
    title: str
    headers: list[str]  # as in the file, for the error report
    fields: list[str]  # canonical headers of the columns found, for the preview
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    preview: list[list[str]] = field(default_factory=list)  # action, then the values as they will be stored
    bad_rows: list[list] = field(default_factory=list)  # row number, the cells as written, the reasons


@dataclass
class ImportResult:
    filename: str
    sheets: list[SheetResult]
    problems: list[Problem]
    warnings: list[Problem]
    applied: bool  # the valid rows were written (or, in a dry run, would be)
    written: bool

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sheets)

    def summary_line(self) -> str:
        """INTERFACES.md: `created N, updated M, unchanged U, rejected R` (nothing counts if nothing is written)."""
        total = {k: sum(getattr(s, k) for s in self.sheets) if self.applied else 0
                 for k in ("created", "updated", "unchanged")}
        return (f"created {total['created']}, updated {total['updated']}, "
                f"unchanged {total['unchanged']}, rejected {self.rejected}")

    def error_report(self) -> bytes:
        """An .xlsx with every problem, then each sheet's rejected rows as written, with a reason column."""
        summary = [("错误", p.sheet, p.row, p.column, p.value, p.reason) for p in self.problems]
        summary += [("提示", p.sheet, p.row, p.column, p.value, p.reason) for p in self.warnings]
        sheets = [("错误汇总", [Column("类型", 6), Column("工作表", 10), Column("行号", 6), Column("列", 20),
                                Column("值", 24), Column("原因", 60)], summary)]
        sheets += [(f"{s.title}-错误行", [Column("行号", 6)] + [Column(h) for h in s.headers] + [Column("错误原因", 60)],
                    [[_as_written(v) for v in row] for row in s.bad_rows]) for s in self.sheets if s.bad_rows]
        out = io.BytesIO()
        write_xlsx(out, sheets)
        return out.getvalue()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImportResult":
        return cls(**{**data, "sheets": [SheetResult(**s) for s in data["sheets"]],
                      "problems": [Problem(**p) for p in data["problems"]],
                      "warnings": [Problem(**p) for p in data["warnings"]]})


def run_import(data: bytes, filename: str, user: User | None, *, skip_invalid: bool = False,
               dry_run: bool = False) -> ImportResult:
    """Import a workbook or CSV as `user` (None: unrestricted, as the CLI without --as).

    Raises ImportRefused when the file cannot be read at all."""
    with collector_paused():
        return _import(data, PurePath(filename).name, user, skip_invalid, dry_run)


def _import(data: bytes, name: str, user: User | None, skip_invalid: bool, dry_run: bool) -> ImportResult:
    tables, warnings = read_upload(data, name)
    batches = sorted((Batch(t) for t in tables), key=lambda b: SHEETS.index(b.spec))  # companies first
    warnings += [n for b in batches for n in b.notices]
    ctx = Context(user, {code for b in batches for code in b.raw_codes()})
    for batch in batches:
        batch.read(ctx, warnings)
    companies = next((b for b in batches if b.key == COMPANIES), None)
    for batch in batches:
        batch.validate(companies)
    ctx.load_children({code for b in batches if b.key != COMPANIES for code in b.codes()})
    for batch in batches:
        batch.plan()
    if companies is not None:
        companies.warn_of_namesakes(warnings)
    problems = [p for b in batches for p in b.problems()]
    applied = not problems or (skip_invalid and any(b.valid_rows() for b in batches))
    written = applied and not dry_run and any(r.action in ("create", "update") for b in batches for r in b.valid_rows())
    if written:
        try:
            with acting_as(user.id if user else None, f"import:{name}"[:80]):
                write(batches, ctx)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise ImportRefused("导入时数据已被他人修改（例如同时导入了相同的企业），未写入任何数据，请重新导入") from None
    return ImportResult(name, [b.result() for b in batches], problems, warnings, applied, written)


class Context:
    """What validation needs from the database, loaded once: areas, users, the companies the file names."""

    def __init__(self, user: User | None, codes: set[str]):
        self.today = today()
        self.scope = None if user is None else area_ids(user)
        self.gazelle_years = int(get_setting("gazelle")["validity_years"])
        self.area_names = {a.id: a.name for a in all_areas()}
        self.park_names = [a.name for a in all_areas(PARK)]
        users = db.session.execute(select(User.id, User.username, User.display_name, User.role, User.active)).all()
        self.users = {u.username: u for u in users}
        self.users_by_id = {u.id: u for u in users}
        self.officer_areas: dict[int, set[int]] = defaultdict(set)  # the areas each limited officer covers
        for user_id, area_id in db.session.execute(select(user_area.c.user_id, user_area.c.area_id)):
            if self.users_by_id[user_id].role != ADMIN:  # an admin's areas limit nothing (crm.access.area_ids)
                self.officer_areas[user_id].add(area_id)
        # A ledger may name the officer as people write it: 张伟, or the username in another case.
        self.users_by_name: dict[str, set] = defaultdict(set)
        for u in users:
            for name in filter(None, (u.username, u.display_name)):
                self.users_by_name["".join(name.split()).casefold()].add(u)
        self.companies = _rows_by(Company, Company.uscc, codes, key=lambda r: r.uscc)
        self.first_issued = first_issued_on([c.id for c in self.companies.values()])
        self.certs: dict[str, list] = defaultdict(list)
        self.figures: dict[tuple[str, int], Any] = {}
        self._areas: dict[tuple[str, str], int | None] = {}

    def load_children(self, codes: set[str]) -> None:
        """Existing certifications and figures of the companies the other sheets refer to."""
        ids = {self.companies[c].id: c for c in codes if c in self.companies}
        for cert in _rows_by(Certification, Certification.company_id, ids):
            self.certs[ids[cert.company_id]].append(cert)
        for figures in _rows_by(CompanyYear, CompanyYear.company_id, ids):
            self.figures[(ids[figures.company_id], figures.year)] = figures

    def area(self, kind: str, cell) -> int | None:
        key = (kind, str(cell))
        if key not in self._areas:
            area = (resolve_district if kind == "district" else resolve_park)(str(cell))
            self._areas[key] = area.id if area else None
        return self._areas[key]

    def in_scope(self, district_id: int | None, park_id: int | None) -> bool:
        return self.scope is None or district_id in self.scope or park_id in self.scope

    def visible(self, code: str) -> bool:
        company = self.companies.get(code)
        return company is not None and self.in_scope(company.district_id, company.park_id)


def _rows_by(model, column, values, key: Callable | None = None):
    """`model`'s rows (all columns) whose `column` is in `values`, in chunks; a dict by `key` if given."""
    values = list(values)
    rows = []
    for start in range(0, len(values), CHUNK):
        rows.extend(db.session.execute(select(*model.__table__.columns).where(column.in_(values[start:start + CHUNK]))))
    return {key(r): r for r in rows} if key else rows


@dataclass
class Row:
    number: int  # as Excel shows it
    cells: list
    values: dict[str, Any] = field(default_factory=dict)  # normalised; blank cells left out
    problems: list[Problem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    action: str = ""  # create | update | unchanged
    target: Any = None  # the database row it matches
    changes: dict[str, Any] = field(default_factory=dict)  # what it writes

    @property
    def code(self) -> str | None:
        return self.values.get("uscc")


class Batch:
    """One sheet of the file: its header mapped, its rows read, validated and planned."""

    def __init__(self, table: Table):
        self.table, self.spec, self.key = table, table.spec, table.spec.key
        self.columns: dict[str, tuple[int, str]] = {}  # field key -> (index, header as written)
        self.notices: list[Problem] = []
        self.in_file: dict[str, Row] = {}  # the companies sheet's row of each code (validate)
        for index, header in enumerate(table.headers):
            f = self.spec.field_for(header) if header else None
            if header and f is None:
                self.notices.append(self._sheet_problem(header, "未识别的列，已忽略"))
            elif f is not None and f.key in self.columns:
                self.notices.append(self._sheet_problem(header, f"与“{self.columns[f.key][1]}”列重复，已忽略"))
            elif f is not None:
                self.columns[f.key] = (index, header)
        self.sheet_problems = [self._sheet_problem("", f"{table.header_problem}，本表各行均未导入")] if table.header_problem \
            else [self._sheet_problem(f.header, f"缺少必需的列“{f.header}”，本表各行均未导入")
                  for f in self.spec.fields if f.required and f.key not in self.columns]
        self.rows: list[Row] = []
        self.claimed: set[int] = set()  # existing certifications already matched by a row

    def _sheet_problem(self, column: str, reason: str) -> Problem:
        return Problem(self.table.title, self.table.header_row, column, "", reason)

    def cell(self, cells: list, key: str):
        index = self.columns[key][0] if key in self.columns else None
        return cells[index] if index is not None and index < len(cells) else ""

    def raw_codes(self) -> set[str]:
        return set(self.raw_code_list) - {""}

    @cached_property
    def raw_code_list(self) -> list[str]:
        """Each row's code as written, normalised (before validation): the companies to load, the example row."""
        return [normalize_uscc(self.cell(cells, "uscc")).replace("\x00", "") for _, cells in self.table.rows]

    def codes(self) -> set[str]:
        return {r.code for r in self.rows if r.code}

    def read(self, ctx: "Context", warnings: list[Problem]) -> None:
        self.ctx, self.warnings = ctx, warnings
        # (field, column index, parser) of the columns found, looked up once rather than per cell
        present = [(f, self.columns[f.key][0], self._parser(f)) for f in self.spec.fields if f.key in self.columns]
        for (number, cells), code in zip(self.table.rows, self.raw_code_list):
            if code == EXAMPLE_USCC:
                warnings.append(Problem(self.table.title, number, self.columns["uscc"][1], EXAMPLE_USCC,
                                        "模板中的示例行，已忽略"))
                continue
            if footer := _footer(cells, code):
                warnings.append(Problem(self.table.title, number, "", footer, "合计行或表尾说明，已忽略"))
                continue
            if present and all(index >= len(cells) or is_blank(cells[index]) for _, index, _ in present):
                continue  # only columns Ladder does not read hold something: a 序号 filled down, a remark
            row = Row(number, cells)
            values = row.values
            for f, index, parse in present:
                cell = cells[index] if index < len(cells) else ""
                if is_blank(cell):
                    if f.required:
                        self.add(row, f.key, f"{f.header}不能为空")
                    continue
                if isinstance(cell, str) and "\x00" in cell:  # an xlsx _x0000_, a CSV's NUL byte: PostgreSQL refuses it
                    self.add(row, f.key, f"{f.header}含有不可见的空字符（NUL），请删去后重新导入")
                    continue
                try:
                    values[f.key] = parse(cell, f, ctx)
                except InvalidValue as exc:
                    self.add(row, f.key, exc.reason)
            self.rows.append(row)

    def _parser(self, f: Field) -> Callable:
        """The field's parser; for an amount whose column is headed in 元, the one converting it to 万元."""
        in_yuan = f.kind == "money" and money_unit(self.columns[f.key][1]) == "元"
        return _money_in_yuan if in_yuan else PARSERS[f.kind]

    def add(self, row: Row, key: str, reason: str) -> None:
        header = self.columns[key][1] if key in self.columns else next(f.header for f in self.spec.fields if f.key == key)
        row.problems.append(Problem(self.table.title, row.number, header, shown(self.cell(row.cells, key)), reason))
        row.failed.add(key)

    def rejected(self, row: Row) -> bool:
        return bool(row.problems or self.sheet_problems)

    def valid_rows(self) -> list[Row]:
        return [] if self.sheet_problems else [r for r in self.rows if not r.problems]

    def problems(self) -> list[Problem]:
        return self.sheet_problems + [p for r in self.rows for p in r.problems]

    # --- validation (DOMAIN §8) ---

    def validate(self, companies: "Batch | None") -> None:
        rules = {COMPANIES: self._company_rules, CERTIFICATIONS: self._cert_rules, FIGURES: self._figure_rules}[self.key]
        seen: dict[Any, int] = {}
        in_file = self.in_file = companies.first_rows() if companies else {}
        for row in self.rows:
            rules(row)
            key = self._identity(row)
            if key is not None and key in seen:
                self.add(row, "uscc", f"与本表第{seen[key]}行重复（{self._identity_label()}相同）")
            elif key is not None:
                seen[key] = row.number
            if self.key != COMPANIES and row.code:
                self._company_exists(row, in_file, companies)

    def first_rows(self) -> dict[str, Row]:
        first: dict[str, Row] = {}
        for row in self.rows:
            if row.code:
                first.setdefault(row.code, row)
        return first

    def _identity(self, row: Row) -> tuple | None:
        v = row.values
        if not row.code:
            return None
        if self.key == COMPANIES:
            return (row.code,)
        if self.key == FIGURES:
            return (row.code, v["year"]) if "year" in v else None
        if "kind" not in v:
            return None
        return (row.code, v["kind"], v.get("number") or period(v.get("year"), v.get("issued_on")))

    def _identity_label(self) -> str:
        return {COMPANIES: "统一社会信用代码", FIGURES: "统一社会信用代码和年度",
                CERTIFICATIONS: "统一社会信用代码、资质类型和编号（无编号时为年度）"}[self.key]

    def _company_rules(self, row: Row) -> None:
        existing = self.ctx.companies.get(row.code)
        if row.code and self.ctx.scope is not None:
            if existing is not None and not self.ctx.in_scope(existing.district_id, existing.park_id):
                # Nothing more is checked: every other message would quote what is stored about it (its officer,
                # park, dates), which the user may not see.
                self.add(row, "uscc", "该统一社会信用代码已登记在您负责区域以外的企业名下，请联系管理员")
                return
            district, park = _placed(row, existing)
            if district is not None and not self.ctx.in_scope(district, park):
                self.add(row, "district_id", "该企业不在您负责的区域内，不能导入")
        self._officer_covers(row)
        founded = row.values.get("founded_on")
        # A founding date the row leaves as it was is not judged again (data older than the rule may break it).
        if existing is not None and founded != existing.founded_on and (
                problem := founding_problem(founded, self.ctx.first_issued.get(existing.id))):
            self.add(row, "founded_on", str(problem))

    def _officer_covers(self, row: Row) -> None:
        """The 包联干部 — the one named, or the one a blank cell keeps — must be someone who may open the company
        where the row puts it (an officer limited to other areas could not). An assignment the row leaves as it
        was is not judged again: the officer's areas may have changed since, and the ledger re-imported as it
        stands must not fail for it."""
        existing = self.ctx.companies.get(row.code)
        officer = row.values.get("officer_id") or (existing.officer_id if existing else None)
        areas = self.ctx.officer_areas.get(officer)
        district, park = _placed(row, existing)
        kept = existing is not None and officer == existing.officer_id
        if kept and ((district, park) == (existing.district_id, existing.park_id) or not self._covers(officer, existing)):
            return  # the assignment as it was; or one already waiting to be handed over, which a move cannot worsen
        user = self.ctx.users_by_id.get(officer)
        if user is not None and officer != (existing.officer_id if existing else None) and (
                user.role not in ("admin", "officer") or not user.active):
            self.add(row, "officer_id", f"用户“{user.username}”不是在岗的包联干部，不能分配企业")
            return
        if areas and district is not None and not {district, park} & areas:
            names = self.ctx.area_names
            self.add(row, "officer_id", f"包联干部“{self.ctx.users_by_id[officer].username}”不负责"
                                        f"{names.get(district, district)}" + (f"或{names.get(park, park)}" if park else ""))

    def _covers(self, officer: int | None, company) -> bool:
        """The officer is in post and may open the company where it is stored."""
        user, areas = self.ctx.users_by_id.get(officer), self.ctx.officer_areas.get(officer)
        return (user is not None and user.active and user.role in ("admin", "officer")
                and (not areas or bool({company.district_id, company.park_id} & areas)))

    def _cert_rules(self, row: Row) -> None:
        v, kind = row.values, row.values.get("kind")
        if kind in (TECH_SME, GAZELLE) and "year" not in v and "year" not in row.failed:
            self.add(row, "year", f"{KIND_LABELS[kind]}需填写年度")
        if kind == HNTE and "issued_on" not in v and "issued_on" not in row.failed:
            self.add(row, "issued_on", "高新技术企业需填写发证日期")
        problems = certification_problems(kind, v.get("year"), v.get("issued_on"), v.get("expires_on"),
                                          self._founded_on(row.code))
        if kind == TECH_SME and "expires_on" in problems and v["expires_on"] >= v.get("issued_on", v["expires_on"]):
            # A ledger's own idea of a registration's end (the next evaluation): the registration still lapses on
            # 31 December of its year (§2.4), so the date is left out rather than the row (§8: 有效期至 is optional).
            self.warnings.append(Problem(self.table.title, row.number, self.columns["expires_on"][1],
                                         shown(self.cell(row.cells, "expires_on")),
                                         f"科技型中小企业入库登记当年有效，至 {v['year']}-12-31 止：填写的有效期至已忽略"))
            del problems["expires_on"], v["expires_on"]
        for name, problem in problems.items():
            self.add(row, name, str(problem))
        if kind in (TECH_SME, GAZELLE) and "year" in v and "issued_on" in v and v["issued_on"].year > v["year"]:
            # §5 counts it in its year from its issue date: a date after the year never comes within it.
            self.warnings.append(Problem(self.table.title, row.number, self.columns["issued_on"][1],
                                         shown(self.cell(row.cells, "issued_on")),
                                         f"发证日期晚于年度 {v['year']}：按统计口径，该{KIND_LABELS[kind]}资质不会计入任何年度的"
                                         f"目标进度，请核对年度或发证日期"))

    def _founded_on(self, code: str | None) -> date | None:
        """The company's founding date: as its row in this file gives it, else as stored (if the user may see it:
        the row is refused for that anyway, and the refusal must not quote the date)."""
        company_row, stored = self.in_file.get(code), self.ctx.companies.get(code)
        if company_row is not None and "founded_on" in company_row.values:
            return company_row.values["founded_on"]
        return stored.founded_on if stored is not None and self.ctx.visible(code) else None

    def _figure_rules(self, row: Row) -> None:
        v = row.values
        if "tech_staff" in v and "employees" in v and v["tech_staff"] > v["employees"]:
            self.add(row, "tech_staff", f"科技人员数（{v['tech_staff']}）不能大于职工总数（{v['employees']}）")

    def _company_exists(self, row: Row, in_file: dict[str, Row], companies: "Batch | None") -> None:
        company_row = in_file.get(row.code)
        if company_row is not None:
            if companies.rejected(company_row):
                self.add(row, "uscc", f"该企业在“{companies.table.title}”表第{company_row.number}行有错误，本行不能导入")
        elif not self.ctx.visible(row.code):
            self.add(row, "uscc", f"统一社会信用代码 {row.code} 既不在本文件的企业表中，也不是系统中已登记（且您可见）的企业")

    # --- the upsert plan ---

    def plan(self) -> None:
        for row in self.valid_rows():
            given = {k: v for k, v in row.values.items() if k != "uscc"}
            if self.key == COMPANIES:
                existing = self.ctx.companies.get(row.code)
            elif self.key == FIGURES:
                existing = self.ctx.figures.get((row.code, given["year"]))
            else:
                existing = self._matching_cert(row)
            row.target = existing
            if self.key == FIGURES and existing is not None and self._staff_exceeds_stored(row):
                continue
            row.changes = given if existing is None else {k: v for k, v in given.items() if getattr(existing, k) != v}
            row.action = "create" if existing is None else ("update" if row.changes else "unchanged")

    def warn_of_namesakes(self, warnings: list[Problem]) -> None:
        """A new company named exactly like one registered under another code (the code corrected since, or typed
        wrong in the ledger) is still created, but said, before its certifications count twice."""
        new = {r.values["name"]: r for r in self.valid_rows() if r.action == "create" and "name" in r.values}
        for namesake in _rows_by(Company, Company.name, new):
            row = new[namesake.name]
            where = (f"统一社会信用代码 {namesake.uscc}" if self.ctx.in_scope(namesake.district_id, namesake.park_id)
                     else "在您负责的区域以外")
            warnings.append(Problem(self.table.title, row.number, self.columns["name"][1], namesake.name,
                                    f"系统中已有同名企业（{where}）：如是同一家企业，请核对统一社会信用代码；本行按新企业登记"))

    def _staff_exceeds_stored(self, row: Row) -> bool:
        """Tech staff above employees once the row is merged with the stored figures (a blank cell keeps them)."""
        if "tech_staff" not in row.values and "employees" not in row.values:
            return False  # the row changes neither count: what is stored stays as it was
        staff, employees = self._after(row, "tech_staff"), self._after(row, "employees")
        if staff is None or employees is None or staff <= employees:
            return False
        key, kept = ("tech_staff", "职工总数") if "tech_staff" in row.values else ("employees", "科技人员数")
        self.add(row, key, f"科技人员数（{staff}）不能大于职工总数（{employees}）；系统中已有的{kept}未在本行填写，将保留")
        return True

    def _matching_cert(self, row: Row):
        """By company, kind and 编号; a row without 编号 (or a stored one without) by year (DOMAIN §8)."""
        v = row.values
        candidates = [c for c in self.ctx.certs[row.code] if c.kind == v["kind"] and c.id not in self.claimed]
        number = v.get("number")
        match = next((c for c in candidates if number and c.number == number), None) or next(
            (c for c in candidates if same_certification(c, number, v.get("year"), v.get("issued_on"))), None)
        if match is not None:
            self.claimed.add(match.id)
        return match

    # --- reporting ---

    def result(self) -> SheetResult:
        fields = [f for f in self.spec.fields if f.key in self.columns]
        valid = self.valid_rows()
        bad = [r for r in self.rows if self.rejected(r)]
        width = len(self.table.headers)
        missing = "；".join(p.reason for p in self.sheet_problems)
        return SheetResult(
            key=self.key, title=self.table.title, headers=self.table.headers, fields=[f.header for f in fields],
            created=sum(r.action == "create" for r in valid), updated=sum(r.action == "update" for r in valid),
            unchanged=sum(r.action == "unchanged" for r in valid), rejected=len(bad),
            preview=[[r.action] + [self._stored(f, self._after(r, f.key)) for f in fields] for r in valid[:PREVIEW_ROWS]],
            bad_rows=[[r.number] + [reported(c) for c in (r.cells + [""] * width)[:width]]
                      + ["；".join(f"{p.column}：{p.reason}" for p in r.problems) or missing] for r in bad],
        )

    @staticmethod
    def _after(row: Row, key: str):
        """The value once written: a blank cell keeps what is stored (a cell read as none, 所在园区 “无”, clears it)."""
        return row.values[key] if key in row.values else getattr(row.target, key, None)

    def _stored(self, f: Field, value) -> str:
        if value is None:
            return ""
        if f.kind in ("district", "park"):
            return self.ctx.area_names.get(value, "")
        if f.kind == "officer":
            user = self.ctx.users_by_id.get(value)
            return (user.display_name or user.username) if user else ""
        if f.kind == "cert_kind":
            return KIND_LABELS[value]
        if f.kind == "cert_status":
            return STATUS_LABELS[value]
        return shown(value)


# --- writing -----------------------------------------------------------------------------------

def write(batches: list[Batch], ctx: Context) -> None:
    """The plan in bulk: multi-row INSERTs and executemany UPDATEs, with one audit row per change."""
    now = utcnow()
    user_id, source = current_actor()
    company_ids = {code: c.id for code, c in ctx.companies.items()}
    audit = []
    for batch in batches:
        model, entity = MODELS[batch.key], ENTITIES[batch.key]
        creates = [r for r in batch.valid_rows() if r.action == "create"]
        updates = [r for r in batch.valid_rows() if r.action == "update"]
        if creates:
            params = [_insert_params(batch.key, r, company_ids, ctx, now) for r in creates]
            ids = _insert(model.__table__, params)
            if batch.key == COMPANIES:
                company_ids.update(zip((r.code for r in creates), ids))
            audit += [_audit_row(entity, new_id, company_ids[r.code], "create",
                                 {k: [None, plain(v)] for k, v in p.items() if v not in (None, "") and k not in SKIPPED})
                      for r, p, new_id in zip(creates, params, ids)]
        if updates:
            _bulk_update(model.__table__, [_update_params(batch.key, r, ctx, now) for r in updates])
            audit += [_audit_row(entity, r.target.id, company_ids[r.code], "update",
                                 {k: [plain(getattr(r.target, k)), plain(v)] for k, v in r.changes.items()})
                      for r in updates]
    handed_over = {r.target.id: r.target.officer_id for b in batches if b.key == COMPANIES for r in b.valid_rows()
                   if r.action == "update" and "officer_id" in r.changes}
    if handed_over:
        hand_over(handed_over)
    for entry in audit:
        entry.update(user_id=user_id, source=source, at=now)
    if audit:
        db.session.execute(AuditLog.__table__.insert(), audit)


def _audit_row(entity: str, entity_id: int, company_id: int, action: str, changes: dict) -> dict:
    return {"entity": entity, "entity_id": entity_id, "company_id": company_id, "action": action, "changes": changes}


def _insert_params(key: str, row: Row, company_ids: dict[str, int], ctx: Context, now: datetime) -> dict:
    if key == COMPANIES:
        return {"uscc": row.code, "park_id": None, "industry": "", "founded_on": None, "contact_name": "",
                "contact_phone": "", "contact_email": "", "officer_id": None, "uscc_check_waived": False,
                "notes": "", "version": 1, "created_at": now, "updated_at": now, **row.changes,
                "name_sort": name_sort_key(row.changes["name"])}  # as Company keeps it on every ORM write
    if key == FIGURES:
        return {"company_id": company_ids[row.code], **dict.fromkeys(CompanyYear.FIGURES), "updated_at": now,
                **row.changes}
    cert = {"company_id": company_ids[row.code], "number": "", "year": None, "issued_on": None, "expires_on": None,
            "status": VALID, "source": "import", "created_at": now, **row.changes}
    return {**cert, **_window(cert, ctx)}


def _update_params(key: str, row: Row, ctx: Context, now: datetime) -> dict:
    params = {"_id": row.target.id, **row.changes}
    if key == COMPANIES:
        params["updated_at"] = now  # the version moves in SQL (_bulk_update): an edit made meanwhile counts
        if "name" in row.changes:
            params["name_sort"] = name_sort_key(row.changes["name"])
    elif key == FIGURES:
        params["updated_at"] = now
    else:
        params.update(_window({**row.target._asdict(), **row.changes}, ctx))
    return params


def _window(cert: dict, ctx: Context) -> dict:
    """valid_from/valid_until, as crm.ladder.standing derives them for every other write path."""
    start, end = validity_window(cert["kind"], cert["year"], cert["issued_on"], cert["expires_on"], ctx.gazelle_years)
    return {"valid_from": start, "valid_until": end}


def _insert(table, params: list[dict]) -> list[int]:
    """INSERT in bulk (Core: the ORM splits a batch wherever the None columns differ); the new ids in order.

    On PostgreSQL the ids are drawn from the sequence first and the rows sent by a pipelined executemany:
    psycopg would otherwise re-parse every multi-row INSERT ... RETURNING, several times slower.
    On SQLite one executemany without RETURNING (which SQLAlchemy would send one row at a time): this
    transaction holds the database's only write lock from the first row to the commit, and SQLite numbers
    each new row max(rowid) + 1, so the rows just written are the last len(params) ids, in order."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                                 {"table": table.name, "n": len(params)}).all()
        db.session.execute(table.insert(), [{"id": new_id, **p} for new_id, p in zip(ids, params)])
        return ids
    db.session.execute(table.insert(), params)
    last = db.session.scalar(select(func.max(table.c.id)))
    return list(range(last - len(params) + 1, last + 1))


def _bulk_update(table, params: list[dict]) -> None:
    """UPDATE ... WHERE id = :_id as executemany, one statement per set of changed columns. A company's version
    moves by one from what it is when written, not from what the import read: an officer's save made while the
    import was checking has moved it too, and the form they or others have open must then meet a conflict."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for p in params:
        groups[tuple(sorted(p))].append(p)
    statement = table.update().where(table.c.id == bindparam("_id"))
    if "version" in table.c:
        statement = statement.values(version=table.c.version + 1)
    for group in groups.values():
        db.session.execute(statement, group)


# --- reading cells -----------------------------------------------------------------------------

def _text(cell, f: Field, ctx: Context) -> str:
    text = unneutralised(str(cell).strip())
    if f.max_len and len(text) > f.max_len:
        raise InvalidValue(f"{f.header}不能超过{f.max_len}个字符（实际{len(text)}个）")
    return text


# A number of 16 digits or more, or written as 2.02351E+13, is what a spreadsheet made of a long code: digits lost.
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E[+-]?\d+", re.IGNORECASE)


def _code(cell, f: Field, ctx: Context) -> str:
    if (isinstance(cell, (int, float)) and not isinstance(cell, bool) and abs(cell) >= 1e15) or \
            (isinstance(cell, str) and _SCIENTIFIC.fullmatch(cell.strip())):
        raise InvalidValue(f"{f.header}被存为数字，精度已丢失，请将该列设为文本格式后重新填写")
    return _text(normalize_code(cell), f, ctx)


def _uscc(cell, f: Field, ctx: Context) -> str:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        validate_uscc(float(cell))  # raises: a code stored as a number has lost its digits
    try:
        return validate_uscc(cell)
    except InvalidValue:
        code = normalize_uscc(cell)
        company = ctx.companies.get(code)
        if company is not None and company.uscc_check_waived:  # an admin confirmed it (DOMAIN §7)
            return code
        raise


def _past_date(cell, f: Field, ctx: Context) -> date:
    day = parse_date(cell, field=f.header)
    if day > ctx.today:
        raise InvalidValue(f"{f.header}不能晚于今天（{ctx.today.isoformat()}），实际为 {day.isoformat()}")
    return day


def _year(cell, f: Field, ctx: Context) -> int:
    year = parse_year(cell, field=f.header)
    if year > ctx.today.year:
        raise InvalidValue(f"{f.header}不能晚于今年（{ctx.today.year}），实际为 {year}")
    return year


def _money(cell, f: Field, ctx: Context) -> Decimal:
    amount = parse_money(cell, field=f.header)
    if amount > MAX_MONEY:
        raise InvalidValue(f"{f.header}数值过大：{cell}（单位为万元）")
    return amount


def _money_in_yuan(cell, f: Field, ctx: Context) -> Decimal:
    """A column headed （元）: a plain number is yuan; a cell with its own unit (万元, 元) keeps it."""
    if isinstance(cell, str) and "".join(cell.split()).endswith(("元", "万")):
        return _money(cell, f, ctx)
    return _money(f"{cell}元", f, ctx)


def _count(cell, f: Field, ctx: Context) -> int:
    number = parse_int(cell, field=f.header)
    if number > MAX_COUNT:
        raise InvalidValue(f"{f.header}数值过大：{cell}")
    return number


def _placed(row: Row, existing: Company | None) -> tuple[int | None, int | None]:
    """The district and park a company row leaves the company in: what it gives ("无" takes it out of its park),
    else what is stored."""
    district = row.values.get("district_id") or (existing.district_id if existing else None)
    park = row.values["park_id"] if "park_id" in row.values else (existing.park_id if existing else None)
    return district, park


def _district(cell, f: Field, ctx: Context) -> int:
    area_id = ctx.area("district", cell)
    if area_id is None:
        raise InvalidValue(f"未知的区县“{cell}”：请填写达州市的区县名称或代码（如 通川区 或 511702）")
    return area_id


NO_PARK = {"无", "否", "不在园区", "非园区", "无园区", "/", "-", "—", "－"}  # a blank cell would keep the stored park


def _park(cell, f: Field, ctx: Context) -> int | None:
    if "".join(to_halfwidth(str(cell)).split()) in NO_PARK:
        return None
    area_id = ctx.area("park", cell)
    if area_id is None:
        raise InvalidValue(f"未知的园区“{cell}”：可填 {'、'.join(ctx.park_names)}；不在园区填“无”（新登记的企业也可留空）")
    return area_id


def _officer(cell, f: Field, ctx: Context) -> int:
    """By username; else by a username in another case or by the officer's name, when only one user has it."""
    written = "".join(str(cell).split())
    user = ctx.users.get(written)
    if user is None:
        found = ctx.users_by_name.get(written.casefold(), set())
        if len(found) > 1:
            raise InvalidValue(f"有 {len(found)} 名用户都叫“{cell}”：请填写干部在 Ladder 中的用户名")
        user = next(iter(found), None)
    if user is None:
        raise InvalidValue(f"未知的包联干部“{cell}”：请填写干部在 Ladder 中的用户名或姓名")
    return user.id  # whether they may be given the company: Batch._officer_covers, which knows the stored officer


def _email(cell, f: Field, ctx: Context) -> str:
    text = _text(cell, f, ctx)
    if not EMAIL.fullmatch(text):
        raise InvalidValue(f"联系邮箱格式不正确：{text}")
    return text


def _choice(table: dict[str, str], allowed: str) -> Callable:
    def parse(cell, f: Field, ctx: Context) -> str:
        value = table.get(header_key(cell))
        if value is None:
            raise InvalidValue(f"{f.header}“{cell}”无效：应为 {allowed}")
        return value
    return parse


PARSERS: dict[str, Callable] = {
    "text": _text, "code": _code, "uscc": _uscc, "date": _past_date, "future_date": lambda c, f, ctx: parse_date(c, field=f.header),
    "year": _year, "money": _money, "int": _count, "district": _district, "park": _park, "officer": _officer,
    "email": _email, "cert_kind": _choice(KINDS_BY_LABEL, "科技型中小企业、高新技术企业 或 瞪羚企业"),
    "cert_status": _choice(STATUS_BY_LABEL, "有效 或 撤销"),
}


# A totals row or a form's footer (填表人：…, 注：…) below the companies, recognised by its first cell.
# A totals row (合计, 通川区小计, 合计：2家) or a form's footer line (填表人：…, 审核：…, 注：…) below the companies.
_TOTAL = re.compile(r"(合计|总计|小计|共计)([:：(（\d]|$)|.*(合计|总计|小计|共计)$")  # not 总计量检测有限公司
_NOTE = re.compile(r"(填表人|填报人|填表单位|填报单位|单位负责人|制表人|制表|审核人|审核|负责人|联系人|联系电话|填表日期|填报日期|"
                   r"制表日期|注|说明|备注)\d*([:：]|$)")
_CODE_LIKE = re.compile(r"[0-9A-Z]{15,20}")  # a code, perhaps mistyped: such a row is a company's, never skipped


def _footer(cells: list, code: str) -> str | None:
    """The first text of a row without a code (or with 合计, a count or a phone number in the code column) when it
    opens a totals row or a footer line; None for any other row — a company whose code is missing is rejected, not
    skipped, whatever its remarks say. A 序号 filled down before it does not count."""
    if _CODE_LIKE.fullmatch(code):
        return None
    for cell in cells:
        text = "" if is_blank(cell) else "".join(to_halfwidth(str(cell)).split())
        if text and not (text.isdigit() or isinstance(cell, (int, float))):
            return str(cell) if _TOTAL.match(text) or _NOTE.match(text) else None
    return None


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # a date cell of a rejected row, as reported() kept it


def reported(cell) -> Any:
    """A rejected row's cell for the error workbook: numbers stay numbers (a -500 fixed there is not read back as
    text), dates ISO text (the report is kept as JSON until confirmed) that the workbook writes as dates."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and math.isfinite(cell):
        return int(cell) if isinstance(cell, float) and cell.is_integer() else cell
    return shown(cell)


def _as_written(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:  # text that only looks like a date: 2021-13-45
            return value
    return value


def shown(cell) -> str:
    """A cell as the user wrote it, for reports."""
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)
