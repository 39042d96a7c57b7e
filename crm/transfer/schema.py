"""The import workbook of DOMAIN §8: its sheets, columns, header aliases and notes.

The reader recognises sheets and headers with it, the importer validates against it and the template
is written from it: one description of the file format.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

COMPANIES, CERTIFICATIONS, FIGURES = "companies", "certifications", "figures"
# The template's example rows carry a code that passes the check character but has the division code
# 000000, which no real enterprise has, so an example left in a filled-in template is skipped rather than
# imported — and every real code (the standard's own example 91350100M000100Y43 included) imports.
EXAMPLE_USCC = "91000000MA0000001R"
NOTES_SHEET = "说明"
IGNORED_SHEETS = {NOTES_SHEET, "选项"}  # the template's notes and drop-down lists


@dataclass(frozen=True)
class Field:
    key: str  # the column it fills (Company, Certification or CompanyYear)
    header: str  # the canonical header
    kind: str = "text"  # how a cell is read: see importer.PARSERS
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_len: int = 0
    note: str = ""
    width: int = 14


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: str
    aliases: tuple[str, ...]
    fields: tuple[Field, ...]
    example: tuple

    def field_for(self, header) -> Field | None:
        wanted = header_key(header)
        for f in self.fields:
            if wanted in (header_key(f.header), *map(header_key, f.aliases)):
                return f
        return None


_UNIT = re.compile(r"\((万元|万|元|人民币元|人|个|件|项|名|家)\)$")  # stripped to compare; a money unit is kept apart
# (元) closing a header or group label; or a general 金额单位：元 / 单位：万元 — not 人均工资单位：元, not 元/人
_MONEY_UNIT = re.compile(r"\((万元|万|元|人民币元)\)$|(?:^|[(,;:：，；、\s])(?:金额)?单位[:：](人民币)?(万元|元)(?![/每])")
_MARK = re.compile(r"\((必填|选填|可选|非必填)\)")


def _bare(text) -> str:
    """NFKC (full-width and Ⅰ/Ⅱ to ASCII), no spaces, no '*' or '(必填)'."""
    return _MARK.sub("", re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))).strip("*")


def money_unit(text) -> str | None:
    """'元' or '万元' when a header, a group label or a title states it (营业收入（元）*, 主要经济指标（万元）,
    金额单位：元), else None."""
    m = _MONEY_UNIT.search(_bare(text))
    if m is None:
        return None
    return "元" if (m[1] or m[3]) in ("元", "人民币元") else "万元"


def with_money_unit(header: str, unit: str) -> str:
    """The header stating `unit`, unless it states a money unit of its own."""
    return header if money_unit(header) else f"{_bare(header)}（{unit}）"


def header_key(text) -> str:
    """A header as compared: NFKC (full-width and Ⅰ/Ⅱ to ASCII), no spaces, no '*' or '(必填)', no unit."""
    return _UNIT.sub("", _bare(text))


USCC = Field("uscc", "统一社会信用代码", "uscc", ("信用代码", "社会信用代码"), required=True, width=22,
             note="必填。18位，字母大写（不用 I、O、S、V、Z）。本列为文本格式，请勿转为数字。")

COMPANY_SHEET = SheetSpec(COMPANIES, "企业", ("企业信息", "企业名单"), (
    Field("name", "企业名称", aliases=("企业全称",), required=True, max_len=200, width=30, note="必填。营业执照上的全称。"),
    USCC,
    Field("district_id", "所属区县", "district", ("区县",), required=True,
          note="必填。从下拉列表选择，也可填区县代码（如 511702）。"),
    Field("park_id", "所在园区", "park", ("园区",), note="不在园区的企业留空；已登记的企业移出园区填“无”（空格不会清除已登记的园区）。"),
    Field("industry", "产业领域", aliases=("行业",), max_len=100),
    Field("founded_on", "成立日期", "date", ("注册日期",), note="如 2021-03-05 或 2021年3月5日；不能晚于今天。"),
    Field("contact_name", "联系人", max_len=60),
    Field("contact_phone", "联系电话", max_len=40),
    Field("contact_email", "联系邮箱", "email", max_len=254),
    Field("officer_id", "包联干部", "officer", ("负责人",), note="包联干部在 Ladder 中的用户名，或其姓名（仅一人同名时）。"),
), ("示例科技有限公司", EXAMPLE_USCC, "通川区", "达州高新区", "电子信息", date(2018, 6, 1), "张三", "13800000000",
    "contact@example.com", ""))

CERT_SHEET = SheetSpec(CERTIFICATIONS, "资质", ("资质信息", "资质证书"), (
    USCC,
    Field("kind", "资质类型", "cert_kind", required=True, width=18,
          note="必填。科技型中小企业、高新技术企业 或 瞪羚企业。"),
    Field("number", "编号", "code", ("入库登记编号", "证书编号", "登记编号"), max_len=60, width=20,
          note="科小的入库登记编号或高企的证书编号。"),
    Field("year", "年度", "year", note="科技型中小企业和瞪羚企业必填。"),
    Field("issued_on", "发证日期", "date", note="高新技术企业必填；不能晚于今天。"),
    Field("expires_on", "有效期至", "future_date", note="可不填：高企自发证日起三年，科小当年有效。"),
    Field("status", "状态", "cert_status", note="有效 或 撤销；不填为有效。"),
), (EXAMPLE_USCC, "高新技术企业", "GR202351000123", 2023, date(2023, 12, 12), None, "有效"))

_MONEY_NOTE = "单位：万元，最多两位小数；不能为负数。"
FIGURE_SHEET = SheetSpec(FIGURES, "年度数据", ("年度财务数据", "财务数据"), (
    USCC,
    Field("year", "年度", "year", required=True, note="必填。财务年度，如 2024。"),
    Field("employees", "职工总数", "int"),
    Field("tech_staff", "科技人员数", "int", note="不能大于职工总数。"),
    Field("revenue", "营业收入（万元）", "money", ("销售收入（万元）",), note=_MONEY_NOTE, width=16),
    Field("rd_expense", "研发费用（万元）", "money", note=_MONEY_NOTE, width=16),
    Field("rd_domestic", "境内研发费用（万元）", "money", note=_MONEY_NOTE, width=18),
    Field("total_cost", "成本费用总额（万元）", "money", note=_MONEY_NOTE, width=18),
    Field("total_assets", "资产总额（万元）", "money", note=_MONEY_NOTE, width=16),
    Field("net_assets", "净资产（万元）", "money", note=_MONEY_NOTE, width=16),
    Field("high_tech_revenue", "高新技术产品收入（万元）", "money", note=_MONEY_NOTE, width=20),
    Field("ip_class1", "Ⅰ类知识产权数", "int", ("一类知识产权数", "Ⅰ类知识产权"),
          note="发明专利、植物新品种、集成电路布图设计等。"),
    Field("ip_class2", "Ⅱ类知识产权数", "int", ("二类知识产权数", "Ⅱ类知识产权"),
          note="实用新型、外观设计、软件著作权等（不含商标）。"),
), (EXAMPLE_USCC, 2024, 120, 36, 8600, 520, 500, 7800, 12000, 6500, 7200, 2, 15))

SHEETS = (COMPANY_SHEET, CERT_SHEET, FIGURE_SHEET)


def sheet_by_title(title) -> SheetSpec | None:
    wanted = header_key(title)
    return next((s for s in SHEETS if wanted in (s.title, *s.aliases)), None)


def sheet_by_headers(headers) -> SheetSpec | None:
    """The sheet a CSV (or an unnamed sheet) holds, by the columns only that sheet has. A ledger of certifications
    or of yearly figures usually repeats 企业名称 and 所属区县: 资质类型 with another certification column (年度,
    编号, 发证日期…) makes it certifications, and 年度 with a figure makes it figures, whatever else it has;
    otherwise the sheet with the most of its own columns."""
    own = {s.key: {f.key for h in headers if (f := s.field_for(h))} for s in SHEETS}
    if "kind" in own[CERTIFICATIONS] and own[CERTIFICATIONS] - {"uscc", "kind"}:  # a company list may note 资质类型
        return CERT_SHEET
    if "year" in own[FIGURES] and own[FIGURES] - {"uscc", "year"}:
        return FIGURE_SHEET
    shared = {"uscc", "year"}
    scores = {key: len(keys - shared) for key, keys in own.items()}
    best = max(scores.values())
    winners = [s for s in SHEETS if scores[s.key] == best]
    return winners[0] if best and len(winners) == 1 else None
