"""Normalising and validating imported cell values (DOMAIN §7, §8), and the sort key of names. Pure functions;
every rejection raises InvalidValue carrying the Chinese reason shown in the import report."""
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from numbers import Real

from pypinyin import lazy_pinyin

from crm.i18n import N_

__all__ = ["InvalidValue", "is_blank", "to_halfwidth", "normalize_code", "normalize_uscc", "uscc_check_char", "validate_uscc",
           "parse_date", "parse_money", "parse_int", "parse_year", "name_sort_key"]


class InvalidValue(ValueError):
    """A value that cannot be accepted; str(exc) == exc.reason, in Chinese (import reports, the CLI). Raised with a
    catalogue message and its values, it also reads in a page's language (`in_readers_language()`)."""

    def __init__(self, message: str, **params):
        self.reason = message % params if params else message
        super().__init__(self.reason)
        self.message, self.params = message, params

    def in_readers_language(self) -> str:
        from flask_babel import gettext

        if not self.params:
            return gettext(self.message)
        return gettext(self.message, **{k: gettext(v) if k in _LABELS and v else v for k, v in self.params.items()})


_LABELS = {"field", "what", "hint", "accepted"}  # values that are Ladder's words; the others are what was typed


_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SPACES = re.compile(r"[\s\u200b\ufeff]+")


_HALFWIDTH_ALNUM = {c: h for c, h in _HALFWIDTH.items() if chr(h).isalnum() or h == 0x20}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (U+FF01–FF5E) and the ideographic space to half-width (§7)."""
    return text.translate(_HALFWIDTH)


def halfwidth_alnum(text: str) -> str:
    """Full-width digits, Latin letters and the ideographic space to half-width; Chinese punctuation such as
    （）：、 stays as written, for names people read (２０２６年科小补录（已截止） → 2026年科小补录（已截止））."""
    return text.translate(_HALFWIDTH_ALNUM)


def is_blank(value) -> bool:
    """None, an empty/blank string, NaN, pandas NaT or NA."""
    if value is None:
        return True
    if isinstance(value, str):  # \s matches the ideographic space that to_halfwidth would turn into one
        return not value or _SPACES.fullmatch(value) is not None
    try:
        return bool(value != value)  # NaN and NaT differ from themselves
    except TypeError:  # pandas NA: its truth value is ambiguous
        return True


def _is_number(value) -> bool:
    """int, float, numpy numbers; not bool (True is no date or amount)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def _text(value) -> str:
    """A cell as a string: half-width, all whitespace removed."""
    return _SPACES.sub("", to_halfwidth(str(value)))


USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {c: i for i, c in enumerate(USCC_CHARSET)}


# A whole number that went through a float on its way here: 123.0 in a CSV written by pandas or Excel.
_WHOLE_AS_FLOAT = re.compile(r"(\d+)\.0+")


def normalize_code(raw) -> str:
    """A code as compared and stored (统一社会信用代码 §7, 证书编号, 入库登记编号): half-width, whitespace
    removed, upper-cased, without the apostrophe that kept a long number as text in a spreadsheet ('9151…);
    None/''/NaN -> ''; a whole number (a numeric cell, or its text '123.0') without '.0'."""
    if _is_number(raw) and float(raw).is_integer():
        raw = int(raw)
    text = "" if is_blank(raw) else _text(raw).upper().lstrip("'‘’")
    return m[1] if (m := _WHOLE_AS_FLOAT.fullmatch(text)) else text


normalize_uscc = normalize_code


def name_sort_key(name: str) -> str:
    """A name as Chinese readers order names: by its pinyin (重庆 → chongqing), digits and Latin letters as they are."""
    return "".join(lazy_pinyin(to_halfwidth(name or ""))).lower()[:400]


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters (GB 32100-2015, §7)."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise InvalidValue(N_("计算校验码需要17位合法字符，实际为“%(code)s”"), code=first17)
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(raw, *, allow_bad_check: bool = False) -> str:
    """The normalised code, or InvalidValue; a bad check character passes only when
    allow_bad_check (an admin confirmed it, §7)."""
    if isinstance(raw, float) and not is_blank(raw):
        raise InvalidValue(N_("统一社会信用代码被存为数字，精度已丢失，请将该列设为文本格式"))
    code = normalize_uscc(raw)
    if not code:
        raise InvalidValue(N_("统一社会信用代码不能为空"))
    if len(code) != 18:
        raise InvalidValue(N_("统一社会信用代码应为18位，实际%(n)s位"), n=len(code))
    for pos, c in enumerate(code, 1):
        if c not in USCC_CHARSET:
            hint = N_("（代码不使用 I、O、S、V、Z）") if c in "IOSVZ" else ""
            raise InvalidValue(N_("统一社会信用代码第%(pos)s位含非法字符 %(char)s%(hint)s"), pos=pos, char=c, hint=hint)
    expected = uscc_check_char(code[:17])
    if code[17] != expected and not allow_bad_check:
        raise InvalidValue(N_("统一社会信用代码校验码应为 %(expected)s，实际为 %(actual)s"), expected=expected,
                           actual=code[17])
    return code


_EXCEL_EPOCH = date(1899, 12, 30)  # 1900 system; absorbs Excel's fictitious 1900-02-29
_EXCEL_MAX = 2958465  # 9999-12-31
_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?"
_DATE_FORMATS = [re.compile(p + _TIME) for p in (
    r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})",  # 2021-03-05, 2021/3/5, 2021.3.5
    r"(\d{4})\s*(年)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?",  # 2021年3月5日, 2021年3月5号
    r"(\d{4})()(\d{2})(\d{2})",  # 20210305
)]
# Five digits: serials 10000–99999 are 1927–2173; four digits would be a year (2015 is no 1905-07-07), eight a
# YYYYMMDD date. A number cell follows the same rule.
_SERIAL_TEXT = re.compile(r"\d{5}(\.\d+)?")
_SERIAL_MIN = 10000
_PARTIAL_DATE = re.compile(r"\d{4}\s*(年\s*(\d{1,2}\s*月份?)?|[-/.]\d{1,2}月?)?")  # 2015, 2021.03, 2021年3月, 2021-3
_ACCEPTED = N_("可接受格式：2021-03-05、2021/3/5、2021.3.5、2021年3月5日、20210305 或 Excel 日期")


