"""crm.normalize: identifiers, dates, amounts and counts as imported (DOMAIN §7, §8)."""
import math
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.normalize import (
    InvalidValue, normalize_code, normalize_uscc, parse_date, parse_int, parse_money, parse_year, to_halfwidth,
    uscc_check_char, validate_uscc,
)

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}


def fullwidth(text: str) -> str:
    return "".join(FULLWIDTH.get(c, "\u3000" if c == " " else c) for c in text)


def reason(call, *args, **kwargs) -> str:
    with pytest.raises(InvalidValue) as info:
        call(*args, **kwargs)
    assert str(info.value) == info.value.reason
    return info.value.reason


# --- InvalidValue and to_halfwidth ---------------------------------------------

def test_invalid_value_is_a_value_error_carrying_its_reason():
    exc = InvalidValue("统一社会信用代码不能为空")
    assert isinstance(exc, ValueError)
    assert exc.reason == str(exc) == "统一社会信用代码不能为空"


def test_to_halfwidth_converts_fullwidth_ascii_and_ideographic_space():
    assert to_halfwidth("ＡＢｃ１２３，．（）\u3000！～") == "ABc123,.() !~"


def test_to_halfwidth_leaves_chinese_and_halfwidth_alone():
    assert to_halfwidth("达州高新区 abc-1") == "达州高新区 abc-1"


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_to_halfwidth_undoes_fullwidth(text):
    assert to_halfwidth(fullwidth(text)) == text


# --- 统一社会信用代码 (§7) --------------------------------------------------------

@pytest.mark.parametrize("code", ["91350100M000100Y43", "914403001922038216", "91440300708461136T"])
def test_domain_examples_pass(code):
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


def test_normalize_uscc_removes_all_whitespace_and_upper_cases():
    assert normalize_uscc(" 9135 0100m000\t100y43\n") == "91350100M000100Y43"


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000", math.nan])
def test_normalize_uscc_blank_is_empty(raw):
    assert normalize_uscc(raw) == ""


def test_normalize_uscc_accepts_an_int():
    assert normalize_uscc(914403001922038216) == "914403001922038216"
    assert validate_uscc(914403001922038216) == "914403001922038216"


def test_validate_uscc_lowercase_with_spaces():
    assert validate_uscc(" 91350100 m000 100y43 ") == "91350100M000100Y43"


def test_validate_uscc_fullwidth_digits_and_letters():
    assert validate_uscc(fullwidth("91350100m000100Y43")) == "91350100M000100Y43"
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３\u3000") == "91350100M000100Y43"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", math.nan])
def test_validate_uscc_empty(raw):
    assert reason(validate_uscc, raw) == "统一社会信用代码不能为空"


@pytest.mark.parametrize("raw, n", [("91350100M000100Y4", 17), ("91350100M000100Y433", 19), ("9", 1)])
def test_validate_uscc_wrong_length(raw, n):
    assert reason(validate_uscc, raw) == f"统一社会信用代码应为18位，实际{n}位"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_validate_uscc_letters_the_standard_excludes(letter):
    assert reason(validate_uscc, f"91350100{letter}000100Y43") == (
        f"统一社会信用代码第9位含非法字符 {letter}（代码不使用 I、O、S、V、Z）")


def test_validate_uscc_lowercase_excluded_letter_is_named_upper_case():
    assert "含非法字符 O（代码不使用 I、O、S、V、Z）" in reason(validate_uscc, "91350100o000100Y43")


def test_validate_uscc_other_illegal_character():
    assert reason(validate_uscc, "91350100-000100Y43") == "统一社会信用代码第9位含非法字符 -"


def test_validate_uscc_check_character_mismatch():
    assert reason(validate_uscc, "91350100M000100Y42") == "统一社会信用代码校验码应为 3，实际为 2"
    assert reason(validate_uscc, "91440300708461136X") == "统一社会信用代码校验码应为 T，实际为 X"


def test_validate_uscc_bad_check_allowed_when_an_admin_confirms():
    assert validate_uscc("91350100m000100Y42", allow_bad_check=True) == "91350100M000100Y42"


