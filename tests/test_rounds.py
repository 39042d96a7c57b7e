"""Rounds and the application pipeline (DOMAIN §1): the rules, on the real database, and the CLI."""
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.ladder.queries import standings_for
from crm.models import Application, ApplicationMove, AuditLog, Certification, FollowUp, Round
from crm.models.ladder import OPEN_STAGES
from crm.rounds.service import (
    TRANSITIONS, ApplicationError, RoundError, StaleMove, board_columns, BoardFilter, card_of, move_application,
    open_application, reopen_application, save_round,
)
from tests.conftest import d

T0 = datetime(2025, 7, 1, 2, 0)  # 10:00 in 达州
ON = date(2025, 7, 1)


def make_round(kind="tech_sme", year=2025, opens="2025-06-30", closes="2025-09-30", name=None) -> Round:
    round_ = save_round(Round(), kind, year, name or f"{year}年{kind}批次", d(opens), d(closes))
    db.session.commit()
    return round_


def opened(make, round_, company=None, officer=None):
    officer = officer or make.user("officer")
    company = company or make.company(officer=officer)
    application = open_application(company, round_, by=officer, now=T0, on=ON)
    db.session.commit()
    return application, officer


def walk(application, stages, by, start=T0, **extra):
    """Move through `stages`, one day apart; returns the time of the last move."""
    at = start
    for stage in stages:
        at += timedelta(days=1)
        move_application(application, stage, by=by, now=at, on=at.date(), **(extra if stage == stages[-1] else {}))
    db.session.commit()
    return at


# ---- rounds -------------------------------------------------------------------------------------------

def test_a_round_may_close_on_the_day_it_opens():
    round_ = make_round(opens="2025-06-30", closes="2025-06-30")
    assert round_.id and round_.closes_on == round_.opens_on


def test_a_round_closing_before_it_opens_is_refused():
    with pytest.raises(RoundError, match="早于开始日期"):
        save_round(Round(), "tech_sme", 2025, "倒置批次", d("2025-09-30"), d("2025-06-30"))


def test_a_second_round_of_the_same_kind_year_and_name_is_refused():
    first = make_round(name="2025年科小评价")
    with pytest.raises(RoundError, match="2025 年已有同类型的批次“2025年科小评价”"):
        save_round(Round(), "tech_sme", 2025, " 2025年科小评价 ", d("2025-07-01"), d("2025-09-30"))
    with pytest.raises(RoundError, match="已有同类型的批次"):
        save_round(Round(), "tech_sme", 2025, "２０２５年科小评价", d("2025-07-01"), d("2025-09-30"))
    assert save_round(first, "tech_sme", 2025, "2025年科小评价", d("2025-07-01"), d("2025-09-30")) is first  # editing it
    assert save_round(Round(), "hnte", 2025, "2025年科小评价", d("2025-07-01"), d("2025-09-30")).id
    typed = save_round(Round(), "tech_sme", 2025, "２０２５年科小补录（已截止）", d("2025-07-01"), d("2025-09-30"))
    assert typed.name == "2025年科小补录（已截止）"  # digits half-width, the Chinese brackets as written
    with pytest.raises(RoundError, match="已有同类型的批次"):  # the same name, whichever width its brackets
        save_round(Round(), "tech_sme", 2025, "2025年科小补录(已截止)", d("2025-07-01"), d("2025-09-30"))


def test_the_same_round_created_by_another_admin_meanwhile_is_refused_not_a_crash():
    """Both checked before either wrote: the database's one name per kind and year decides, with the same reason."""
    from sqlalchemy import event

    def another_admin_first(*_args):  # commits between this request's check and its write
        with db.engine.begin() as other:
            other.execute(Round.__table__.insert().values(kind="hnte", year=2025, name="第二批", opens_on=d("2025-08-01"),
                                                          closes_on=d("2025-10-31"), created_at=T0))

    event.listen(db.session(), "before_flush", another_admin_first, once=True)
    with pytest.raises(RoundError, match="2025 年已有同类型的批次“第二批”"):
        save_round(Round(), "hnte", 2025, "第二批", d("2025-08-01"), d("2025-10-31"))
    assert db.session.scalars(select(Round.name).where(Round.name == "第二批")).all() == ["第二批"]