def parse_date(value, *, field: str = N_("日期")) -> date | None:
    """A date from any accepted form (§7); blank -> None. Future dates are the caller's concern."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if callable(getattr(value, "date", None)):  # pandas Timestamp and the like
        result = value.date()
        if isinstance(result, date):
            return result
    text = _SPACES.sub(" ", to_halfwidth(str(value))).strip().lstrip("'‘’")  # '2021.03.05 kept as text
    if _is_number(value):
        if _SERIAL_MIN <= value < _EXCEL_MAX + 1:  # an Excel serial; a fraction is the time of day
            return _EXCEL_EPOCH + timedelta(days=int(value))
        if value % 1 == 0:
            text = str(int(value))  # perhaps a YYYYMMDD number, or a year alone
    elif _SERIAL_TEXT.fullmatch(text):  # an Excel serial that arrived as text (CSV saved from Excel)
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))
    elif m := _WHOLE_AS_FLOAT.fullmatch(text):  # 20210305.0: a YYYYMMDD number written out as a float
        text = m[1]
    for pattern in _DATE_FORMATS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return date(int(m[1]), int(m[3]), int(m[4]))
            except ValueError:
                raise InvalidValue(N_("%(field)s“%(value)s”不是有效的日历日期；%(accepted)s"), field=field, value=value,
                                   accepted=_ACCEPTED) from None
    if _PARTIAL_DATE.fullmatch(text):
        raise InvalidValue(N_("%(field)s“%(value)s”不完整：只有年份或年月，请填写到日；%(accepted)s"), field=field,
                           value=value, accepted=_ACCEPTED)
    raise InvalidValue(N_("%(field)s“%(value)s”无法识别；%(accepted)s"), field=field, value=value, accepted=_ACCEPTED)


# The largest values the columns hold on every database: INTEGER (PostgreSQL int4) and NUMERIC(14, 2).
MAX_INT = 2**31 - 1


def url_int(value) -> int | None:
    """A whole number as a link or a hidden field carries it (an id, a filter, a page): ASCII digits within a
    database integer; anything else — '²' or '①' (digits to str.isdigit, not to int), 5,000 digits, 2³¹ — is None."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_INT else None
MAX_MONEY = Decimal("999999999999.99")
_PLAIN = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def _decimal(value, text: str, field: str, what: str) -> Decimal:
    """A non-negative finite Decimal from a number, or from text already stripped of its unit."""
    number = None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    elif _is_number(value):
        number = Decimal(repr(float(value)))  # shortest repr: 0.1 stays 0.1
    elif isinstance(value, str) and (_PLAIN.fullmatch(text) or _GROUPED.fullmatch(text)):
        number = Decimal(text.replace(",", ""))
    if number is None or not number.is_finite():
        raise InvalidValue(N_("%(field)s“%(value)s”不是有效的%(what)s"), field=field, value=value, what=what)
    if number < 0:
        raise InvalidValue(N_("%(field)s不能为负数：%(value)s"), field=field, value=value)
    return number


def parse_money(value, *, field: str = N_("金额")) -> Decimal | None:
    """An amount in 万元, rounded half-up to 2 decimals (§7); '…元' is yuan. Blank -> None."""
    if is_blank(value):
        return None
    text, scale = "", Decimal(1)  # the text matters only when the cell is text
    if isinstance(value, str):
        text = _text(value)
        for unit, factor in (("万元", "1"), ("万", "1"), ("元", "0.0001")):
            if text.endswith(unit):
                text, scale = text[: -len(unit)], Decimal(factor)
                break
    amount = _decimal(value, text, field, N_("金额（单位：万元）")) * scale
    try:
        amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        amount = MAX_MONEY + 1
    if amount > MAX_MONEY:
        raise InvalidValue(N_("%(field)s“%(value)s”数值过大（万元）"), field=field, value=value)
    return amount + 0  # turns -0.00 into 0.00


def parse_int(value, *, field: str) -> int | None:
    """A non-negative whole number (§8: counts); '12.0' and 12.0 pass, 12.5 does not."""
    if is_blank(value):
        return None
    number = _decimal(value, _text(value) if isinstance(value, str) else "", field, N_("整数"))
    if number != number.to_integral_value():
        raise InvalidValue(N_("%(field)s应为整数，实际为“%(value)s”"), field=field, value=value)
    if number > MAX_INT:
        raise InvalidValue(N_("%(field)s“%(value)s”数值过大"), field=field, value=value)
    return int(number)


def parse_year(value, *, field: str = N_("年度")) -> int | None:
    """A year between 1949 and 2100 (§8); '2024年' and '2024.0' pass. Blank -> None."""
    if is_blank(value):
        return None
    text = _text(value).removesuffix("年度").removesuffix("年") if isinstance(value, str) else value
    if isinstance(text, str) and ("," in text or not text):
        raise InvalidValue(N_("%(field)s“%(value)s”不是有效的年份"), field=field, value=value)
    year = parse_int(text, field=field)
    if not 1949 <= year <= 2100:
        raise InvalidValue(N_("%(field)s应在1949年至2100年之间，实际为 %(year)s"), field=field, year=year)
    return year