def test_validate_uscc_allow_bad_check_still_rejects_length_and_characters():
    assert "应为18位" in reason(validate_uscc, "91350100M000100Y4", allow_bad_check=True)
    assert "非法字符 I" in reason(validate_uscc, "91350100I000100Y43", allow_bad_check=True)


def test_validate_uscc_float_lost_its_precision():
    assert "精度已丢失" in reason(validate_uscc, 9.14403001922038e17)


@pytest.mark.parametrize("bad", ["91350100M000100Y", "91350100M000100Y4X", "91350100I000100Y4"])
def test_uscc_check_char_needs_17_legal_characters(bad):
    assert "17位合法字符" in reason(uscc_check_char, bad)


prefixes = st.text(alphabet=CHARSET, min_size=17, max_size=17)


@given(prefixes)
def test_prefix_plus_its_check_character_validates(prefix):
    code = prefix + uscc_check_char(prefix)
    assert validate_uscc(code) == code
    assert validate_uscc(" " + fullwidth(code.lower()) + " ") == code


@given(prefixes, st.integers(0, 17), st.integers(1, 30))
def test_any_single_substitution_is_caught(prefix, position, shift):
    code = prefix + uscc_check_char(prefix)
    wrong = CHARSET[(CHARSET.index(code[position]) + shift) % 31]
    altered = code[:position] + wrong + code[position + 1:]
    assert "校验码应为" in reason(validate_uscc, altered)


# --- Dates (§7, §8) ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "2021-03-05", "2021/3/5", "2021.3.5", "2021年3月5日", "20210305", "2021-3-5", "2021/03/05",
    "2021年03月05日", "2021年3月5", "2021 年 3 月 5 日", "2021-03-05 00:00:00", "2021/3/5 8:30",
    "2021-03-05T08:30:15", "2021-03-05 00:00:00.000", "2021年3月5号", "20210305.0",
])
def test_parse_date_accepted_strings(text):
    assert parse_date(text) == date(2021, 3, 5)


def test_parse_date_fullwidth_digits_and_surrounding_spaces():
    assert parse_date("\u3000２０２１－０３－０５ ") == date(2021, 3, 5)
    assert parse_date(" ２０２１年３月５日\n") == date(2021, 3, 5)
    assert parse_date("２０２１０３０５") == date(2021, 3, 5)


def test_parse_date_date_and_datetime():
    assert parse_date(date(2021, 3, 5)) == date(2021, 3, 5)
    assert parse_date(datetime(2021, 3, 5, 23, 59)) == date(2021, 3, 5)
    assert type(parse_date(datetime(2021, 3, 5))) is date


def test_parse_date_duck_typed_timestamp():
    class Stamp:  # stands in for pandas.Timestamp
        def date(self):
            return date(2021, 3, 5)
    assert parse_date(Stamp()) == date(2021, 3, 5)


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", math.nan, float("nan"), Decimal("NaN")])
def test_parse_date_blank_is_none(blank):
    assert parse_date(blank) is None


@pytest.mark.parametrize("serial, expected", [
    (10000, date(1927, 5, 18)), (45000, date(2023, 3, 15)), (44260, date(2021, 3, 5)),
    (2958465, date(9999, 12, 31)), (45000.0, date(2023, 3, 15)), (45000.75, date(2023, 3, 15)),
])
def test_parse_date_excel_serials(serial, expected):
    assert parse_date(serial) == expected


@pytest.mark.parametrize("partial", [2015, 2021.03, 2021.1, "2015", "2015年", "2021年3月", "2021-03", "2021.3", "2021/3"])
def test_a_year_or_a_month_alone_is_an_incomplete_date_not_an_excel_serial_of_1905(partial):
    assert reason(parse_date, partial, field="成立日期").startswith(f"成立日期“{partial}”不完整：只有年份或年月，请填写到日")


@pytest.mark.parametrize("small", [1, 60, 500])
def test_a_small_number_is_no_date(small):
    assert "无法识别" in reason(parse_date, small)