def test_a_round_of_an_unknown_kind_is_refused():
    with pytest.raises(RoundError, match="资质类型"):
        save_round(Round(), "unicorn", 2025, "独角兽", d("2025-06-30"), d("2025-09-30"))


def test_a_round_with_applications_keeps_its_kind_and_year(make):
    round_ = make_round()
    opened(make, round_)
    with pytest.raises(RoundError, match="不能修改资质类型或年度"):
        save_round(round_, "hnte", 2025, round_.name, round_.opens_on, round_.closes_on)
    save_round(round_, "tech_sme", 2025, "改名后的批次", round_.opens_on, d("2025-10-15"))  # window and name may change
    assert round_.closes_on == d("2025-10-15")


# ---- opening ------------------------------------------------------------------------------------------

def test_an_application_opens_at_intent_with_its_first_move(make):
    round_ = make_round()
    application, officer = opened(make, round_)
    assert application.stage == "intent" and application.officer_id == officer.id
    (first,) = application.moves
    assert (first.from_stage, first.to_stage, first.moved_by_id, first.seconds_in_previous) == (None, "intent", officer.id, None)


def test_a_company_cannot_have_two_open_applications_in_one_round(make):
    round_ = make_round()
    application, officer = opened(make, round_)
    with pytest.raises(ApplicationError, match="已有进行中的申报"):
        open_application(application.company, round_, by=officer, now=T0, on=ON)


def test_the_database_refuses_a_second_open_application_too(make):
    round_ = make_round()
    application, _ = opened(make, round_)
    db.session.add(Application(company_id=application.company_id, round_id=round_.id, stage="coaching"))
    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize("closing", [("withdrawn", {"reason": "企业放弃"}), ("rejected", {"reason": "研发占比不足"})])
def test_after_a_closed_application_a_new_one_may_be_opened(make, closing):
    round_ = make_round()
    application, officer = opened(make, round_)
    stage, extra = closing
    path = ["withdrawn"] if stage == "withdrawn" else ["coaching", "preparing", "submitted", "rejected"]
    walk(application, path, officer, **extra)
    again = open_application(application.company, round_, by=officer, now=T0 + timedelta(days=9), on=ON)
    db.session.commit()
    assert again.id != application.id and again.stage == "intent"


def test_the_same_company_may_apply_in_another_round(make):
    application, officer = opened(make, make_round())
    other = make_round(kind="hnte", name="高企批次")
    assert open_application(application.company, other, by=officer, now=T0, on=ON).stage == "intent"


def test_no_application_opens_in_a_closed_round(make):
    round_ = make_round(closes="2025-09-30")
    company = make.company()
    with pytest.raises(ApplicationError, match="截止"):
        open_application(company, round_, by=None, now=T0, on=d("2025-10-01"))
    assert open_application(company, round_, by=None, now=T0, on=d("2025-09-30")).stage == "intent"


def test_no_application_for_a_rung_already_held_through_the_year(make):
    company = make.company()
    make.cert(company, "tech_sme", year=2025, number="2025511702A0001")
    with pytest.raises(ApplicationError, match="已持有"):
        open_application(company, make_round(), by=None, now=T0, on=ON)


def test_a_tech_sme_registration_revoked_this_year_cannot_be_applied_for_again(make):
    company = make.company()
    make.cert(company, "tech_sme", year=2025, number="2025511702A0001", status="revoked")
    with pytest.raises(ApplicationError, match="已被撤销，当年不能再申报"):
        open_application(company, make_round(year=2025), by=None, now=T0, on=ON)
    assert open_application(company, make_round(year=2026, opens="2026-06-30", closes="2026-09-30"),
                            by=None, now=T0, on=ON).stage == "intent"


