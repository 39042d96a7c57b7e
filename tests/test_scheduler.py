"""The scheduler process and the reminders command line (INTERFACES.md): jobs, times, zones, exit codes."""
import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, text

from config import TestingConfig
from crm import create_app
from crm.extensions import db
from crm import clock
from crm.models import FollowUp, JobRun, LoginAttempt
from crm.scheduler.service import (
    CATCH_UP_JOB, HOUSEKEEPING_JOB, MISFIRE_GRACE_SECONDS, REMINDERS_JOB, build_scheduler, reminder_time,
)
from tests.conftest import d, staff


@pytest.fixture
def schedule(app):
    """Set LADDER_REMINDER_TIME / LADDER_TIMEZONE for one test."""
    saved = {k: app.config[k] for k in ("LADDER_REMINDER_TIME", "LADDER_TIMEZONE")}

    def configure(time: str, zone: str = "Asia/Shanghai"):
        app.config.update(LADDER_REMINDER_TIME=time, LADDER_TIMEZONE=zone)
        return app

    yield configure
    app.config.update(saved)


def cron_fields(trigger: CronTrigger) -> dict[str, str]:
    return {f.name: str(f) for f in trigger.fields}


def test_daily_reminders_job_at_the_configured_time_and_zone(schedule):
    scheduler = build_scheduler(schedule("07:05", "Asia/Urumqi"))
    job = scheduler.get_job(REMINDERS_JOB)
    fields = cron_fields(job.trigger)
    assert (fields["hour"], fields["minute"], fields["second"]) == ("7", "5", "0")
    assert job.trigger.timezone == ZoneInfo("Asia/Urumqi")
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (MISFIRE_GRACE_SECONDS, True, 1)
    after = datetime(2025, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert job.trigger.get_next_fire_time(None, after) == datetime(2025, 3, 11, 7, 5, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert not scheduler.running


def test_default_is_0830_shanghai_and_nightly_housekeeping(app):
    scheduler = build_scheduler(app)
    daily = scheduler.get_job(REMINDERS_JOB).trigger
    assert (cron_fields(daily)["hour"], cron_fields(daily)["minute"]) == ("8", "30")
    assert daily.timezone == ZoneInfo("Asia/Shanghai")
    assert cron_fields(scheduler.get_job(HOUSEKEEPING_JOB).trigger)["hour"] == "2"


def test_jobs_replace_existing_under_stable_ids(app):
    # Until start() jobs wait in _pending_jobs as (job, jobstore, replace_existing).
    pending = {job.id: replace for job, _store, replace in build_scheduler(app)._pending_jobs}
    assert pending[REMINDERS_JOB] is True and pending[HOUSEKEEPING_JOB] is True


@pytest.mark.parametrize("bad", ["8.30", "24:00", "08:60", "eight"])
def test_bad_reminder_time_is_refused(bad):
    with pytest.raises(ValueError, match="LADDER_REMINDER_TIME"):
        reminder_time({"LADDER_REMINDER_TIME": bad})


def test_missed_run_is_caught_up_once_at_start(schedule):
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    if now.hour == 0 and now.minute == 0:
        pytest.skip("midnight: no earlier minute today")
    app = schedule("00:00")  # today's time has passed
    assert build_scheduler(app).get_job(CATCH_UP_JOB) is not None
    yesterday = (now.date() - timedelta(days=1)).isoformat()
    db.session.add_all([  # an operator catching up yesterday, a run that broke off: today is still to do
        JobRun(job="reminders", ok=True, result=json.dumps({"sent": 1, "day": yesterday})),
        JobRun(job="reminders", ok=False, result="OperationalError: database is locked")])
    db.session.commit()
    assert build_scheduler(app).get_job(CATCH_UP_JOB) is not None
    db.session.add(JobRun(job="reminders", ok=True, result=json.dumps({"sent": 0, "day": now.date().isoformat()})))
    db.session.commit()
    assert build_scheduler(app).get_job(CATCH_UP_JOB) is None
    later = (now + timedelta(minutes=2)).strftime("%H:%M")
    if later > now.strftime("%H:%M"):  # not across midnight
        assert build_scheduler(schedule(later)).get_job(CATCH_UP_JOB) is None


def test_the_daily_job_runs_the_reminders_for_today_and_records_it(app, make, smtp):
    officer = staff("officer")
    company = make.company(officer_id=officer.id)
    db.session.add(FollowUp(company_id=company.id, title="今天到期", owner_id=officer.id, due_on=clock.today()))
    db.session.commit()
    job = build_scheduler(app).get_job(REMINDERS_JOB)
    job.func(*job.args)  # what the scheduler calls at 08:30
    run = db.session.scalar(select(JobRun).where(JobRun.job == "reminders"))
    assert run.ok and run.finished_at
    assert json.loads(run.result) == {"sent": 1, "items": 1, "failed": 0, "queued": 1, "day": clock.today().isoformat()}
    assert [m["To"] for m in smtp.messages] == [officer.email]


def test_nightly_housekeeping_purges_old_login_attempts(app):
    db.session.add_all([LoginAttempt(username="old", at=datetime(2020, 1, 1)), LoginAttempt(username="recent")])
    db.session.commit()
    job = build_scheduler(app).get_job(HOUSEKEEPING_JOB)
    job.func(*job.args)
    assert db.session.scalars(select(LoginAttempt.username)).all() == ["recent"]
    assert json.loads(db.session.scalar(select(JobRun.result).where(JobRun.job == "housekeeping"))) == {"purged": 1}


def test_nightly_housekeeping_gives_the_planner_statistics(app, make):
    make.company()
    postgres = db.engine.dialect.name == "postgresql"
    analyses = text("SELECT pg_stat_clear_snapshot(), (SELECT analyze_count FROM pg_stat_user_tables "
                    "WHERE relname = 'company')")
    before = db.session.execute(analyses).one()[1] if postgres else None
    db.session.commit()
    job = build_scheduler(app).get_job(HOUSEKEEPING_JOB)
    job.func(*job.args)
    if not postgres:
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'company'")) > 0
        return
    for _ in range(50):  # the server publishes a session's statistics within a second or so
        db.session.commit()
        if db.session.execute(analyses).one()[1] > before:
            return
        time.sleep(0.1)
    raise AssertionError("ANALYZE did not run on company")


def test_nightly_snapshot_equals_targets_progress_json(app, make, runner):
    import json

    from crm.clock import today

    make.cert(make.company(district="511703"), "tech_sme", year=today().year, issued_on=today())
    job = build_scheduler(app).get_job(HOUSEKEEPING_JOB)
    job.func(*job.args)
    snapshot = json.loads(db.session.scalar(select(JobRun.result).where(JobRun.job == "snapshot")))
    printed = json.loads(runner.invoke(args=["targets", "progress", "--year", str(today().year), "--json"]).output)
    assert snapshot == printed
    assert snapshot["areas"]["511703"]["tech_sme_registered"]["actual"] == 1


def test_on_new_years_day_the_year_gone_is_kept_complete_too(app, make, monkeypatch):
    import json

    monkeypatch.setattr("crm.clock.today", lambda: d("2027-01-01"))
    make.cert(make.company(), "hnte", issued_on=d("2026-12-31"), number="GR202651000001")  # entered on its last day
    job = build_scheduler(app).get_job(HOUSEKEEPING_JOB)
    job.func(*job.args)
    kept = [json.loads(r) for r in db.session.scalars(select(JobRun.result).where(JobRun.job == "snapshot")
                                                      .order_by(JobRun.id))]
    assert [(k["year"], k["as_of"]) for k in kept] == [(2026, "2026-12-31"), (2027, "2027-01-01")]
    assert kept[0]["metrics"]["hnte_new"]["actual"] == 1


def test_a_failed_year_end_snapshot_still_leaves_new_years_day_taken(app, monkeypatch):
    import json

    import crm.scheduler.service as service

    monkeypatch.setattr("crm.clock.today", lambda: d("2027-01-01"))
    real = service.progress_snapshot

    def snapshot(day):
        if day.year == 2026:
            raise RuntimeError("year-end failed")
        return real(day)

    monkeypatch.setattr(service, "progress_snapshot", snapshot)
    job = build_scheduler(app).get_job(HOUSEKEEPING_JOB)
    with pytest.raises(RuntimeError):
        job.func(*job.args)
    runs = db.session.execute(select(JobRun.ok, JobRun.result).where(JobRun.job == "snapshot").order_by(JobRun.id)).all()
    assert [ok for ok, _ in runs] == [False, True] and json.loads(runs[1].result)["as_of"] == "2027-01-01"


def test_create_app_starts_no_scheduler(database_url, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("create_app() started a scheduler")

    monkeypatch.setattr(BaseScheduler, "start", refuse)
    threads = set(threading.enumerate())

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    served = create_app(Config)
    served.test_client().get("/login")
    assert set(threading.enumerate()) == threads


# --- command line -------------------------------------------------------------------------------------

def test_reminders_run_prints_the_contract_line(runner, make, smtp):
    company = make.company(officer_id=staff("officer").id)
    make.cert(company, "hnte", issued_on=d("2020-12-03"))
    result = runner.invoke(args=["reminders", "run", "--today", "2023年12月2日"])
    assert (result.exit_code, result.output) == (0, "sent 1 e-mails, 1 items; failed 0\n")
    again = runner.invoke(args=["reminders", "run", "--today", "2023-12-02"])
    assert (again.exit_code, again.output) == (0, "sent 0 e-mails, 0 items; failed 0\n")
    assert db.session.scalar(select(JobRun.ok).order_by(JobRun.id.desc()).limit(1)) is True


def test_reminders_run_with_failures_prints_the_line_and_exits_1(runner, make, mail_settings):
    """INTERFACES: non-zero with a one-line reason on failure — cron must see that the mail server is down."""
    from crm.smtp_sink import free_port

    mail_settings(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    make.cert(make.company(officer_id=staff("officer").id), "hnte", issued_on=d("2020-12-03"))
    result = runner.invoke(args=["reminders", "run", "--today", "2023-12-02"])
    assert (result.exit_code, result.stdout) == (1, "sent 0 e-mails, 0 items; failed 1\n")
    assert result.stderr == "Error: 1 封邮件未能发送，已保留，下次运行时重试（原因见“提醒邮件”页）\n"
    assert db.session.scalar(select(JobRun.ok).order_by(JobRun.id.desc()).limit(1)) is False


def test_reminders_run_bad_date_exits_1_with_one_line(runner):
    result = runner.invoke(args=["reminders", "run", "--today", "someday"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --today:") and result.output.count("\n") == 1


def test_scheduler_run_refuses_a_bad_time(runner, schedule):
    schedule("8h30")
    result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code == 1 and "LADDER_REMINDER_TIME must be HH:MM" in result.output