def test_parse_date_eight_digit_number_is_yyyymmdd():
    assert parse_date(20210305) == date(2021, 3, 5)
    assert parse_date(20210305.0) == date(2021, 3, 5)


@pytest.mark.parametrize("bad", [0, -1, 0.5, 2958466, 123456789, True])
def test_parse_date_numbers_outside_excel_range(bad):
    assert "无法识别" in reason(parse_date, bad)


@pytest.mark.parametrize("bad", ["2021-02-30", "2021/13/1", "2021年2月29日", "20210230", "2021.4.31"])
def test_parse_date_impossible_calendar_dates(bad):
    message = reason(parse_date, bad, field="成立日期")
    assert message.startswith(f"成立日期“{bad}”不是有效的日历日期")
    assert "2021年3月5日" in message and "Excel 日期" in message


@pytest.mark.parametrize("bad", [
    "garbage", "21-3-5", "2021-03/05", "3/5/2021", "2021-03-05 later", "450001", "明天",
])
def test_parse_date_garbage_names_the_value_and_formats(bad):
    assert reason(parse_date, bad) == (
        f"日期“{bad}”无法识别；可接受格式：2021-03-05、2021/3/5、2021.3.5、2021年3月5日、20210305 或 Excel 日期")


def test_parse_date_future_dates_are_the_callers_business():
    assert parse_date("2099-12-31") == date(2099, 12, 31)


@given(st.dates(min_value=date(1000, 1, 1)))
def test_parse_date_every_format_round_trips(day):
    y, m, d = day.year, day.month, day.day
    for text in (f"{day:%Y-%m-%d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日", f"{day:%Y%m%d}"):
        assert parse_date(fullwidth(text)) == day
    if day >= date(1927, 5, 18):  # serial 10000: smaller numbers would be years, not days
        assert parse_date((day - date(1899, 12, 30)).days) == day


# --- Money in 万元 (§7) -------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (12, "12.00"), (12.5, "12.50"), (Decimal("12.345"), "12.35"), ("12.34", "12.34"),
    ("１２３．４５", "123.45"), ("1,234.5", "1234.50"), ("1，234，567.8", "1234567.80"),
    (" 12 ", "12.00"), ("12万元", "12.00"), ("12 万", "12.00"), ("1,234.5 万元", "1234.50"),
    ("123456元", "12.35"), ("50,000 元", "5.00"), ("１２３４５６元", "12.35"), (".5", "0.50"),
    ("0", "0.00"), ("-0", "0.00"), (0.0, "0.00"),
])
def test_parse_money_accepted(value, expected):
    result = parse_money(value)
    assert isinstance(result, Decimal) and str(result) == expected


@pytest.mark.parametrize("value, expected", [
    (2.675, "2.68"), (0.005, "0.01"), ("0.004", "0.00"), ("0.125", "0.13"), ("-0.001", None),
])
def test_parse_money_rounds_half_up(value, expected):
    if expected is None:
        assert "不能为负数" in reason(parse_money, value)
    else:
        assert str(parse_money(value)) == expected


@pytest.mark.parametrize("blank", [None, "", "  ", math.nan, Decimal("NaN")])
def test_parse_money_blank_is_none(blank):
    assert parse_money(blank) is None


@pytest.mark.parametrize("value", [-1, -0.5, "-12", "－１２", Decimal("-3"), "-5元"])
def test_parse_money_negative(value):
    assert reason(parse_money, value, field="营业收入（万元）") == f"营业收入（万元）不能为负数：{value}"


@pytest.mark.parametrize("value", [
    "abc", "12元万", "万元", "1.2.3", "1,2", "12,34.5", "1e5", "Infinity", "12$", math.inf, True,
    Decimal("Infinity"), "5-",
])
def test_parse_money_garbage(value):
    assert reason(parse_money, value) == f"金额“{value}”不是有效的金额（单位：万元）"


