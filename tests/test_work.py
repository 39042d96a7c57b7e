"""My work (我的工作): follow-ups, deadlines, companies not visited for too long; the team view; the timeline."""
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm.clock import today
from crm.extensions import db
from crm.models import Application, ApplicationMove, AuditLog, FollowUp, Pool, PoolMember, Round
from crm.reminders.deadlines import Deadline
from crm.settings import get_setting, set_setting
from crm.work.service import WorkScope, stale_companies, threshold_for
from tests.visit_data import add_visit


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def registered_days_ago(n: int) -> datetime:
    """created_at (naive UTC) for a company registered in the morning, bureau time, `n` days ago."""
    local_morning = datetime.combine(days_ago(n), time(8), ZoneInfo("Asia/Shanghai"))
    return local_morning.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def pooled(company, year: int | None = None) -> None:
    pool = Pool(kind="hnte", year=year or today().year, name=f"{year or today().year}年高企培育库{company.id}")
    db.session.add(PoolMember(pool=pool, company=company))
    db.session.commit()


def stale_names(officer) -> list[str]:
    rows, total = stale_companies(WorkScope(officer_id=officer.id), officer, today())
    assert total == len(rows)
    return [row.company.name for row in rows]


# --- not visited for too long (走访超期) ----------------------------------------------------------

@pytest.mark.parametrize("ago, stale", [(89, False), (90, True)])
def test_a_pooled_company_is_stale_from_90_days_after_its_last_visit(make, ago, stale):
    officer = make.user("officer")
    company = make.company(name="培育库企业", officer=officer)
    pooled(company)
    add_visit(company, officer, days_ago=ago)
    assert stale_names(officer) == (["培育库企业"] if stale else [])


@pytest.mark.parametrize("ago, stale", [(179, False), (180, True)])
def test_another_company_is_stale_from_180_days_after_its_last_visit(make, ago, stale):
    officer = make.user("officer")
    company = make.company(name="普通企业", officer=officer)
    add_visit(company, officer, days_ago=ago)
    assert stale_names(officer) == (["普通企业"] if stale else [])


def test_only_a_pool_of_the_current_year_makes_a_company_pooled(make):
    officer = make.user("officer")
    company = make.company(officer=officer)
    pooled(company, year=today().year - 1)
    add_visit(company, officer, days_ago=100)
    assert stale_names(officer) == []


@pytest.mark.parametrize("ago, stale", [(179, False), (180, True)])
def test_a_never_visited_company_counts_from_the_day_it_was_registered(make, ago, stale):
    officer = make.user("officer")
    make.company(name="从未走访", officer=officer, created_at=registered_days_ago(ago))
    assert stale_names(officer) == (["从未走访"] if stale else [])


def test_the_latest_visit_counts(make):
    officer = make.user("officer")
    company = make.company(officer=officer)
    add_visit(company, officer, days_ago=400)
    add_visit(company, officer, days_ago=10)
    assert stale_names(officer) == []


@pytest.mark.parametrize("ago, stale", [(119, False), (120, True)])
def test_a_per_standing_threshold_replaces_the_default(make, ago, stale):
    set_setting("visit_staleness", {"pooled": 90, "default": 180, "hnte": 120})
    officer = make.user("officer")
    hnte = make.company(name="高企", officer=officer)
    make.cert(hnte, "hnte", issued_on=days_ago(365))
    sme = make.company(name="科小", officer=officer)
    make.cert(sme, "tech_sme", year=today().year, issued_on=date(today().year, 1, 1))
    for company in (hnte, sme):
        add_visit(company, officer, days_ago=ago)
    assert stale_names(officer) == (["高企"] if stale else [])


def test_where_pool_and_standing_both_apply_the_shorter_threshold_wins(make):
    set_setting("visit_staleness", {"pooled": 90, "default": 180, "hnte": 60})
    officer = make.user("officer")
    company = make.company(name="库中高企", officer=officer)
    make.cert(company, "hnte", issued_on=days_ago(365))
    pooled(company)
    add_visit(company, officer, days_ago=60)
    assert stale_names(officer) == ["库中高企"]
    assert threshold_for({"pooled": 90, "default": 180, "hnte": 60}, "hnte", pooled=True) == 60
    assert threshold_for({"pooled": 90, "default": 180, "hnte": 120}, "hnte", pooled=True) == 90


