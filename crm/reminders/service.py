"""Reminders: the daily run (DOMAIN §6), lead times, the outbox as admins see it, and 年报 records (§3.3)."""
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from crm.clock import utcnow
from crm.extensions import db, ids_in
from crm.i18n import N_
from crm.jobs import collector_paused, recorded
from crm.models import AnnualReport, Certification, Company, JobRun, ReminderDigest, ReminderItem, User
from crm.models.certification import HNTE, REVOKED
from crm.models.user import ADMIN, user_area
from crm.normalize import InvalidValue
from crm.reminders import engine
from crm.reminders.inputs import load_inputs
from crm.reminders.mail import Mailer, MailError, digest_writer
from crm.reminders.outbox import Recipient, claim_next, enqueue, mark_failed, mark_sent, release
from crm.settings import get_setting

JOB = "reminders"


@dataclass(frozen=True)
class RunResult:
    sent: int
    items: int
    failed: int
    queued: int

    @property
    def line(self) -> str:
        """What `reminders run` prints (INTERFACES.md)."""
        return f"sent {self.sent} e-mails, {self.items} items; failed {self.failed}"


def lead_times() -> dict[str, tuple[int, ...]]:
    """Lead days per kind (configurable, DOMAIN §6), farthest first; a kind without leads never fires."""
    configured = get_setting("reminder_leads")
    return {kind: tuple(sorted({int(d) for d in configured.get(kind, ())}, reverse=True))
            for kind in engine.KIND_ORDER}


def recipients() -> dict[int, Recipient]:
    """Everyone who can receive reminders: the active users, with the kinds they turned off."""
    rows = db.session.execute(select(User.id, User.role, User.reminder_opt_out).where(User.active.is_(True)))
    return {r.id: Recipient(r.id, r.role == ADMIN, frozenset(r.reminder_opt_out or ())) for r in rows}


def due_today(today: date) -> list[engine.DueItem]:
    leads = lead_times()
    horizons = {kind: today + timedelta(days=max(days)) for kind, days in leads.items() if days}
    inputs = load_inputs(today, horizons)
    return _within_areas(engine.due_items(today, *inputs.engine_args(), leads=leads))


def _within_areas(items: list[engine.DueItem]) -> list[engine.DueItem]:
    """An item about a company outside its recipient's areas (an officer whose areas changed, still assigned)
    goes to the admins instead: an e-mail never names a company its reader could not open."""
    limited: dict[int, set[int]] = {}
    for user_id, area_id in db.session.execute(
            select(user_area.c.user_id, user_area.c.area_id).join(User, User.id == user_area.c.user_id)
            .where(User.role != ADMIN)):
        limited.setdefault(user_id, set()).add(area_id)
    company_ids = {i.company_id for i in items if i.recipient_id in limited and i.company_id is not None}
    if not company_ids:
        return items
    places = {cid: {district, park} for cid, district, park in db.session.execute(
        select(Company.id, Company.district_id, Company.park_id).where(ids_in(Company.id, company_ids)))}
    outside = {i for i, item in enumerate(items)
               if item.company_id in places and not places[item.company_id] & limited[item.recipient_id]}
    return [replace(item, recipient_id=None) if i in outside else item for i, item in enumerate(items)]


def send_pending(today: date) -> tuple[int, int, int]:
    """Send every pending digest once: (e-mails sent, items in them, e-mails not sent)."""
    mailer = Mailer(current_app.config)
    sent = items = failed = 0
    last_id = 0
    accepted = None  # accepted by the server, recorded as sent with the next claim
    try:
        with digest_writer(today) as write:
            while True:
                digest = claim_next(last_id, utcnow(), sent_id=accepted)
                accepted = None
                if digest is None:
                    break
                last_id = digest.id
                try:
                    mailer.send(write(digest))
                except MailError as exc:
                    failed += 1
                    if exc.permanent:
                        mark_failed(digest.id, exc.reason)
                    else:
                        release(digest.id, exc.reason, attempted=exc.attempted)
                    continue
                except BaseException as exc:  # not sent: give the claim back before the run stops
                    release(digest.id, f"{type(exc).__name__}: {exc}", attempted=False)
                    raise
                accepted = digest.id
                sent += 1
                items += len(digest.items)
    finally:
        if accepted is not None:  # the run stops before its next claim
            mark_sent(accepted, utcnow())
        mailer.close()
    return sent, items, failed