def test_parse_money_too_large():
    assert "数值过大" in reason(parse_money, Decimal(10) ** 40)


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_parse_money_round_trips_formatted_amounts(amount):
    assert parse_money(f"{amount:,}万元") == amount
    assert parse_money(fullwidth(f"{amount:,}").replace(",", "，")) == amount


# --- Counts and years (§8) ---------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (12, 12), (0, 0), ("12", 12), ("１２", 12), ("12.0", 12), (12.0, 12), (Decimal("12.00"), 12),
    (" 1,200 ", 1200),
])
def test_parse_int_accepted(value, expected):
    result = parse_int(value, field="职工总数")
    assert result == expected and type(result) is int


@pytest.mark.parametrize("blank", [None, "", " ", math.nan])
def test_parse_int_blank_is_none(blank):
    assert parse_int(blank, field="职工总数") is None


@pytest.mark.parametrize("value", [12.5, "12.5", Decimal("0.1")])
def test_parse_int_fraction(value):
    assert reason(parse_int, value, field="职工总数") == f"职工总数应为整数，实际为“{value}”"


@pytest.mark.parametrize("value", [-1, "-3", -2.0])
def test_parse_int_negative(value):
    assert reason(parse_int, value, field="科技人员数") == f"科技人员数不能为负数：{value}"


def test_numbers_too_large_for_the_columns_are_refused_not_crashed_on():
    """INTEGER on PostgreSQL stops at 2,147,483,647 and NUMERIC(14, 2) below a trillion 万元."""
    assert parse_int("2147483647", field="职工总数") == 2147483647
    assert reason(parse_int, "99999999999999999999", field="职工总数") == "职工总数“99999999999999999999”数值过大"
    assert parse_money("999999999999.99") == Decimal("999999999999.99")
    for value in ("1000000000000", "12345678901234万元", 1e300):
        assert reason(parse_money, value, field="营业收入") == f"营业收入“{value}”数值过大（万元）"


@pytest.mark.parametrize("value", ["abc", "12人", "1,2", True, math.inf])
def test_parse_int_garbage(value):
    assert reason(parse_int, value, field="职工总数") == f"职工总数“{value}”不是有效的整数"


@pytest.mark.parametrize("value", [2024, "2024", "２０２４", "2024年", "2024.0", 2024.0, " 2024年度 "])
def test_parse_year_accepted(value):
    assert parse_year(value) == 2024


@pytest.mark.parametrize("value", [1949, 2100])
def test_parse_year_bounds_included(value):
    assert parse_year(value) == value


@pytest.mark.parametrize("blank", [None, "", math.nan])
def test_parse_year_blank_is_none(blank):
    assert parse_year(blank) is None


@pytest.mark.parametrize("value, year", [(1948, 1948), ("2101", 2101), ("24", 24), (0, 0)])
def test_parse_year_out_of_range(value, year):
    assert reason(parse_year, value) == f"年度应在1949年至2100年之间，实际为 {year}"


@pytest.mark.parametrize("value", ["年", "2,024", "二〇二四", "2024年3月", "abc"])
def test_parse_year_garbage(value):
    assert "年度" in reason(parse_year, value) and "有效" in reason(parse_year, value)


def test_parse_year_fraction_and_negative():
    assert "应为整数" in reason(parse_year, 2024.5)
    assert "不能为负数" in reason(parse_year, "-2024")


def test_excel_serial_as_text_from_a_csv():
    assert parse_date("44000") == date(2020, 6, 18)
    assert parse_date("４５０００.0") == date(2023, 3, 15)
    with pytest.raises(InvalidValue):
        parse_date("2021")  # a bare year is not a date


@pytest.mark.parametrize("raw, code", [
    ("2024511703000123.0", "2024511703000123"), (123.0, "123"), ("ｇｒ２０２３ ５１０００１２３", "GR202351000123"),
    ("V1.0", "V1.0"), ("123.5", "123.5"),
])
def test_a_code_is_compared_as_written_without_the_float_a_spreadsheet_made_of_it(raw, code):
    assert normalize_code(raw) == code