def test_a_hnte_expiring_during_the_round_year_may_apply_again(make):
    company = make.company()
    make.cert(company, "hnte", issued_on=d("2022-11-20"), number="GR202251000001")  # valid through 2025-11-19
    round_ = make_round(kind="hnte", opens="2025-05-01", closes="2025-08-31")
    assert open_application(company, round_, by=None, now=T0, on=ON).stage == "intent"


# ---- moving -------------------------------------------------------------------------------------------

def test_each_move_keeps_who_when_from_to_and_seconds_in_the_previous_stage(make):
    application, officer = opened(make, make_round())
    later = T0 + timedelta(days=3, hours=2)
    move = move_application(application, "coaching", by=officer, now=later, on=later.date())
    db.session.commit()
    assert (move.from_stage, move.to_stage, move.moved_by_id, move.moved_at) == ("intent", "coaching", officer.id, later)
    assert move.seconds_in_previous == 3 * 86400 + 7200
    assert (application.stage, application.stage_since) == ("coaching", later)


def test_the_full_path_to_approval_is_kept_in_order(make):
    application, officer = opened(make, make_round())
    walk(application, ["coaching", "preparing", "submitted", "publicised", "approved"], officer, number="20255117A001")
    stages = db.session.execute(
        select(ApplicationMove.from_stage, ApplicationMove.to_stage)
        .where(ApplicationMove.application_id == application.id).order_by(ApplicationMove.moved_at)
    ).all()
    assert stages == [(None, "intent"), ("intent", "coaching"), ("coaching", "preparing"), ("preparing", "submitted"),
                      ("submitted", "publicised"), ("publicised", "approved")]


def test_approving_a_tech_sme_application_registers_it_for_the_round_year(make):
    application, officer = opened(make, make_round(year=2025))
    company_id = application.company_id
    assert standings_for([company_id], d("2025-11-01"))[company_id].rung == "none"
    walk(application, ["coaching", "preparing", "submitted", "approved"], officer, number="2025511702A0042")
    cert = db.session.get(Certification, application.certification_id)
    assert (cert.kind, cert.year, cert.number, cert.source, cert.company_id) == (
        "tech_sme", 2025, "2025511702A0042", "application", company_id)
    assert (cert.valid_from, cert.valid_until) == (d("2025-01-01"), d("2025-12-31"))  # no issue date: from 1 January
    assert standings_for([company_id], d("2025-11-01"))[company_id].rung == "tech_sme"
    assert standings_for([company_id], d("2026-01-01"))[company_id].rung == "none"


def test_approving_a_hnte_application_needs_the_certificate_number_and_issue_date(make):
    application, officer = opened(make, make_round(kind="hnte"))
    walk(application, ["submitted", "publicised"], officer)
    at = T0 + timedelta(days=10)
    with pytest.raises(ApplicationError, match="证书编号和发证日期"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), number="GR202551000123")
    with pytest.raises(ApplicationError, match="证书编号和发证日期"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), issued_on=d("2025-07-05"))
    assert application.stage == "publicised" and application.certification_id is None


def test_a_move_made_meanwhile_by_another_request_makes_this_one_stale(make):
    """Two people approve and withdraw the same application at once: the later one is refused, whatever its
    page said, and leaves no certification behind (the stage is claimed in the database, not only in Python)."""
    application, officer = opened(make, make_round())
    at = walk(application, ["submitted"], officer) + timedelta(days=1)
    assert application.stage == "submitted"  # this request has read the application
    with db.engine.begin() as other:  # the other request's move, committed before this one writes
        other.execute(Application.__table__.update().where(Application.id == application.id).values(stage="withdrawn"))
    with pytest.raises(StaleMove, match="已被移动到“放弃”"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), expected_from="submitted")
    assert db.session.scalars(select(Certification)).all() == []  # refused before anything was recorded
    db.session.rollback()
    assert [m.to_stage for m in db.session.get(Application, application.id).moves] == ["intent", "submitted"]


