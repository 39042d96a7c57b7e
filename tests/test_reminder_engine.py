"""Reminder engine (DOMAIN.md §6, §3.2, §3.3, §2.4)."""
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from crm.reminders.engine import (
    DEFAULT_LEADS, AnnualReport, Cert, CompanyInfo, Due, FollowUp, OpenApplication,
    PoolMembership, Round, days_left_text, deadlines, due_items, due_lead, hnte_last_valid_day,
    report_due, report_years,
)

D = date.fromisoformat
ACME = CompanyInfo(1, "达州某科技有限公司", "91350100M000100Y43", officer_id=10)
ORPHAN = CompanyInfo(2, "无人包联公司", "914403001922038216", officer_id=None)


def run(today, companies=(ACME, ORPHAN), certs=(), rounds=(), applications=(),
        follow_ups=(), annual_reports=(), pools=(), leads=DEFAULT_LEADS, kind=None):
    items = due_items(D(today) if isinstance(today, str) else today, companies, certs, rounds,
                      applications, follow_ups, annual_reports, pools, leads)
    return [i for i in items if kind is None or i.kind == kind]


def leads_of(items):
    return [i.lead for i in items]


def hnte(id=1, company_id=1, issued="2020-12-03", expires=None, revoked=False):
    return Cert(id, company_id, "hnte", D(issued), expires and D(expires), None, revoked,
                f"GR{issued[:4]}5100{id:04d}")


def sme(id, company_id, year, revoked=False):
    return Cert(id, company_id, "tech_sme", None, None, year, revoked, f"{year}5117{id:06d}")


# --- validity (§3.2) ---------------------------------------------------------------

def test_hnte_valid_three_years_from_issue():
    assert hnte_last_valid_day(D("2020-12-03")) == D("2023-12-02")


def test_stated_expiry_wins():
    assert hnte_last_valid_day(D("2020-12-03"), D("2023-12-31")) == D("2023-12-31")


def test_leap_day_issue():
    assert hnte_last_valid_day(D("2020-02-29")) == D("2023-02-28")
    assert hnte_last_valid_day(D("2021-03-01")) == D("2024-02-29")


# --- due_lead: windows and the nearest-lead rule -----------------------------------

@pytest.mark.parametrize("today, expected", [
    ("2023-06-04", None),  # day before the 180-day window
    ("2023-06-05", 180),   # window opens
    ("2023-09-03", 90),    # 90-day window opens
    ("2023-11-01", 90),    # day before the 30-day window
    ("2023-11-02", 30),    # 30-day window opens
    ("2023-11-20", 30),    # between 30 and 7: the nearest reached lead
    ("2023-11-25", 7),
    ("2023-12-02", 7),     # due date
    ("2023-12-03", None),  # after due
])
def test_due_lead_windows(today, expected):
    assert due_lead(D("2023-12-02"), (180, 90, 30, 7), D(today)) == expected


def test_due_lead_rejects_negative_leads():
    with pytest.raises(ValueError):
        due_lead(D("2024-01-01"), (3, -1), D("2023-12-31"))


@given(due_offset=st.integers(41, 100),
       leads=st.sets(st.integers(0, 40), min_size=1, max_size=5),
       run_days=st.sets(st.integers(0, 110)))
def test_simulated_runs_fire_each_lead_once_nearest_first(due_offset, leads, run_days):
    """With the caller's once-per-(subject, due, lead) record: runs on any days fire
    at most one lead each, inside its window, never after the due date, leads
    strictly nearer each time; daily runs fire every lead on its window's first day."""
    start = D("2024-01-01")
    due = start + timedelta(due_offset)

    def simulate(days):
        sent = {}
        for day in sorted(days):
            today = start + timedelta(day)
            lead = due_lead(due, leads, today)
            if lead is None:
                assert today > due or today < due - timedelta(max(leads))
            elif lead not in sent:
                assert due - timedelta(lead) <= today <= due
                sent[lead] = today
        return sent

    fired = list(simulate(run_days))
    assert fired == sorted(fired, reverse=True)
    assert simulate(range(111)) == {lead: due - timedelta(lead) for lead in leads}


# --- hnte_expiry ------------------------------------------------------------------

