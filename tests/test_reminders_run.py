"""DOMAIN §6 through the database-backed run: each reminder kind at its lead boundaries, each suppression
rule, and who receives what (officer, admins' fallback, opt-outs)."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from crm.clock import today
from crm.extensions import db
from crm.models import AnnualReport, Application, FollowUp, Pool, PoolMember, ReminderDigest, ReminderItem, Round, User
from crm.reminders.engine import DEFAULT_LEADS
from crm.reminders.service import run_reminders
from tests.conftest import d, staff

pytestmark = pytest.mark.usefixtures("smtp")


def fired(today: str) -> list[tuple[str, int, str, bool]]:
    """Run the day's reminders; (kind, lead, recipient, admins' fallback) for each item recorded that day."""
    run_reminders(d(today))
    rows = db.session.execute(
        select(ReminderItem.kind, ReminderItem.lead, User.username, ReminderItem.to_admins)
        .join(User, User.id == ReminderItem.recipient_id)
        .where(ReminderItem.fired_on == d(today)).order_by(ReminderItem.kind, User.username)
    ).all()
    return [tuple(r) for r in rows]


def leads_fired(today: str, kind: str) -> list[int]:
    return [lead for k, lead, _, _ in fired(today) if k == kind]


# --- one company per kind with a known due date ---------------------------------------------------

def hnte_certificate(make, officer):
    company = make.company(officer_id=officer.id)
    make.cert(company, "hnte", issued_on=d("2020-12-03"), number="GR202051000001")  # last valid day 2023-12-02
    return company


def annual_report_owed(make, officer):
    company = make.company(officer_id=officer.id)
    make.cert(company, "hnte", issued_on=d("2022-11-10"), number="GR202251000002")  # valid on 2023-12-31
    return company


def tech_sme_round(**kw) -> Round:
    rnd = Round(kind="tech_sme", year=2025, name="2025 年科小评价", opens_on=d("2025-06-30"), closes_on=d("2025-09-30"), **kw)
    db.session.add(rnd)
    db.session.commit()
    return rnd


def registered_last_year(make, officer):
    company = make.company(officer_id=officer.id)
    make.cert(company, "tech_sme", year=2024, number="20245117000001")
    tech_sme_round()
    return company


def open_application(make, officer, stage="preparing"):
    company = make.company(officer_id=officer.id)
    rnd = Round(kind="hnte", year=2025, name="2025 年第一批高企认定", opens_on=d("2025-04-01"), closes_on=d("2025-06-30"))
    db.session.add(rnd)
    db.session.flush()
    db.session.add(Application(company_id=company.id, round_id=rnd.id, officer_id=officer.id, stage=stage))
    db.session.commit()
    return company


def follow_up(make, officer, done=False):
    company = make.company(officer_id=officer.id)
    db.session.add(FollowUp(company_id=company.id, title="核对研发费用归集", owner_id=officer.id, due_on=d("2025-03-10"),
                            done_at=datetime(2025, 3, 1) if done else None))
    db.session.commit()
    return company


KINDS = {
    "hnte_expiry": (hnte_certificate, "2023-12-02"),
    "hnte_annual_report": (annual_report_owed, "2024-05-31"),
    "tech_sme_renewal": (registered_last_year, "2025-09-30"),
    "round_deadline": (open_application, "2025-06-30"),
    "follow_up_due": (follow_up, "2025-03-10"),
}


def boundaries(kind: str) -> dict[str, list[int]]:
    """For each lead: the day before its window opens (the farther lead, if any, is in force) and the day
    it opens; then the due date (the nearest lead) and the day after (nothing)."""
    due = d(KINDS[kind][1])
    leads = sorted(DEFAULT_LEADS[kind], reverse=True)
    cases = {}
    for i, lead in enumerate(leads):
        opens = due - timedelta(days=lead)
        cases[f"{opens - timedelta(days=1)} day before the {lead}-day window"] = [leads[i - 1]] if i else []
        cases[f"{opens} {lead}-day window opens"] = [lead]
    cases[f"{due} due date"] = [min(leads)]
    cases[f"{due + timedelta(days=1)} day after"] = []
    return cases


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_fires_at_its_lead_boundaries(make, kind):
    """Each boundary day as if it were the first run (the outbox is emptied between days)."""
    KINDS[kind][0](make, staff("officer"))
    fired_on = {}
    for case in boundaries(kind):
        fired_on[case] = leads_fired(case[:10], kind)
        db.session.execute(delete(ReminderItem))
        db.session.execute(delete(ReminderDigest))
        db.session.commit()
    assert fired_on == boundaries(kind)


def test_daily_runs_fire_each_lead_once_on_its_first_day(make):
    officer = staff("officer")
    follow_up(make, officer)
    days = [d("2025-03-05") + timedelta(days=n) for n in range(8)]
    firing = {day: leads_fired(day.isoformat(), "follow_up_due") for day in days}
    assert {day: leads for day, leads in firing.items() if leads} == {d("2025-03-07"): [3], d("2025-03-10"): [0]}


def test_a_skipped_window_fires_only_the_nearest_lead(make):
    hnte_certificate(make, staff("officer"))
    assert leads_fired("2023-11-20", "hnte_expiry") == [30]  # 180 and 90 passed without a run
    assert leads_fired("2023-11-21", "hnte_expiry") == []
    assert leads_fired("2023-06-05", "hnte_expiry") == []  # a run for an earlier day: 180 was passed over for good
    assert leads_fired("2023-11-25", "hnte_expiry") == [7]  # a nearer lead still fires


# --- suppression (DOMAIN §6, last column) ------------------------------------------------------------

def test_hnte_expiry_suppressed_by_a_later_certificate(make):
    company = hnte_certificate(make, staff("officer"))
    make.cert(company, "hnte", issued_on=d("2023-11-20"), number="GR202351000009")
    assert leads_fired("2023-12-01", "hnte_expiry") == []


def test_hnte_expiry_not_suppressed_by_a_revoked_later_certificate(make):
    company = hnte_certificate(make, staff("officer"))
    make.cert(company, "hnte", issued_on=d("2023-11-20"), number="GR202351000009", status="revoked")
    assert leads_fired("2023-12-01", "hnte_expiry") == [7]


def test_revoked_certificate_never_reminds(make):
    company = make.company(officer_id=staff("officer").id)
    make.cert(company, "hnte", issued_on=d("2020-12-03"), status="revoked")
    assert fired("2023-12-01") == []


def test_annual_report_suppressed_once_filed(make):
    company = annual_report_owed(make, staff("officer"))
    db.session.add(AnnualReport(company_id=company.id, year=2022, filed_on=d("2023-05-10")))  # last year's
    db.session.commit()
    assert leads_fired("2024-05-31", "hnte_annual_report") == [3]
    db.session.add(AnnualReport(company_id=company.id, year=2023, filed_on=d("2024-05-20")))
    db.session.commit()
    assert leads_fired("2024-06-01", "hnte_annual_report") == []
    assert db.session.scalar(select(ReminderItem).where(ReminderItem.fired_on == d("2024-05-31"))) is not None


def test_annual_report_not_owed_without_a_certificate_valid_on_31_december(make):
    hnte_certificate(make, staff("officer"))  # expired 2023-12-02
    assert leads_fired("2024-05-31", "hnte_annual_report") == []


def test_tech_sme_renewal_suppressed_when_registered_for_the_year(make):
    company = registered_last_year(make, staff("officer"))
    make.cert(company, "tech_sme", year=2025, number="20255117000001")
    assert leads_fired("2025-09-30", "tech_sme_renewal") == []


def test_a_run_for_a_past_day_is_not_silenced_by_a_registration_issued_after_it(make):
    company = registered_last_year(make, staff("officer"))
    make.cert(company, "tech_sme", year=2025, number="20255117000002", issued_on=d("2025-09-15"))
    assert leads_fired("2025-08-31", "tech_sme_renewal") == [30]  # caught up later: not registered on that day
    assert leads_fired("2025-09-24", "tech_sme_renewal") == []  # registered by then


@pytest.mark.parametrize("stage, expected", [
    ("preparing", [1]), ("submitted", []), ("publicised", []), ("approved", []), ("withdrawn", [1]),
])
def test_tech_sme_renewal_suppressed_by_an_application_submitted_or_later(make, stage, expected):
    officer = staff("officer")
    company = make.company(officer_id=officer.id)
    make.cert(company, "tech_sme", year=2024, number="20245117000001")
    rnd = tech_sme_round()
    db.session.add(Application(company_id=company.id, round_id=rnd.id, officer_id=officer.id, stage=stage))
    db.session.commit()
    assert leads_fired("2025-09-30", "tech_sme_renewal") == expected


def test_tech_sme_renewal_reaches_companies_in_the_years_pool(make):
    officer = staff("officer")
    pooled, other = make.company(officer_id=officer.id), make.company(officer_id=officer.id)
    pool = Pool(kind="tech_sme", year=2025, name="2025年科小培育库")
    old_pool = Pool(kind="tech_sme", year=2024, name="2024年科小培育库")
    db.session.add_all([pool, old_pool])
    db.session.flush()
    db.session.add_all([PoolMember(pool_id=pool.id, company_id=pooled.id), PoolMember(pool_id=old_pool.id, company_id=other.id)])
    db.session.commit()
    tech_sme_round()
    run_reminders(d("2025-09-30"))
    assert db.session.scalars(select(ReminderItem.company_id).where(ReminderItem.kind == "tech_sme_renewal")).all() == [pooled.id]


@pytest.mark.parametrize("stage, expected", [
    ("intent", [1]), ("coaching", [1]), ("preparing", [1]), ("submitted", []), ("publicised", []),
    ("rejected", []), ("withdrawn", []),
])
def test_round_deadline_only_for_applications_not_yet_submitted(make, stage, expected):
    open_application(make, staff("officer"), stage=stage)
    assert leads_fired("2025-06-30", "round_deadline") == expected


def test_follow_up_suppressed_when_done(make):
    follow_up(make, staff("officer"), done=True)
    assert leads_fired("2025-03-10", "follow_up_due") == []


# --- who receives it -----------------------------------------------------------------------------

def test_company_without_officer_falls_to_every_active_admin(make):
    staff("admin", username="admin_a")
    staff("admin", username="admin_b")
    staff("admin", username="admin_gone", active=False)
    company = make.company()
    make.cert(company, "hnte", issued_on=d("2020-12-03"))
    assert fired("2023-12-02") == [("hnte_expiry", 7, "admin_a", True), ("hnte_expiry", 7, "admin_b", True)]


def test_a_company_outside_its_officers_areas_falls_to_the_admins(make):
    """An officer moved to other areas while still assigned: the e-mail never names a company they cannot open."""
    staff("admin", username="admin_a")
    moved = staff("officer", username="moved", areas=[make.area("511703")])
    hnte_certificate(make, moved)  # a company in 511702
    assert fired("2023-12-02") == [("hnte_expiry", 7, "admin_a", True)]
    kept = staff("officer", username="kept", areas=[make.area("511702")])
    hnte_certificate(make, kept)
    assert ("hnte_expiry", 7, "kept", False) in fired("2023-12-02")


def test_inactive_officer_falls_to_the_admins(make):
    staff("admin", username="admin_a")
    hnte_certificate(make, staff("officer", username="left_bureau", active=False))
    assert fired("2023-12-02") == [("hnte_expiry", 7, "admin_a", True)]


def test_application_officer_receives_round_deadline_else_company_officer(make):
    company_officer = staff("officer", username="company_officer")
    staff("officer", username="app_officer")
    company = open_application(make, company_officer)
    application = db.session.scalar(select(Application).where(Application.company_id == company.id))
    assert fired("2025-06-30") == [("round_deadline", 1, "company_officer", False)]
    db.session.execute(delete(ReminderItem))  # an empty outbox again: the same lead fires once, for anyone
    application.officer_id = db.session.scalar(select(User.id).where(User.username == "app_officer"))
    db.session.commit()
    assert fired("2025-06-30") == [("round_deadline", 1, "app_officer", False)]


def test_a_lead_fires_once_whoever_receives_it(make):
    """DOMAIN §6: at most once per (kind, subject, due date, lead). The admins had the 180-day expiry notice while
    the company had no officer; the officer assigned the next day is not sent it again, but gets the 90-day one."""
    staff("admin", username="admin_a")
    company = make.company()
    make.cert(company, "hnte", issued_on=d("2020-12-03"))  # last valid day 2023-12-02
    assert fired("2023-06-05") == [("hnte_expiry", 180, "admin_a", True)]
    company.officer_id = staff("officer", username="officer_a").id
    db.session.commit()
    assert fired("2023-06-06") == []
    assert fired("2023-09-03") == [("hnte_expiry", 90, "officer_a", False)]


def test_users_may_turn_off_kinds_but_not_the_admins_fallback(make):
    admin = staff("admin", username="admin_a", reminder_opt_out=["hnte_expiry"])
    officer = staff("officer", username="officer_a", reminder_opt_out=["hnte_expiry"])
    hnte_certificate(make, officer)  # officer's company: opted out
    hnte_certificate(make, admin)  # an admin as officer: opted out as well
    orphan = make.company()
    make.cert(orphan, "hnte", issued_on=d("2020-12-03"))  # no officer: the admins' fallback
    follow_up(make, officer)
    assert fired("2023-12-02") == [("hnte_expiry", 7, "admin_a", True)]
    assert leads_fired("2025-03-10", "follow_up_due") == [0]  # other kinds still come


def test_lead_times_are_configurable(make):
    from crm.settings import set_setting

    follow_up(make, staff("officer"))
    set_setting("reminder_leads", {**DEFAULT_LEADS, "follow_up_due": [5]})
    db.session.commit()
    assert leads_fired("2025-03-05", "follow_up_due") == [5]
    assert leads_fired("2025-03-10", "follow_up_due") == []


def test_a_day_still_to_come_can_be_run_ahead_from_the_command_line(make, runner):
    """INTERFACES: `reminders run --today DATE` computes that day's reminders — a rehearsal of a round's last week
    too; what it sends counts as sent, and the day itself then sends nothing twice."""
    officer = make.user("officer")
    company = make.company(officer_id=officer.id)
    closes = today() + timedelta(days=20)
    rnd = Round(kind="hnte", year=closes.year, name="下一批高企认定", opens_on=today(), closes_on=closes)
    db.session.add(rnd)
    db.session.flush()
    db.session.add(Application(company_id=company.id, round_id=rnd.id, officer_id=officer.id, stage="preparing"))
    db.session.commit()
    ahead = (closes - timedelta(days=7)).isoformat()
    result = runner.invoke(args=["reminders", "run", "--today", ahead])
    assert result.exit_code == 0 and result.stdout.strip() == "sent 1 e-mails, 1 items; failed 0", result.output
    assert runner.invoke(args=["reminders", "run", "--today", ahead]).stdout.strip() == "sent 0 e-mails, 0 items; failed 0"