def test_approving_refuses_a_company_that_already_holds_the_kind_for_the_year(make):
    """Recorded meanwhile by an import, or approved in another round: no second registration, no double count."""
    application, officer = opened(make, make_round())
    make.cert(application.company, "tech_sme", year=2025, issued_on=d("2025-07-05"))
    at = walk(application, ["submitted"], officer) + timedelta(days=1)
    with pytest.raises(ApplicationError, match="已持有 2025 年有效的科技型中小企业资质"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), number="KX-2")
    db.session.rollback()
    assert len(db.session.scalars(select(Certification)).all()) == 1


def test_a_certification_recorded_meanwhile_keeps_a_new_application_from_opening(make):
    """The company's certifications are read again once it is claimed, not as this request first loaded them:
    approved in another round a moment ago, it cannot open an application for what it now holds."""
    officer = make.user("officer")
    company = make.company(officer=officer)
    assert company.certifications == []  # loaded by this request
    with db.engine.begin() as other:  # another request's approval, committed meanwhile
        other.execute(Certification.__table__.insert().values(
            company_id=company.id, kind="tech_sme", year=2025, number="KX-1", status="valid",
            valid_from=d("2025-01-01"), valid_until=d("2025-12-31"), source="application"))
    with pytest.raises(ApplicationError, match="已持有 2025 年有效的科技型中小企业资质"):
        open_application(company, make_round(name="第二批"), by=officer, now=T0, on=ON)


def test_one_open_application_per_kind_and_year_whichever_round(make):
    first = make_round(kind="hnte", name="2025年第一批高企认定")
    application, officer = opened(make, first)
    second = make_round(kind="hnte", name="2025年第二批高企认定")
    with pytest.raises(ApplicationError, match="已在“2025年第一批高企认定”中申报2025年高新技术企业"):
        open_application(application.company, second, by=officer, now=T0, on=ON)
    walk(application, ["withdrawn"], officer, reason="转入第二批")
    assert open_application(application.company, second, by=officer, now=T0, on=ON).round_id == second.id
    assert open_application(application.company, make_round(kind="tech_sme"), by=officer, now=T0, on=ON)


def test_a_hnte_certificate_from_an_approval_is_issued_in_the_round_s_year(make):
    application, officer = opened(make, make_round(kind="hnte"))
    at = walk(application, ["submitted", "publicised"], officer) + timedelta(days=1)
    with pytest.raises(ApplicationError, match="发证日期应在 2025 年内"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), number="GR201951000001",
                         issued_on=d("2019-01-05"))


def test_approving_a_hnte_application_records_a_three_year_certificate(make):
    application, officer = opened(make, make_round(kind="hnte", year=2025))
    at = walk(application, ["submitted", "publicised"], officer) + timedelta(days=1)
    move_application(application, "approved", by=officer, now=at, on=at.date(), number="GR202551000123",
                     issued_on=d("2025-07-03"))
    db.session.commit()
    cert = db.session.get(Certification, application.certification_id)
    assert (cert.kind, cert.number, cert.issued_on, cert.year, cert.source) == (
        "hnte", "GR202551000123", d("2025-07-03"), None, "application")
    assert cert.valid_until == d("2028-07-02")
    company_id = application.company_id
    assert standings_for([company_id], d("2025-07-03"))[company_id].rung == "hnte"
    assert standings_for([company_id], d("2025-07-02"))[company_id].rung == "none"
    assert application.moves[-1].note == "证书编号 GR202551000123"


def test_a_certificate_cannot_be_dated_in_the_future(make):
    application, officer = opened(make, make_round(kind="hnte"))
    at = walk(application, ["submitted"], officer)
    with pytest.raises(ApplicationError, match="不能晚于今天"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), number="GR1",
                         issued_on=at.date() + timedelta(days=1))


def test_approving_a_gazelle_application_takes_the_year_from_the_round(make):
    application, officer = opened(make, make_round(kind="gazelle", year=2025))
    walk(application, ["submitted", "approved"], officer)
    cert = db.session.get(Certification, application.certification_id)
    assert (cert.kind, cert.year, cert.number) == ("gazelle", 2025, "")
    assert standings_for([application.company_id], d("2025-12-31"))[application.company_id].rung == "gazelle"


