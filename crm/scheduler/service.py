"""The scheduler process (`flask scheduler run`): the daily reminders run at LADDER_REMINDER_TIME in
LADDER_TIMEZONE and nightly housekeeping with a snapshot of progress against targets. One process per deployment, started beside the web server
(scripts/run); never by create_app() or a web worker, so N gunicorn workers do not mean N runs. Even
two schedulers would send each digest once: the outbox claims digests under a database lock.
"""
import json
import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import delete, select, text

from crm import clock
from crm.clock import utcnow
from crm.extensions import db
from crm.jobs import recorded
from crm.models import JobRun, LoginAttempt

REMINDERS_JOB = "reminders.daily"
CATCH_UP_JOB = "reminders.catch_up"
HOUSEKEEPING_JOB = "housekeeping.nightly"
# A run held up by a busy or suspended machine still happens if it can start within 6 hours, the
# same working day; coalesced, several missed runs make one.
MISFIRE_GRACE_SECONDS = 6 * 3600
HOUSEKEEPING_AT = (2, 15)  # 02:15, quiet hours
SNAPSHOT_JOB_RUN = "snapshot"
log = logging.getLogger(__name__)


def reminder_time(config) -> tuple[int, int]:
    """LADDER_REMINDER_TIME as (hour, minute); ValueError with a clear message if it is not HH:MM."""
    text = str(config["LADDER_REMINDER_TIME"]).strip()
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    if match is None:
        raise ValueError(f"LADDER_REMINDER_TIME must be HH:MM (24-hour), not {text!r}")
    return int(match[1]), int(match[2])


def reminder_trigger(config) -> CronTrigger:
    hour, minute = reminder_time(config)
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(config["LADDER_TIMEZONE"]))


def daily_reminders(app: Flask) -> None:
    """The same run as `flask reminders run`, for the bureau's today."""
    from crm.reminders.service import run_reminders

    with app.app_context():
        result = run_reminders(clock.today())
        log.info("reminders: %s", result.line)


def refresh_planner_statistics() -> None:
    """ANALYZE. SQLite gathers no statistics by itself (PostgreSQL's autovacuum does; this only refreshes them):
    without them its planner guesses, and at 20,000 companies scanned every 高企 certificate to find one officer's
    (5 ms instead of 0.5 on My work)."""
    db.session.execute(text("ANALYZE"))


def nightly_housekeeping(app: Flask) -> None:
    """Failed logins only matter for the throttling window (minutes); keep a day for inspection. The planner
    statistics are refreshed. Then the nightly snapshot: the day's progress against targets, kept as the record
    of what leaders saw; on 1 January also the year just gone as of its last day, complete (its own last
    snapshot was taken before that day's work)."""
    with app.app_context(), recorded("housekeeping") as run:
        purged = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - timedelta(days=1)))
        refresh_planner_statistics()
        run.result = json.dumps({"purged": purged.rowcount})
    with app.app_context():
        day = clock.today()
    failed = None
    for as_of in ([day - timedelta(days=1)] if (day.month, day.day) == (1, 1) else []) + [day]:
        try:
            with app.app_context(), recorded(SNAPSHOT_JOB_RUN) as run:
                run.result = json.dumps(progress_snapshot(as_of), ensure_ascii=False)
        except Exception as exc:  # noqa: BLE001 — recorded as failed; the other day's snapshot is still taken
            failed = exc
    if failed is not None:
        raise failed


def progress_snapshot(day) -> dict:
    """`targets progress --json` for the year of `day`, as of `day`."""
    from crm.areas import all_areas
    from crm.targets.service import progress

    return progress(day.year, day, all_areas())


def missed_today(app: Flask) -> bool:
    """Today's reminder time has passed and no run for today finished since (the scheduler was down). A run
    an operator made since for another day (`reminders run --today` catching up yesterday) or one that failed
    does not count: today's reminders would never fire."""
    from crm.reminders.service import JOB, run_day

    with app.app_context():
        hour, minute = reminder_time(app.config)
        now = clock.now()
        scheduled = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if now < scheduled:
            return False
        since = scheduled.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        runs = db.session.scalars(select(JobRun).where(JobRun.job == JOB, JobRun.started_at >= since))
        return all(run_day(run) != now.date() for run in runs)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The scheduler with its jobs registered under stable ids, not started (`scheduler run` starts it)."""
    zone = ZoneInfo(app.config["LADDER_TIMEZONE"])
    scheduler = BlockingScheduler(timezone=zone)
    common = {"args": (app,), "replace_existing": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS,
              "coalesce": True, "max_instances": 1}
    scheduler.add_job(daily_reminders, reminder_trigger(app.config), id=REMINDERS_JOB,
                      name="每日到期提醒", **common)
    scheduler.add_job(nightly_housekeeping, CronTrigger(hour=HOUSEKEEPING_AT[0], minute=HOUSEKEEPING_AT[1],
                                                        timezone=zone),
                      id=HOUSEKEEPING_JOB, name="夜间清理与进度快照", **common)
    if missed_today(app):  # started after today's time without a run: catch up now, once
        scheduler.add_job(daily_reminders, "date", run_date=datetime.now(zone), id=CATCH_UP_JOB,
                          name="补发今日提醒", **common)
    return scheduler
