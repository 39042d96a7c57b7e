""""Today" in the bureau's time zone (LADDER_TIMEZONE), never the server's."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    return datetime.now(ZoneInfo(current_app.config["LADDER_TIMEZONE"]))


def today() -> date:
    return now().date()


def utcnow() -> datetime:
    """Naive UTC timestamp: what every DateTime column stores (SQLite keeps no zone)."""
    return datetime.now(ZoneInfo("UTC")).replace(tzinfo=None)


def utc_start_of(day: date) -> datetime:
    """The naive UTC instant the bureau's `day` begins, to compare with stored timestamps."""
    zone = ZoneInfo(current_app.config["LADDER_TIMEZONE"])
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local(ts: datetime | None) -> datetime | None:
    """A stored UTC timestamp in the bureau's zone, for display."""
    if ts is None:
        return None
    return ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(current_app.config["LADDER_TIMEZONE"]))
