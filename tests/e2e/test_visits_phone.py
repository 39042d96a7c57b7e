"""On a phone (375 × 667): from the company page, log a visit with two follow-ups; see it on the timeline and My work."""
from datetime import timedelta

from playwright.sync_api import expect

from crm.clock import today
from crm.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import login


def on_the_visit_form(page, make, **company):
    """An officer signed in, on the visit form of a company of theirs: (officer, company)."""
    officer = make.user("officer")
    company = make.company(officer=officer, **company)
    login(page, officer.username)
    page.goto(f"/visits/new?company={company.id}")
    return officer, company


def test_log_a_visit_with_two_follow_ups_from_the_company_page(phone_page, make):
    officer = make.user("officer", display_name="张伟")
    company = make.company(name="川东智能科技有限公司", officer=officer, contact_name="刘总")
    page = phone_page
    login(page, officer.username)
    assert page.url.endswith("/dashboard")  # INTERFACES.md: signing in leads to the dashboard

    page.goto(f"/companies/{company.id}")
    log_visit = page.get_by_role("link", name="+ 记录走访").first  # in the page head; the visits panel has one too
    assert log_visit.bounding_box()["y"] + log_visit.bounding_box()["height"] <= 667  # on the first screen
    log_visit.click()
    page.wait_for_url(f"**/visits/new?company={company.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    expect(page.locator("[data-follow-up-row]:visible")).to_have_count(1)
    page.fill("textarea[name=summary]", "座谈研发投入，企业计划明年申报高企。")
    chip = page.locator("label.chip", has_text="认定辅导")
    assert chip.bounding_box()["height"] >= 44  # a finger-sized target
    chip.click()
    page.fill("input[name='follow_ups-0-title']", "协助准备高企申报材料")
    page.get_by_role("button", name="+ 添加跟进事项").click()
    page.fill("input[name='follow_ups-1-title']", "对接银行办理天府科创贷")
    page.get_by_role("button", name="保存走访").click()

    page.wait_for_url(f"**/companies/{company.id}")
    expect(page.locator(".flash-success")).to_contain_text("含 2 项跟进")
    expect(page.locator(".flash-success")).to_be_in_viewport()  # the officer sees that it was saved
    timeline = page.locator("#timeline")
    expect(timeline.locator(".entry-visit")).to_contain_text("座谈研发投入")
    expect(timeline.locator(".entry-visit")).to_contain_text("认定辅导")
    expect(timeline.locator(".entry-follow_up")).to_have_count(2)

    page.goto("/work")
    upcoming = page.locator("#upcoming")
    expect(upcoming).to_contain_text("协助准备高企申报材料")
    expect(upcoming).to_contain_text("对接银行办理天府科创贷")
    expect(upcoming).to_contain_text("川东智能科技有限公司")


def test_the_add_button_keeps_adding_rows_past_the_three_the_page_starts_with(phone_page, make):
    page = phone_page
    officer, company = on_the_visit_form(page, make)
    for _ in range(3):
        page.get_by_role("button", name="+ 添加跟进事项").click()
    expect(page.locator("[data-follow-up-row]:visible")).to_have_count(4)
    expect(page.locator("input[name='follow_ups-3-title']")).to_be_focused()


def test_a_second_tap_on_a_slow_connection_sends_the_visit_once(phone_page, make, monkeypatch):
    import time

    import crm.visits.routes as routes

    saved = routes.log_visit
    monkeypatch.setattr(routes, "log_visit", lambda *a: (time.sleep(1.5), saved(*a))[1])  # a slow answer
    page = phone_page
    officer, company = on_the_visit_form(page, make)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.fill("textarea[name=summary]", "慢网双击")
    # The officer taps 保存走访, and again 0.3 s later while the first is on its way.
    page.evaluate("""() => { const save = [...document.querySelectorAll('button')].find(b => b.textContent.includes('保存走访'));
                            save.click(); setTimeout(() => save.click(), 300); }""")
    page.wait_for_url(f"**/companies/{company.id}")
    page.wait_for_timeout(500)
    assert len(posts) == 1


def test_correct_a_visit_then_delete_it_on_a_phone(phone_page, make):
    from tests.visit_data import add_visit

    officer = make.user("officer", display_name="张伟")
    company = make.company(name="川东智能科技有限公司", officer=officer)
    visit = add_visit(company, officer, follow_ups=[("推送研发费用后补助通知", 7)])
    page = phone_page
    login(page, officer.username)
    page.goto(f"/visits/{visit.id}")
    page.get_by_role("link", name="修改").click()
    page.wait_for_url(f"**/visits/{visit.id}/edit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.fill("textarea[name=summary]", "座谈研发投入（更正）")
    page.locator("label.chip", has_text="电话").click()
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url(f"**/visits/{visit.id}")
    expect(page.locator(".flash-success")).to_contain_text("已保存对走访记录的修改")
    expect(page.locator("p.summary")).to_have_text("座谈研发投入（更正）")
    expect(page.locator("main")).to_contain_text("走访方式：实地走访 → 电话")

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="删除").click()
    assert "1 项跟进事项仍保留" in dialogs[0]
    assert page.url.endswith(f"/visits/{visit.id}")  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除").click()
    page.wait_for_url(f"**/companies/{company.id}")
    expect(page.locator(".flash-success")).to_contain_text("1 项跟进事项仍在企业名下")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".entry-visit")).to_have_count(0)
    expect(timeline.locator(".entry-follow_up")).to_contain_text("推送研发费用后补助通知")