def test_my_work_lists_stale_companies_longest_first_with_days_and_threshold(make, auth, client):
    officer = make.user("officer")
    older = make.company(name="最久未走访", officer=officer, district="511703", park="达州高新区")
    newer = make.company(name="较久未走访", officer=officer)
    add_visit(older, officer, days_ago=300)
    add_visit(newer, officer, days_ago=200)
    make.company(name="别人的企业", officer=make.user("officer"), created_at=registered_days_ago(400))
    auth.login(officer)
    page = client.get("/work").get_data(as_text=True)
    assert page.index("最久未走访") < page.index("较久未走访")
    assert "300 天" in page and "超期标准 180 天" in page
    assert "达川区 · 达州高新区" in page  # its park too: a park officer's company may sit in another district
    assert "别人的企业" not in page



def test_the_stale_list_is_capped_and_counts_them_all(make):
    officer = make.user("officer")
    for days in (300, 250, 200):
        add_visit(make.company(name=f"{days} 天未走访", officer=officer), officer, days_ago=days)
    rows, total = stale_companies(WorkScope(officer_id=officer.id), officer, today(), limit=2)
    assert ([r.company.name for r in rows], total) == (["300 天未走访", "250 天未走访"], 3)
    assert stale_companies(WorkScope(officer_id=make.user("officer").id), officer, today()) == ([], 0)

# --- follow-ups and deadlines on My work -------------------------------------------------------------

def test_my_work_shows_my_overdue_and_upcoming_follow_ups(make, auth, client):
    officer = make.user("officer")
    company = make.company(officer=officer)
    add_visit(company, officer, days_ago=20, follow_ups=[("逾期一天", -1), ("今天到期", 0), ("下周到期", 7), ("两月后", 60)])
    other = make.user("officer")
    add_visit(company, other, follow_ups=[("别人的事项", -3)])
    auth.login(officer)
    page = client.get("/work").get_data(as_text=True)
    overdue, upcoming = page.split('id="overdue"')[1].split('id="upcoming"')
    upcoming = upcoming.split('id="deadlines"')[0]
    assert "逾期一天" in overdue and "今天到期" not in overdue
    assert "今天到期" in upcoming and "下周到期" in upcoming and "两月后" not in upcoming
    assert "另有 1 项更晚到期" in upcoming
    assert "别人的事项" not in page
    deadlines = page.split('id="deadlines"')[1]
    assert "下周到期" not in deadlines  # listed once, with the follow-ups
    add_visit(company, officer, follow_ups=[("四十五天后", 45)])
    deadlines = client.get("/work").text.split('id="deadlines"')[1]
    assert "四十五天后" in deadlines  # beyond the follow-up lists' 30 days: among the 60 days' deadlines


def test_my_work_shows_my_companies_deadlines_for_the_next_60_days(make, auth, client, monkeypatch):
    officer = make.user("officer")
    calls = []

    def deadlines(officer_id, start, days=60, area_ids=None):
        calls.append((officer_id, start, days))
        return [Deadline("hnte_expiry", start + timedelta(days=30), "高企证书 GR2023 到期（最后有效日）", 7, "川东电子有限公司",
                         "91511702000000001X", officer_id)]

    monkeypatch.setattr("crm.work.routes.upcoming_deadlines", deadlines)
    auth.login(officer)
    page = client.get("/work").get_data(as_text=True)
    assert calls == [(officer.id, today(), 60)]  # the officer is not limited to areas: area_ids None
    assert "高企证书 GR2023 到期（最后有效日）" in page and "川东电子有限公司" in page and "30 天后" in page


def test_my_work_names_no_company_outside_my_areas_even_one_still_assigned_to_me(make, auth, client):
    officer = make.user("officer", areas=["511703"])
    outside = make.company(name="区外企业", district="511702", officer_id=officer.id)
    inside = make.company(name="区内企业", district="511703", officer_id=officer.id)
    for company in (outside, inside):
        db.session.add(FollowUp(company_id=company.id, title=f"{company.name}的事项", owner_id=officer.id,
                                due_on=today() + timedelta(days=10)))
    db.session.commit()
    auth.login(officer)
    page = client.get("/work").text
    assert "区内企业" in page and "区外企业" not in page


def test_the_officer_home_page_is_my_work(make, auth, client):
    auth.login(make.user("officer"))
    assert client.get("/").headers["Location"] == "/work"


# --- admins: per officer and per district -------------------------------------------------------------