def test_a_tech_sme_issue_date_must_fall_in_the_round_year(make):
    application, officer = opened(make, make_round(year=2025))
    at = walk(application, ["submitted"], officer)
    with pytest.raises(ApplicationError, match="应在 2025 年内"):
        move_application(application, "approved", by=officer, now=at, on=at.date(), issued_on=d("2024-12-31"))


@pytest.mark.parametrize("stage", ["rejected", "withdrawn"])
def test_rejected_and_withdrawn_need_a_reason(make, stage):
    application, officer = opened(make, make_round())
    walk(application, ["submitted"], officer)
    at = T0 + timedelta(days=5)
    for blank in ("", "   "):
        with pytest.raises(ApplicationError, match="需要填写原因"):
            move_application(application, stage, by=officer, now=at, on=at.date(), reason=blank)
    move = move_application(application, stage, by=officer, now=at, on=at.date(), reason="  研发费用占比不足 ")
    db.session.commit()
    assert (application.stage, application.reason, move.note) == (stage, "研发费用占比不足", "研发费用占比不足")
    assert application.certification_id is None


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_any_open_stage_may_be_withdrawn(make, stage):
    application, officer = opened(make, make_round())
    path = {"intent": [], "coaching": ["coaching"], "preparing": ["preparing"], "submitted": ["submitted"],
            "publicised": ["submitted", "publicised"]}[stage]
    walk(application, path + ["withdrawn"], officer, reason="企业放弃")
    assert application.stage == "withdrawn"


@pytest.mark.parametrize("path, refused", [
    ([], "approved"),  # no result before submission
    ([], "publicised"),
    (["coaching", "preparing"], "intent"),  # back two steps
    (["submitted", "publicised"], "preparing"),
    (["submitted"], "intent"),
    ([], "intent"),  # staying put is not a move
])
def test_invalid_transitions_are_refused(make, path, refused):
    application, officer = opened(make, make_round())
    walk(application, path, officer)
    stage = application.stage
    with pytest.raises(ApplicationError, match="不能从"):
        move_application(application, refused, by=officer, now=T0 + timedelta(days=9), on=ON, reason="x")
    assert application.stage == stage and len(application.moves) == len(path) + 1


@pytest.mark.parametrize("closed, extra", [("approved", {}), ("rejected", {"reason": "不符合"}), ("withdrawn", {"reason": "放弃"})])
def test_closed_stages_are_final(make, closed, extra):
    application, officer = opened(make, make_round())
    walk(application, ["submitted", closed], officer, **extra)
    assert TRANSITIONS[closed] == ()
    for target in ("intent", "submitted", "publicised", "withdrawn"):
        with pytest.raises(ApplicationError, match="阶段不能再变更"):
            move_application(application, target, by=officer, now=T0 + timedelta(days=9), on=ON, reason="x")


@pytest.mark.parametrize("back_from, to", [("coaching", "intent"), ("preparing", "coaching"), ("submitted", "preparing"),
                                           ("publicised", "submitted")])
def test_an_application_may_go_back_one_step(make, back_from, to):
    application, officer = opened(make, make_round())
    path = {"coaching": ["coaching"], "preparing": ["preparing"], "submitted": ["submitted"],
            "publicised": ["submitted", "publicised"]}[back_from]
    walk(application, path + [to], officer)
    assert application.stage == to


def test_a_move_based_on_a_stale_page_is_refused(make):
    application, officer = opened(make, make_round())
    walk(application, ["coaching"], officer)
    with pytest.raises(StaleMove, match="已被移动到“辅导”"):
        move_application(application, "coaching", by=officer, now=T0 + timedelta(days=3), on=ON, expected_from="intent")


def test_an_unknown_stage_is_refused(make):
    application, officer = opened(make, make_round())
    with pytest.raises(ApplicationError, match="未知的阶段"):
        move_application(application, "shipped", by=officer, now=T0, on=ON)


# ---- the board ----------------------------------------------------------------------------------------