@pytest.mark.parametrize("today, expected", [
    ("2023-06-04", []), ("2023-06-05", [180]), ("2023-12-02", [7]), ("2023-12-03", []),
])
def test_hnte_expiry_boundaries(today, expected):
    items = run(today, certs=[hnte()], kind="hnte_expiry")
    assert leads_of(items) == expected
    if items:
        (item,) = items
        assert (item.subject_key, item.company_id, item.due_on, item.recipient_id) == \
            ("cert:1", 1, D("2023-12-02"), 10)
        assert "高企证书 GR202051000001 将于 2023-12-02 到期" in item.text


def test_hnte_expiry_uses_stated_expiry():
    items = run("2023-12-25", certs=[hnte(expires="2023-12-31")], kind="hnte_expiry")
    assert [(i.due_on, i.lead) for i in items] == [(D("2023-12-31"), 7)]


def test_hnte_expiry_suppressed_by_later_certificate():
    later = hnte(id=2, issued="2023-11-20")
    assert run("2023-12-01", certs=[hnte(), later], kind="hnte_expiry") == []
    # ...but not by another company's certificate, nor by a revoked later one
    assert len(run("2023-12-01", certs=[hnte(), hnte(id=2, company_id=2, issued="2023-11-20")],
                   kind="hnte_expiry")) == 1
    assert len(run("2023-12-01", certs=[hnte(), hnte(id=2, issued="2023-11-20", revoked=True)],
                   kind="hnte_expiry")) == 1
    # ...nor, on a day before it was issued, by a certificate issued later (a run for a past day)
    assert len(run("2023-11-19", certs=[hnte(), later], kind="hnte_expiry")) == 1


def test_revoked_certificate_ignored():
    assert run("2023-12-01", certs=[hnte(revoked=True)]) == []


def test_no_officer_falls_to_admins():
    (item,) = run("2023-12-01", certs=[hnte(company_id=2)], kind="hnte_expiry")
    assert item.recipient_id is None


# --- hnte_annual_report (§3.3) ----------------------------------------------------

VALID_END_2023 = hnte(issued="2022-11-10")


@pytest.mark.parametrize("today, expected", [
    ("2024-04-30", []), ("2024-05-01", [30]), ("2024-05-20", [14]),
    ("2024-05-31", [3]), ("2024-06-01", []),
])
def test_annual_report_boundaries(today, expected):
    items = run(today, certs=[VALID_END_2023], kind="hnte_annual_report")
    assert leads_of(items) == expected
    assert all(i.subject_key == "company:1:report:2023" and i.due_on == D("2024-05-31")
               and i.recipient_id == 10 for i in items)


def test_annual_report_suppressed_when_filed():
    filed = [AnnualReport(1, 2023)]
    assert run("2024-05-31", certs=[VALID_END_2023], annual_reports=filed) == []
    # last year's report does not count for this year
    assert len(run("2024-05-31", certs=[VALID_END_2023], annual_reports=[AnnualReport(1, 2022)],
                   kind="hnte_annual_report")) == 1


def test_annual_report_only_if_valid_on_31_december():
    # expired 2023-12-02: not valid on 2023-12-31, so no 2024 report is due
    assert run("2024-05-31", certs=[hnte()], kind="hnte_annual_report") == []
    # issued after 31 Dec 2023: nothing to report for 2023 either
    assert run("2024-05-31", certs=[hnte(issued="2024-01-05")], kind="hnte_annual_report") == []
    # revoked: ignored
    assert run("2024-05-31", certs=[hnte(issued="2022-11-10", revoked=True)]) == []


def test_annual_report_one_item_per_company():
    certs = [hnte(1, issued="2021-01-10"), hnte(2, issued="2023-12-20")]
    assert len(run("2024-05-31", certs=certs, kind="hnte_annual_report")) == 1


def test_annual_report_long_lead_reaches_next_year():
    leads = {"hnte_annual_report": (400,)}
    items = run("2024-06-01", certs=[hnte(issued="2023-11-10")], leads=leads)
    assert [(i.subject_key, i.due_on) for i in items] == [("company:1:report:2024", D("2025-05-31"))]


# --- tech_sme_renewal (§2.4) ------------------------------------------------------

SME_ROUND = Round(7, "tech_sme", 2025, "2025 年科小评价", D("2025-09-30"))
OTHER_ROUND = Round(8, "hnte", 2025, "2025 年高企认定", D("2025-09-30"))
REG_2024 = sme(1, 1, 2024)


@pytest.mark.parametrize("today, expected", [
    ("2025-08-30", []), ("2025-08-31", [30]), ("2025-09-25", [7]),
    ("2025-09-30", [1]), ("2025-10-01", []),
])
def test_tech_sme_renewal_boundaries(today, expected):
    items = run(today, certs=[REG_2024], rounds=[SME_ROUND], kind="tech_sme_renewal")
    assert leads_of(items) == expected
    assert all(i.subject_key == "company:1:round:7" and i.recipient_id == 10 for i in items)


