"""Upcoming deadlines for a set of companies (certificate expiries, 年报 due, round closing dates, follow-ups).

Shared by the officer's "My work" page and the deadlines page, computed with the same rules as the
reminder engine (DOMAIN §3.2, §3.3, §6).
"""
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Deadline:
    kind: str  # hnte_expiry | hnte_annual_report | tech_sme_renewal | round_deadline | follow_up_due
    due_on: date
    text: str  # plain Chinese, e.g. "高企证书 GR2020… 到期（最后有效日）"
    company_id: int | None
    company_name: str
    uscc: str
    officer_id: int | None


def upcoming_deadlines(officer_id: int | None, start: date, days: int = 60, area_ids: list[int] | None = None) -> list[Deadline]:
    """Deadlines due in [start, start + days] for the companies of `officer_id` (None: all companies in
    `area_ids`, or all when that is None too), sorted by due date. Constant number of queries."""
    return []  # implemented with the reminder outbox (issue 5)