def test_board_columns_are_capped_and_count_every_card(make):
    round_ = make_round()
    officer = make.user("officer")
    for _ in range(3):
        opened(make, round_, officer=officer)
    columns = {c.stage: c for c in board_columns(officer, round_.id, BoardFilter(), cap=2)}
    assert (columns["intent"].count, len(columns["intent"].cards), columns["intent"].more) == (3, 2, 1)
    assert columns["coaching"].count == 0 and columns["coaching"].cards == []


def test_board_filters_by_area_and_officer(make):
    round_ = make_round()
    a, b = make.user("officer"), make.user("officer")
    opened(make, round_, company=make.company(district="511702", officer=a), officer=a)
    opened(make, round_, company=make.company(district="511725", officer=b), officer=b)
    admin = make.user("admin")

    def names(**kw):
        return sorted(c.officer_label for col in board_columns(admin, round_.id, BoardFilter(**kw)) for c in col.cards)

    assert names() == sorted([a.label, b.label])
    assert names(area_id=make.area("511725").id) == [b.label]
    assert names(officer_id=a.id) == [a.label]
    assert names(officer_id=0) == []


def test_board_cards_carry_what_a_card_shows(make):
    round_ = make_round()
    named, unnamed = make.user("officer"), make.user("officer")
    named.display_name, unnamed.display_name = "王干部", ""
    for name, officer in (("甲企业", named), ("乙企业", unnamed), ("丙企业", None)):
        application, _ = opened(make, round_, company=make.company(name=name, officer=officer or named))
        application.officer = officer
    db.session.commit()
    cards = {c.stage: c for c in board_columns(make.user("admin"), round_.id, BoardFilter())}["intent"].cards
    assert sorted((c.company_name, c.officer_label) for c in cards) == [
        ("丙企业", None), ("乙企业", unnamed.username), ("甲企业", "王干部")]
    assert {card_of(db.session.get(Application, c.id)) for c in cards} == set(cards)


# ---- CLI ----------------------------------------------------------------------------------------------

def test_cli_creates_a_round_from_chinese_dates(runner):
    result = runner.invoke(args=["rounds", "create", "--kind", "tech_sme", "--year", "2025", "--name", "2025年科小评价",
                                 "--opens", "2025年6月30日", "--closes", "２０２５/9/30"])
    assert result.exit_code == 0, result.output
    round_ = db.session.scalar(select(Round))
    assert (round_.kind, round_.year, round_.name, round_.opens_on, round_.closes_on) == (
        "tech_sme", 2025, "2025年科小评价", d("2025-06-30"), d("2025-09-30"))
    assert result.output.strip() == f"created round {round_.id}: tech_sme 2025 2025年科小评价 2025-06-30 ~ 2025-09-30"