def test_tech_sme_renewal_targets():
    pooled = run("2025-09-30", rounds=[SME_ROUND], pools=[PoolMembership(2, "tech_sme", 2025)])
    assert [(i.company_id, i.recipient_id) for i in pooled] == [(2, None)]
    # not targets: registered only two years ago, a revoked Y−1 registration,
    # another kind's pool or a pool for another year
    assert run("2025-09-30", rounds=[SME_ROUND], certs=[sme(1, 1, 2023), sme(2, 2, 2024, revoked=True)],
               pools=[PoolMembership(1, "hnte", 2025), PoolMembership(2, "tech_sme", 2024)]) == []
    # only tech-SME rounds
    assert run("2025-09-30", certs=[REG_2024], rounds=[OTHER_ROUND]) == []


def test_tech_sme_renewal_suppressed_when_registered_for_y():
    assert run("2025-09-30", certs=[REG_2024, sme(2, 1, 2025)], rounds=[SME_ROUND]) == []
    # a revoked Y registration also suppresses: it cannot be re-applied for (§2.4)
    assert run("2025-09-30", certs=[REG_2024, sme(2, 1, 2025, revoked=True)], rounds=[SME_ROUND]) == []


def test_tech_sme_renewal_for_a_past_day_is_not_suppressed_by_a_registration_issued_after_it():
    """A run for 31 August (catching up) reminds of a registration only recorded on 15 September."""
    later = replace(sme(2, 1, 2025), issued_on=D("2025-09-15"))
    assert leads_of(run("2025-08-31", certs=[REG_2024, later], rounds=[SME_ROUND])) == [30]
    assert run("2025-09-25", certs=[REG_2024, later], rounds=[SME_ROUND]) == []


@pytest.mark.parametrize("stage, suppressed", [
    ("intent", False), ("coaching", False), ("preparing", False), ("submitted", True),
    ("publicised", True), ("approved", True), ("rejected", True), ("withdrawn", False),
])
def test_tech_sme_renewal_suppressed_by_submitted_application(stage, suppressed):
    app = OpenApplication(5, 1, SME_ROUND.id, 11, stage)
    items = run("2025-09-30", certs=[REG_2024], rounds=[SME_ROUND], applications=[app],
                kind="tech_sme_renewal")
    assert (items == []) == suppressed
    # an application in another round does not suppress
    other = OpenApplication(5, 1, 99, 11, stage)
    assert len(run("2025-09-30", certs=[REG_2024], rounds=[SME_ROUND], applications=[other],
                   kind="tech_sme_renewal")) == 1


# --- round_deadline ---------------------------------------------------------------

HNTE_ROUND = Round(3, "hnte", 2025, "2025 年第一批高企认定", D("2025-06-30"))


@pytest.mark.parametrize("today, expected", [
    ("2025-06-15", []), ("2025-06-16", [14]), ("2025-06-24", [7]),
    ("2025-06-30", [1]), ("2025-07-01", []),
])
def test_round_deadline_boundaries(today, expected):
    app = OpenApplication(5, 1, 3, 11, "preparing")
    items = run(today, rounds=[HNTE_ROUND], applications=[app])
    assert leads_of(items) == expected
    assert all((i.kind, i.subject_key, i.recipient_id) == ("round_deadline", "application:5", 11)
               for i in items)
    assert all("材料准备" in i.text and "2025-06-30" in i.text for i in items)


def test_round_deadline_one_item_per_open_application_only():
    apps = [OpenApplication(i, 1, 3, 11, stage) for i, stage in enumerate(
        ["intent", "coaching", "preparing", "submitted", "publicised", "approved", "rejected",
         "withdrawn"])]
    items = run("2025-06-30", rounds=[HNTE_ROUND], applications=apps)
    assert [i.subject_key for i in items] == ["application:0", "application:1", "application:2"]


def test_round_deadline_recipient_fallback():
    apps = [OpenApplication(5, 1, 3, None, "intent"), OpenApplication(6, 2, 3, None, "intent")]
    items = run("2025-06-30", rounds=[HNTE_ROUND], applications=apps)
    assert [i.recipient_id for i in items] == [10, None]  # company's officer, then admins


# --- follow_up_due ----------------------------------------------------------------