def test_a_corrections_old_and_new_values_use_the_width_of_the_page_on_a_desktop(page, make):
    from crm.visits.service import VisitDraft, correct_visit, visit_fingerprint
    from tests.visit_data import add_visit

    officer = make.user("officer")
    visit = add_visit(make.company(officer=officer), officer)
    draft = VisitDraft(visit.company_id, visit.visited_on, "phone", [officer.id], summary="座谈研发投入和高企申报计划" * 3)
    correct_visit(visit.id, draft, visit_fingerprint(visit), officer)
    login(page, officer.username)
    page.goto(f"/visits/{visit.id}")
    line = page.locator("main .timeline li li", has_text="走访情况：走访 → 座谈研发投入")
    assert line.bounding_box()["height"] < 60  # a line or two, not squeezed into the date column's 6.5rem


def test_a_visit_typed_when_the_sign_in_has_expired_is_still_there_after_signing_in_again(phone_page, make):
    """On site, the form open for an hour: the sign-in expires, 保存走访 lands on the login page. The typing is kept
    in the phone (drafts.js) and put back on the form; once saved, it is forgotten."""
    page = phone_page
    officer, company = on_the_visit_form(page, make, name="川东智能科技有限公司")
    page.fill("textarea[name=summary]", "座谈研发投入，企业计划明年申报高企。")
    page.locator("label.chip", has_text="电话").click()
    page.locator("label.chip", has_text="认定辅导").click()
    page.fill("input[name='follow_ups-0-title']", "协助准备高企申报材料")
    for _ in range(3):
        page.get_by_role("button", name="+ 添加跟进事项").click()
    page.fill("input[name='follow_ups-3-title']", "对接银行办理天府科创贷")  # a row the page did not start with
    from sqlalchemy import delete

    from crm.extensions import db
    from crm.models import LoginSession

    db.session.execute(delete(LoginSession))  # the sign-in expired on the server while the officer talked
    db.session.commit()
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url("**/login**")
    expect(page.locator(".flash-error")).to_contain_text("登录已过期")
    page.fill("input[name=username]", officer.username)
    page.fill("input[name=password]", "correct-horse-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/visits/new?company={company.id}")

    expect(page.locator("[data-draft-notice]")).to_be_visible()
    expect(page.locator("textarea[name=summary]")).to_have_value("座谈研发投入，企业计划明年申报高企。")
    expect(page.locator("input[name=kind][value=phone]")).to_be_checked()
    expect(page.locator("label.chip", has_text="认定辅导").locator("input")).to_be_checked()
    expect(page.locator("input[name='follow_ups-3-title']")).to_have_value("对接银行办理天府科创贷")
    expect(page.locator("input[name='follow_ups-3-title']")).to_be_visible()
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(f"**/companies/{company.id}")
    expect(page.locator(".flash-success")).to_contain_text("含 2 项跟进")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('ladder-draft:'))") == []
    page.goto(f"/visits/new?company={company.id}")  # saved: the next visit starts blank
    expect(page.locator("textarea[name=summary]")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()


def test_a_draft_can_be_thrown_away(phone_page, make):
    page = phone_page
    officer, company = on_the_visit_form(page, make)
    page.fill("textarea[name=summary]", "写了一半")
    page.wait_for_timeout(400)  # kept after a pause in typing
    page.goto(f"/visits/new?company={company.id}")
    expect(page.locator("textarea[name=summary]")).to_have_value("写了一半")
    page.get_by_role("button", name="丢弃").click()
    page.wait_for_load_state()
    expect(page.locator("textarea[name=summary]")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    page.fill("textarea[name=summary]", "机密：企业计划迁出")
    page.wait_for_timeout(400)
    page.evaluate("document.querySelector(\"form[action$='/logout']\").submit()")  # a phone handed on
    page.wait_for_url("**/login**")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('ladder-draft:'))") == []


def test_a_visit_whose_answer_was_lost_is_put_back_and_recognised_when_sent_again(phone_page, make):
    from datetime import datetime

    from sqlalchemy import func, select, update

    from crm.extensions import db
    from crm.models import Visit

    page = phone_page
    officer, company = on_the_visit_form(page, make)
    page.fill("textarea[name=summary]", "保存了但回应丢失")

    def lose_the_answer(route):
        route.fetch()  # the server saves the visit
        route.abort()  # the connection drops before its answer arrives

    page.route("**/visits/new?company=*", lambda route: lose_the_answer(route) if route.request.method == "POST"
               else route.continue_())
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_timeout(500)
    page.unroute("**/visits/new?company=*")
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    # The form is put back a day later: past the ten minutes a repeated tap is recognised within, only the draft's
    # token can tell this visit was saved.
    db.session.execute(update(Visit).values(created_at=datetime(2020, 1, 1)))
    db.session.commit()
    page.goto(f"/visits/new?company={company.id}")
    expect(page.locator("textarea[name=summary]")).to_have_value("保存了但回应丢失")
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(f"**/companies/{company.id}")
    expect(page.locator(".flash-success")).to_contain_text("重复提交的未再保存")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Visit.id))) == 1