def test_an_admin_sees_an_officers_or_a_districts_work(make, auth, client):
    zhang, li = make.user("officer", display_name="张伟"), make.user("officer", display_name="李萍")
    tongchuan = make.company(name="通川企业", district="511702", officer=zhang)
    quxian = make.company(name="渠县企业", district="511725", officer=li)
    add_visit(tongchuan, zhang, days_ago=200, follow_ups=[("张的事项", -2)])
    add_visit(quxian, li, days_ago=5, follow_ups=[("李的事项", 3)])
    auth.login(make.user("admin"))
    by_officer = client.get(f"/work?officer={zhang.id}").get_data(as_text=True)
    assert "张伟 的工作" in by_officer and "张的事项" in by_officer and "通川企业" in by_officer
    assert "李的事项" not in by_officer
    by_district = client.get(f"/work?district={make.area('511725').id}").get_data(as_text=True)
    assert "渠县 的工作" in by_district and "李的事项" in by_district and "张的事项" not in by_district
    team = client.get("/work/team").get_data(as_text=True)
    zhang_row = team.split(f'/work?officer={zhang.id}"')[1].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in zhang_row.split("</td>")[1:6]] == ["1", "1", "1", "1", "0"]


def test_a_deactivated_officer_still_holding_companies_stays_on_the_team_page(make, auth, client):
    """Their companies and follow-ups are still theirs until an admin hands them on: they must not vanish."""
    li = make.user("officer", display_name="李萍")
    add_visit(make.company(name="渠县企业", district="511725", officer=li), li, days_ago=5, follow_ups=[("李的事项", -1)])
    make.user("officer", display_name="王五", active=False)  # holds nothing: not listed
    li.active = False
    db.session.commit()
    auth.login(make.user("admin"))
    team = client.get("/work/team").text
    row = team.split(f'/work?officer={li.id}">')[1].split("</tr>")[0]
    assert row.startswith("李萍（已停用）")
    assert [cell.split(">")[-1] for cell in row.split("</td>")[1:5]] == ["1", "0", "1", "1"]
    assert "王五" not in team


def test_a_districts_work_shows_each_follow_ups_company_owner_and_days_overdue(make, auth, client):
    zhang = make.user("officer", display_name="张伟")
    company = make.company(name="通川电子", district="511702", officer=zhang)
    visit = add_visit(company, zhang, days_ago=10, follow_ups=[("张的事项", -3), ("无人事项", 2)])
    ownerless = next(fu for fu in visit.follow_ups if fu.title == "无人事项")
    ownerless.owner_id = None
    db.session.commit()
    auth.login(make.user("admin"))
    page = client.get(f"/work?district={make.area('511702').id}").get_data(as_text=True)
    items = {re.search(r'class="fu-title"[^>]*>([^<]+)', li).group(1): li
             for li in re.findall(r'data-follow-up="\d+">(.*?)</li>', page, re.S)}
    assert set(items) == {"张的事项", "无人事项"}
    assert f'href="/companies/{company.id}">通川电子</a>' in items["张的事项"]
    assert "张伟" in items["张的事项"] and "逾期 3 天" in items["张的事项"]
    assert "（无负责人）" in items["无人事项"] and "逾期" not in items["无人事项"]


def test_an_officer_cannot_look_at_someone_elses_work(make, auth, client):
    me, other = make.user("officer"), make.user("officer")
    add_visit(make.company(officer=other), other, follow_ups=[("别人的事项", -1)])
    auth.login(me)
    assert "别人的事项" not in client.get(f"/work?officer={other.id}").get_data(as_text=True)
    assert client.get("/work/team").status_code == 403


# --- constant number of queries ----------------------------------------------------------------------

def _measure(count_queries, client, url: str) -> int:
    db.session.expire_all()  # the test shares the app's session: start both runs from the same state
    with count_queries() as q:
        assert client.get(url).status_code == 200
    return q.count


def _workload(make, officer, n: int) -> None:
    for i in range(n):
        company = make.company(officer=officer, created_at=registered_days_ago(400))
        pooled(company) if i % 2 else None
        make.cert(company, "tech_sme", year=today().year, issued_on=date(today().year, 1, 1))
        add_visit(company, officer, days_ago=100 + i, needs=["资金支持"], follow_ups=[("逾期", -1), ("将到期", 5)])


def test_my_work_runs_the_same_number_of_queries_for_3_and_15_companies(make, auth, client, count_queries):
    officer = make.user("officer")
    admin = make.user("admin")
    _workload(make, officer, 3)
    auth.login(officer)
    small = _measure(count_queries, client, "/work")
    _workload(make, officer, 12)
    assert _measure(count_queries, client, "/work") == small
    auth.logout()
    auth.login(admin)
    small = _measure(count_queries, client, "/work/team")
    _workload(make, officer, 5)
    assert _measure(count_queries, client, "/work/team") == small


