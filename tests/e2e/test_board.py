"""Browser: move cards across a round's kanban board without a page reload, then read the moves on the company page."""
from datetime import timedelta

from playwright.sync_api import expect

from crm.clock import today, utcnow
from crm.extensions import db
from crm.models import Round
from crm.rounds.service import open_application, save_round
from tests.e2e.conftest import login


def test_cards_move_in_place_and_the_moves_show_in_the_company_history(page, make):
    officer = make.user("officer", areas=["511702"], display_name="张伟")
    company = make.company(name="川东智能科技有限公司", district="511702", officer=officer)
    on = today()
    round_ = save_round(Round(), "tech_sme", on.year, "本年科小评价", on - timedelta(days=10), on + timedelta(days=30))
    app = open_application(company, round_, by=officer, now=utcnow() - timedelta(days=4), on=on)
    db.session.commit()

    login(page, officer.username)
    page.goto(f"/rounds/{round_.id}")
    page.evaluate("window.stillTheSamePage = true")
    card = page.locator(f"#app-{app.id}")
    coaching = page.locator('.board-column[data-stage="coaching"]')

    card.drag_to(coaching)  # drag-and-drop
    expect(coaching.locator(f"#app-{app.id}")).to_be_visible()
    expect(coaching.locator("[data-count]")).to_have_text("1")
    expect(page.locator('.board-column[data-stage="intent"] [data-count]')).to_have_text("0")
    expect(page.locator("[data-board-status]")).to_contain_text("移到“辅导”")

    card = page.locator(f"#app-{app.id}")  # the card's own form, enhanced: 放弃 asks for a reason in a dialog
    card.locator("select[name=to]").select_option("withdrawn")
    card.get_by_role("button", name="移动").click()
    dialog = page.locator("[data-move-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea[name=reason]")).to_be_visible()  # only what this move needs is asked for
    expect(dialog.locator("input[name=number]")).to_be_hidden()
    expect(dialog.locator("input[name=issued_on]")).to_be_hidden()
    dialog.get_by_role("button", name="确定").click()
    expect(dialog.locator("[data-dialog-error]")).to_have_text("移到“放弃”需要填写原因")
    dialog.locator("textarea[name=reason]").fill("企业决定明年再报")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f'.board-column[data-stage="withdrawn"] #app-{app.id}')).to_contain_text("企业决定明年再报")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened

    page.goto(f"/companies/{company.id}")
    history = page.locator("#applications")
    expect(history).to_contain_text("意向 → 辅导")
    expect(history).to_contain_text("在意向停留 4 天")
    expect(history).to_contain_text("辅导 → 放弃")
    expect(history).to_contain_text("企业决定明年再报")
    expect(history).to_contain_text("张伟")
    assert page.outside == []
