"""When a 高企 certificate lapses (DOMAIN §3.2): one rule for standing, counting and reminders. Pure stdlib."""
from datetime import date, timedelta

HNTE_VALID_YEARS = 3  # 国科发火〔2016〕32号 article 9


def anniversary(day: date, years: int) -> date:
    """The same calendar day `years` later; for 29 February in a common year, 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def hnte_last_valid_day(issued_on: date | None, expires_on: date | None = None) -> date:
    """Valid for three years from the date of issue: issued 2020-12-03 → through 2023-12-02; issued 2024-02-29
    → through 2027-02-28. A stated expiry wins."""
    if expires_on is not None:
        return expires_on
    if issued_on is None:
        raise ValueError("高企证书需要发证日期")
    return anniversary(issued_on, HNTE_VALID_YEARS) - timedelta(days=1)
