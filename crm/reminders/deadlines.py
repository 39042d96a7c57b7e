"""Upcoming deadlines for a set of companies (certificate expiries, 年报 due, round closing dates, follow-ups).

Shared by the officer's "My work" page and the deadlines page, computed with the same rules as the
reminder engine (DOMAIN §3.2, §3.3, §6).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext

from crm.reminders import engine
from crm.reminders.inputs import load_inputs


@dataclass(frozen=True)
class Deadline:
    kind: str  # hnte_expiry | hnte_annual_report | tech_sme_renewal | round_deadline | follow_up_due
    due_on: date
    text: str  # in the reader's language, e.g. "高企证书 GR2020… 到期（最后有效日）"
    company_id: int | None
    company_name: str
    uscc: str
    officer_id: int | None


def upcoming_deadlines(officer_id: int | None, start: date, days: int = 60, area_ids: list[int] | None = None) -> list[Deadline]:
    """Deadlines due in [start, start + days] addressed to `officer_id` — at their companies, and at others (an
    application they handle, a follow-up they own), but not a colleague's follow-up at theirs (None: all
    companies in `area_ids`, or all when that is None too), sorted by due date. Constant number of queries.

    `officer_id` of a Deadline is whom its reminder goes to (DOMAIN §6 "who"); None means the admins (the
    company has no officer). Suppressed deadlines (a later certificate held, the report filed, the application
    submitted, the follow-up done) are left out.
    """
    until = start + timedelta(days=days)
    inputs = load_inputs(start, dict.fromkeys(engine.KIND_ORDER, until), officer_id=officer_id, area_ids=area_ids)
    companies = inputs.companies
    found = [
        Deadline(d.kind, d.due_on, _in_readers_language(d), d.company_id,
                 companies[d.company_id].name if d.company_id in companies else "",
                 companies[d.company_id].uscc if d.company_id in companies else "", d.recipient_id)
        for d in engine.deadlines(start, until, *inputs.engine_args())
        if officer_id is None or d.recipient_id == officer_id
    ]
    return sorted(found, key=lambda d: (d.due_on, engine.KIND_ORDER.index(d.kind), d.company_name))


TRANSLATED_VALUES = {"number", "stage"}  # "（无编号）" and the stage's name are labels; titles and names are data


def _in_readers_language(due: engine.Due) -> str:
    return gettext(due.message, **{k: gettext(v) if k in TRANSLATED_VALUES else v for k, v in due.params})