@pytest.mark.parametrize("args, reason", [
    (["--opens", "2025-13-01", "--closes", "2025-09-30"], "开始日期“2025-13-01”不是有效的日历日期"),
    (["--opens", "明天", "--closes", "2025-09-30"], "开始日期“明天”无法识别"),
    (["--opens", "2025-09-30", "--closes", "2025-06-30"], "截止日期 2025-06-30 早于开始日期 2025-09-30"),
    (["--opens", "2025-06-30", "--closes", "2025-09-30", "--kind", "unicorn"], "资质类型必须是"),
    (["--opens", "2025-06-30", "--closes", "2025-09-30", "--year", "二〇二五"], "年度"),
])
def test_cli_refuses_bad_input_with_one_line_and_exit_1(runner, args, reason):
    base = {"--kind": "hnte", "--year": "2025", "--name": "高企批次"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    result = runner.invoke(args=["rounds", "create", *[x for pair in base.items() for x in pair]])
    assert result.exit_code == 1
    assert reason in result.output and len(result.output.strip().splitlines()) == 1
    assert db.session.scalar(select(Round)) is None


def test_open_applications_follow_their_company_to_a_new_officer(make, client, auth):
    """The board's officer, its officer filter and the round-deadline reminders follow who is responsible now:
    a company handed to another officer (its edit form, an import) takes its open applications along; a closed
    one keeps the officer who saw it through."""
    from tests.test_companies import edit_data
    from tests.test_transfer_import import company_row, run
    from workbooks import COMPANY_HEADERS

    application, zhang = opened(make, make_round())
    company = application.company
    closed, _ = opened(make, make_round(kind="hnte"), company=company, officer=zhang)
    walk(closed, ["withdrawn"], zhang, reason="企业放弃")
    li, wang, colleague = (make.user("officer", username=n) for n in ("li", "wang", "colleague"))
    mine, theirs, done = (FollowUp(company_id=company.id, title=t, owner_id=o.id, due_on=ON) for t, o in (
        ("补齐研发台账", zhang), ("对接银行", colleague), ("已办完", zhang)))
    done.done_at = T0
    db.session.add_all([mine, theirs, done])
    db.session.commit()
    auth.login(make.user("admin"))
    assert client.post(f"/companies/{company.id}/edit", data=edit_data(company, officer_id=li.id)).status_code == 302
    db.session.expire_all()
    assert (application.officer_id, closed.officer_id) == (li.id, zhang.id)
    # the departing officer's open follow-ups go along; a colleague's and a finished one stay
    assert (mine.owner_id, theirs.owner_id, done.owner_id) == (li.id, colleague.id, zhang.id)
    (event,) = mine.events
    assert (event.field, event.old, event.new, event.note) == ("owner", zhang.label, li.label, "随企业移交")
    result = run({"企业": [COMPANY_HEADERS, company_row(name=company.name, uscc=company.uscc, officer="wang")]})
    assert result.problems == []
    db.session.expire_all()
    assert (company.officer_id, application.officer_id, closed.officer_id) == (wang.id, wang.id, zhang.id)
    assert mine.owner_id == wang.id and len(mine.events) == 2  # the import hands over too
    board = client.get(f"/rounds/{application.round_id}?officer={wang.id}").get_data(as_text=True)
    assert f'id="app-{application.id}"' in board


# ---- correcting a result -------------------------------------------------------------------------------------

def test_an_approval_by_mistake_is_taken_back_with_its_certification_and_may_be_given_again(make):
    """A slip on the board (通过 instead of 公示) is corrected without revoking: a revoked 科小 would bar the
    company for the rest of the year (§2.4)."""
    application, officer = opened(make, make_round(year=2025))
    company_id = application.company_id
    at = walk(application, ["submitted", "publicised", "approved"], officer, number="2025511702A0042")
    cert_id = application.certification_id
    admin = make.user("admin")
    move = reopen_application(application, by=admin, now=at + timedelta(hours=1))
    db.session.commit()
    assert (application.stage, application.certification_id, move.from_stage, move.to_stage) == (
        "publicised", None, "approved", "publicised")
    assert move.note == "更正：撤回“通过”结果" and move.moved_by_id == admin.id
    assert db.session.get(Certification, cert_id) is None
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity == "certification",
                                                           AuditLog.entity_id == cert_id, AuditLog.action == "delete"))
    assert standings_for([company_id], d("2025-11-01"))[company_id].rung == "none"
    walk(application, ["approved"], officer, start=at + timedelta(hours=2), number="2025511702A0042")
    assert db.session.get(Certification, application.certification_id).status == "valid"


def test_a_rejection_in_a_closed_round_is_taken_back_to_the_stage_it_left(make):
    application, officer = opened(make, make_round())
    at = walk(application, ["submitted", "rejected"], officer, reason="材料不全")
    reopen_application(application, by=make.user("admin"), now=at + timedelta(days=200))
    db.session.commit()
    assert (application.stage, application.reason) == ("submitted", "")


def test_only_a_result_is_taken_back_and_not_beside_another_open_application(make):
    application, officer = opened(make, make_round())
    admin = make.user("admin")
    with pytest.raises(ApplicationError, match="只有已通过、未通过或放弃的申报可以撤回结果"):
        reopen_application(application, by=admin, now=T0 + timedelta(days=1))
    at = walk(application, ["withdrawn"], officer, reason="企业放弃")
    opened(make, make_round(name="2025年科小补录"), company=application.company, officer=officer)
    with pytest.raises(ApplicationError, match="已在“2025年科小补录”中有进行中的2025年科技型中小企业申报"):
        reopen_application(application, by=admin, now=at + timedelta(days=1))