def run_reminders(today: date) -> RunResult:
    """The daily job (DOMAIN §6), for `reminders run` and the scheduler alike: record what fires today
    in the outbox, then send every pending digest. Safe to run again, and concurrently."""
    with recorded(JOB) as run, collector_paused():
        items = due_today(today)
        people = recipients()
        db.session.commit()  # end the read transaction before the outbox takes the write lock
        queued = enqueue(today, items, people)
        result = RunResult(*send_pending(today), queued=queued)
        run.result = json.dumps({"sent": result.sent, "items": result.items, "failed": result.failed,
                                 "queued": queued, "day": today.isoformat()})
        run.ok = result.failed == 0
    return result


def run_day(run: JobRun) -> date | None:
    """The day a finished reminders run was for (None: it failed or is still running)."""
    try:
        return date.fromisoformat(json.loads(run.result)["day"]) if run.ok is not None else None
    except (ValueError, TypeError, KeyError):
        return None


# --- the admin's view -----------------------------------------------------------------------------

def digest_counts() -> dict[str, int]:
    return dict(db.session.execute(select(ReminderDigest.status, func.count()).group_by(ReminderDigest.status)).all())


def item_counts(digest_ids: list[int]) -> dict[int, int]:
    if not digest_ids:
        return {}
    return dict(db.session.execute(
        select(ReminderItem.digest_id, func.count()).where(ReminderItem.digest_id.in_(digest_ids))
        .group_by(ReminderItem.digest_id)).all())


def recent_runs(limit: int = 20) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


# --- 高企年报 (DOMAIN §3.3) -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportYear:
    year: int  # fiscal year reported on
    due_on: date
    filed_on: date | None
    filed: bool
    missed: bool  # due date passed, not filed


@dataclass(frozen=True)
class ReportStatus:
    years: list[ReportYear]  # newest first
    missed: int  # missed reports under the certificate valid today (counted cumulatively, article 19)

    @property
    def at_risk(self) -> bool:
        return self.missed >= 1

    @property
    def may_be_cancelled(self) -> bool:
        return self.missed >= 2


def engine_certs(certs: list[Certification]) -> list[engine.Cert]:
    """高企 certificates as the engine sees them, with the stored last valid day as the expiry."""
    return [engine.Cert(c.id, c.company_id, c.kind, c.issued_on, c.valid_until, c.year, c.status == REVOKED, c.number)
            for c in certs if c.kind == HNTE]


def report_status(certs: list[Certification], reports: list[AnnualReport], today: date) -> ReportStatus:
    """Which annual reports a company owed and filed. Missed reports count against the certificate valid
    today, the qualification two missed reports would cancel; a company holding none is not at risk."""
    hnte = engine_certs(certs)
    if not hnte:
        return ReportStatus([], 0)
    filed = {r.year: r for r in reports}
    first = min(c.issued_on or c.expires_on for c in hnte).year
    years = [ReportYear(y, engine.report_due(y), filed[y].filed_on if y in filed else None, y in filed,
                        y not in filed and engine.report_due(y) < today)
             for y in reversed(engine.report_years(hnte, first, today.year))]
    current = [c for c in hnte if not c.revoked and (c.issued_on or date.min) <= today <= c.expires_on]
    owed = set(engine.report_years(current, first, today.year)) if current else set()
    return ReportStatus(years, sum(1 for y in years if y.missed and y.year in owed))


def report_problem(certs: list[Certification], year: int, filed_on: date,
                   today: date) -> tuple[str, InvalidValue] | None:
    """Why a 年报 cannot be recorded, by field: one is filed after its year ends, for a year the company owed it
    (a 高企 certificate valid on 31 December, §3.3) — a typo would otherwise silence next May's reminder."""
    if year >= today.year:
        return "year", InvalidValue(N_("%(y)s 年度尚未结束，该年度的年报在 %(d)s 以后填报"), y=year,
                                    d=date(year + 1, 1, 1).isoformat())
    if filed_on <= date(year, 12, 31):
        return "filed_on", InvalidValue(N_("%(y)s 年度的年报在该年结束后填报，填报日期应不早于 %(d)s"), y=year,
                                        d=date(year + 1, 1, 1).isoformat())
    if not engine.report_years(engine_certs(certs), year, year):
        return "year", InvalidValue(N_("该企业 %(y)s 年 12 月 31 日未持有有效的高企证书，不需填报该年度年报"), y=year)
    return None


def record_annual_report(company_id: int, year: int, filed_on: date) -> AnnualReport:
    report = db.session.scalar(select(AnnualReport).where(AnnualReport.company_id == company_id,
                                                          AnnualReport.year == year))
    if report is None:
        report = AnnualReport(company_id=company_id, year=year)
        db.session.add(report)
    report.filed_on = filed_on
    return report