@pytest.mark.parametrize("today, expected", [
    ("2025-03-06", []), ("2025-03-07", [3]), ("2025-03-09", [3]),
    ("2025-03-10", [0]), ("2025-03-11", []),
])
def test_follow_up_boundaries(today, expected):
    fu = FollowUp(4, 1, owner_id=12, title="核对研发费用", due_on=D("2025-03-10"), done=False)
    items = run(today, follow_ups=[fu])
    assert leads_of(items) == expected
    assert all((i.kind, i.subject_key, i.recipient_id) == ("follow_up_due", "follow_up:4", 12)
               for i in items)


def test_follow_up_suppressed_when_done():
    fu = FollowUp(4, 1, 12, "核对研发费用", D("2025-03-10"), done=True)
    assert run("2025-03-10", follow_ups=[fu]) == []


# --- configuration, one run -------------------------------------------------------

def test_leads_are_configurable():
    fu = FollowUp(4, None, 12, "回访", D("2025-03-10"), False)
    assert leads_of(run("2025-03-05", follow_ups=[fu], leads={"follow_up_due": (5,)})) == [5]
    assert run("2025-03-10", follow_ups=[fu], leads={}) == []


def test_one_run_collects_every_kind():
    items = run(
        "2025-09-30",
        certs=[REG_2024, hnte(9, 1, issued="2022-10-01")],  # expires 2025-09-30
        rounds=[SME_ROUND, Round(4, "hnte", 2025, "高企", D("2025-10-01"))],
        applications=[OpenApplication(5, 2, 4, None, "coaching")],
        follow_ups=[FollowUp(4, 1, 12, "回访", D("2025-09-30"), False)],
    )
    assert [(i.kind, i.lead, i.recipient_id) for i in items] == [
        ("hnte_expiry", 7, 10), ("tech_sme_renewal", 1, 10),
        ("round_deadline", 1, None), ("follow_up_due", 0, 12),
    ]


def test_follow_up_without_owner_goes_to_the_companys_officer():
    fu = FollowUp(4, 1, None, "回访", D("2025-03-10"), False)
    (item,) = run("2025-03-10", follow_ups=[fu])
    assert item.recipient_id == 10
    (orphan,) = run("2025-03-10", follow_ups=[FollowUp(5, 2, None, "回访", D("2025-03-10"), False)])
    assert orphan.recipient_id is None


# --- deadlines(): every due date in a period (the deadlines page) ------------------------------------

def test_deadlines_list_due_dates_in_the_period_whatever_the_leads():
    certs = [hnte(1, 1, issued="2022-11-10"), hnte(2, 2, issued="2021-02-01")]  # expiries 2025-11-09, 2024-01-31
    found = deadlines(D("2024-01-01"), D("2024-06-30"), [ACME, ORPHAN], certs, (), (), (), (), ())
    assert [(x.kind, x.subject_key, x.due_on, x.recipient_id) for x in found] == [
        ("hnte_expiry", "cert:2", D("2024-01-31"), None),
        ("hnte_annual_report", "company:1:report:2023", D("2024-05-31"), 10),
        ("hnte_annual_report", "company:2:report:2023", D("2024-05-31"), None),  # valid on 2023-12-31 too
    ]
    assert all(isinstance(x, Due) for x in found)
    assert deadlines(D("2024-02-01"), D("2024-05-30"), [ACME, ORPHAN], certs, (), (), (), (), ()) == []


def test_deadlines_apply_the_suppressions():
    certs = [hnte(1, 1, issued="2021-02-01"), hnte(2, 1, issued="2023-12-10")]
    found = deadlines(D("2024-01-01"), D("2024-06-30"), [ACME], certs, (), (), (), [AnnualReport(1, 2023)], ())
    assert found == []


# --- annual reports (§3.3) ----------------------------------------------------------------------------

def test_report_years_are_the_years_valid_on_31_december():
    cert = hnte(issued="2020-12-03")  # valid 2020-12-03 … 2023-12-02
    assert report_years([cert], 2019, 2024) == [2020, 2021, 2022]
    assert report_years([hnte(issued="2020-12-03", revoked=True)], 2019, 2024) == []
    assert report_due(2023) == D("2024-05-31")


@pytest.mark.parametrize("due, expected", [
    ("2025-03-10", "今天到期"), ("2025-03-13", "还剩 3 天"), ("2025-03-08", "已过期 2 天"),
])
def test_days_left_text(due, expected):
    assert days_left_text(D(due), D("2025-03-10")) == expected