def test_only_an_admin_takes_back_a_result_from_the_company_page(make, client, auth):
    application, officer = opened(make, make_round())
    walk(application, ["submitted", "rejected"], officer, reason="材料不全")
    auth.login(officer)
    assert "撤回结果" not in client.get(f"/companies/{application.company_id}").text
    assert client.post(f"/rounds/applications/{application.id}/reopen").status_code == 403
    auth.logout()
    auth.login(make.user("admin"))
    assert "撤回结果" in client.get(f"/companies/{application.company_id}").text
    response = client.post(f"/rounds/applications/{application.id}/reopen", follow_redirects=True)
    assert "已撤回" in response.text and "回到“已提交”" in response.text
    db.session.expire_all()
    assert application.stage == "submitted"


def test_a_result_is_not_taken_back_past_a_revocation_or_a_certification_held_since(make):
    """Found by the review: 撤回结果 deleted a registration revoked since (lifting §2.4's same-year bar) and reopened
    a rejection beside a 科小 the company was approved for in another round of the year."""
    application, officer = opened(make, make_round(year=2025))
    at = walk(application, ["submitted", "publicised", "approved"], officer)
    db.session.get(Certification, application.certification_id).status = "revoked"
    db.session.commit()
    admin = make.user("admin")
    with pytest.raises(ApplicationError, match="已被撤销，不能再撤回"):
        reopen_application(application, by=admin, now=at + timedelta(days=30))
    db.session.rollback()
    assert db.session.scalar(select(Certification.status)) == "revoked"

    first, officer = opened(make, make_round(year=2025, name="第一批"))
    at = walk(first, ["submitted", "rejected"], officer, reason="材料不全")
    second, _ = opened(make, make_round(year=2025, name="第二批"), company=first.company, officer=officer)
    walk(second, ["submitted", "publicised", "approved"], officer, start=at)
    with pytest.raises(ApplicationError, match="已持有 2025 年有效的科技型中小企业资质"):
        reopen_application(first, by=admin, now=at + timedelta(days=10))


def test_a_reopened_application_goes_to_the_company_s_officer_now(make):
    from crm.companies.service import save_company

    application, zhang = opened(make, make_round(year=2025))
    at = walk(application, ["submitted", "rejected"], zhang, reason="材料不全")
    li = make.user("officer", username="li")
    save_company(application.company, {"officer_id": li.id}, application.company.version)
    assert application.officer_id == zhang.id  # closed: kept by the officer who saw it through
    reopen_application(application, by=make.user("admin"), now=at + timedelta(days=3))
    db.session.commit()
    assert (application.stage, application.officer_id) == ("submitted", li.id)


def test_an_application_opened_while_its_company_is_handed_over_goes_to_the_new_officer(app, make):
    """Two requests at once (found by the review): the application read the officer of a Company loaded before the
    handover committed, after the handover had moved the open applications."""
    from crm.companies.service import save_company
    from crm.models import Company, User
    from tests.test_companies import run_together

    old, new = make.user("officer", username="old"), make.user("officer", username="new")
    company_id, round_id, old_id, new_id = make.company(officer=old).id, make_round().id, old.id, new.id
    loaded, saved, opened_id = threading.Event(), threading.Event(), []

    def open_request():
        with app.app_context():
            company = db.session.get(Company, company_id)
            assert company.officer_id == old_id  # as the request's page loaded it
            loaded.set()
            saved.wait(5)
            application = open_application(company, db.session.get(Round, round_id), by=db.session.get(User, old_id),
                                           now=T0, on=ON)
            db.session.commit()
            opened_id.append(application.id)

    def edit_request():
        with app.app_context():
            loaded.wait(5)
            company = db.session.get(Company, company_id)
            save_company(company, {"officer_id": new_id}, company.version)
            saved.set()

    run_together(open_request, edit_request)
    assert db.session.get(Application, opened_id[0]).officer_id == new_id