def test_a_long_link_pasted_into_a_visit_breaks_rather_than_widening_the_phones_page(phone_page, make):
    from crm.models import FollowUp, Visit

    officer = make.user("officer")
    company = make.company(name="长链接测试有限公司", officer=officer)
    link = "https://zwfw.sc.gov.cn/" + "kjj/gaoqi/shenbao/zhinan/" * 6 + "index.html"
    visit = Visit(company=company, visited_on=today(), officer=officer, summary=f"企业反映：{link}")
    db.session.add_all([visit, FollowUp(company=company, visit=visit, title=f"发送申报指南 {link}", owner=officer,
                                        due_on=today() + timedelta(days=3))])
    db.session.commit()
    login(phone_page, officer.username, PASSWORD)
    for path in ("/work", f"/companies/{company.id}", f"/companies/{company.id}?tl=visit", f"/visits/{visit.id}",
                 "/visits/follow-ups/"):
        phone_page.goto(path)
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, path
    phone_page.goto(f"/companies/{company.id}")  # the 高企 innovation-score table, a card a row: its labels in sight
    label = phone_page.locator("table.innovation td[data-label]").first
    assert label.evaluate("td => parseFloat(getComputedStyle(td).paddingLeft)") > 100


def test_the_phones_menu_opens_from_a_keyboard_and_is_named_for_a_screen_reader(phone_page, make):
    login(phone_page, make.user("officer").username, PASSWORD)
    phone_page.goto("/work")
    menu = phone_page.get_by_role("checkbox", name="菜单")
    phone_page.locator("a.brand").focus()
    phone_page.keyboard.press("Tab")
    assert menu.evaluate("el => el === document.activeElement")
    phone_page.keyboard.press("Space")
    assert phone_page.locator("nav.nav a", has_text="企业").is_visible()