def _history(make, company, officer, n: int) -> None:
    round_ = Round(kind="hnte", year=today().year, name=f"{today().year}年高企认定（{n} 条记录）", opens_on=days_ago(30),
                   closes_on=today())
    for i in range(n):
        add_visit(company, officer, days_ago=i, needs=["人才引进"], follow_ups=[("事项", i - 3)])
        make.cert(company, "tech_sme", year=today().year - i, issued_on=date(today().year - i, 6, 1))
        application = Application(company=company, round=round_, stage="withdrawn", officer_id=officer.id)
        application.moves.append(ApplicationMove(from_stage="intent", to_stage="withdrawn", moved_by_id=officer.id))
        db.session.add_all([application, AuditLog(entity="company", entity_id=company.id, company_id=company.id,
                                                  action="update", user_id=officer.id, changes={"name": ["甲", "乙"]})])
    db.session.commit()


def test_the_timeline_runs_the_same_number_of_queries_for_short_and_long_histories(make, auth, client, count_queries):
    officer = make.user("officer")
    company = make.company(officer=officer)
    _history(make, company, officer, 2)
    auth.login(officer)
    small = _measure(count_queries, client, f"/companies/{company.id}")
    _history(make, company, officer, 30)
    assert _measure(count_queries, client, f"/companies/{company.id}") == small


# --- the company timeline ----------------------------------------------------------------------------

def test_the_timeline_shows_every_kind_newest_first_and_filters_by_kind(make, auth, client):
    officer = make.user("officer")
    company = make.company(officer=officer)
    make.cert(company, "tech_sme", year=today().year - 1, issued_on=date(today().year - 1, 6, 1))
    add_visit(company, officer, days_ago=3, follow_ups=[("跟进甲", 10)])
    _history(make, company, officer, 1)
    auth.login(officer)
    page = client.get(f"/companies/{company.id}").get_data(as_text=True)
    timeline = page.split('id="timeline"')[1]
    kinds = re.findall(r'<li class="entry-(\w+)', timeline)
    assert set(kinds) == {"visit", "follow_up", "certification", "application", "edit"}
    assert kinds[0] == "follow_up"  # due in ten days: the newest date on the timeline
    assert kinds[-1] == "certification"  # issued last year: the oldest
    only_visits = client.get(f"/companies/{company.id}?tl=visit").get_data(as_text=True).split('id="timeline"')[1]
    assert set(re.findall(r'<li class="entry-(\w+)', only_visits)) == {"visit"}


def test_a_timeline_visit_shows_its_officers_needs_and_how_many_follow_ups(make, auth, client):
    officer = make.user("officer")
    officer.display_name = "走访干部"
    company = make.company(officer=officer)
    add_visit(company, officer, days_ago=2, follow_ups=[("跟进甲", 5), ("跟进乙", 9)], needs=["资金支持"])
    add_visit(company, officer, days_ago=1)
    auth.login(officer)
    visits = client.get(f"/companies/{company.id}?tl=visit").get_data(as_text=True).split('<li class="entry-visit')[1:]
    assert len(visits) == 2
    assert "走访干部" in visits[1] and "资金支持" in visits[1] and "跟进事项 2 项" in visits[1]
    assert "跟进事项" not in visits[0]


def test_the_timeline_is_paginated(make, auth, client):
    officer = make.user("officer")
    company = make.company(officer=officer)
    for n in range(25):
        add_visit(company, officer, days_ago=n)
    auth.login(officer)
    first = client.get(f"/companies/{company.id}?tl=visit").get_data(as_text=True).split('id="timeline"')[1]
    assert first.count('<li class="entry-visit') == 20 and "tl_page=2" in first
    second = client.get(f"/companies/{company.id}?tl=visit&tl_page=2").get_data(as_text=True).split('id="timeline"')[1]
    assert second.count('<li class="entry-visit') == 5 and days_ago(24).isoformat() in second


# --- the staleness setting (admin) -------------------------------------------------------------------

def test_an_admin_sets_the_staleness_thresholds_per_pool_and_standing(make, auth, client):
    auth.login(make.user("admin"))
    form = {"stale-pooled": "60", "stale-default": "120", "stale-hnte": "90", "stale-gazelle": "", "stale-tech_sme": "",
            "stale-none": ""}
    assert client.post("/visits/settings/staleness", data=form).status_code == 302
    assert get_setting("visit_staleness") == {"pooled": 60, "default": 120, "hnte": 90}
    assert client.post("/visits/settings/staleness", data={**form, "stale-pooled": "0"}).status_code == 422
    assert get_setting("visit_staleness")["pooled"] == 60
