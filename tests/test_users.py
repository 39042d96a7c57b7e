"""Users kept by admins on /users/: roles and areas, ticked as checkboxes."""
import re

from sqlalchemy import select

from crm.extensions import db
from crm.models import User
from tests.test_companies import run_together


def test_admin_gives_an_officer_two_areas_with_checkboxes_and_keeps_them_on_edit(make, auth, client):
    auth.login(make.user("admin"))
    page = client.get("/users/new").text
    tongchuan, park = make.area("511702"), make.area("达州高新区")
    assert f'type="checkbox" value="{tongchuan.id}"' in page and 'size="9"' not in page
    response = client.post("/users/new", data={"username": "zhangwei", "display_name": "张伟", "email": "z@kjj.local",
                                               "role": "officer", "password": "long-enough-1",
                                               "areas": [tongchuan.id, park.id]})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "zhangwei"))
    assert sorted(a.name for a in user.areas) == ["达州高新区", "通川区"]
    edit = client.get(f"/users/{user.id}").text
    ticked = set(re.findall(r'<input checked id="areas-\d+" name="areas" type="checkbox" value="(\d+)">', edit))
    assert ticked == {str(tongchuan.id), str(park.id)}
    assert "用户名不能含空格" in client.post("/users/new", data={
        "username": "王 五", "email": "w@kjj.local", "role": "officer", "password": "long-enough-1"}).text


def user_form(user: User, **over) -> dict:
    data = {"username": user.username, "display_name": user.display_name or "", "email": user.email,
            "role": user.role, "password": "",
            "areas": [a.id for a in user.areas]}
    if user.active:
        data["active"] = "y"
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated_and_nobody_deactivates_themselves(
        make, auth, client):
    boss = make.user("admin", username="boss")
    other = make.user("admin", username="deputy")
    auth.login(boss)
    refused = client.post(f"/users/{boss.id}", data=user_form(boss, active=None))
    assert refused.status_code == 422 and "不能停用自己的账号" in refused.text
    assert client.post(f"/users/{other.id}", data=user_form(other, role="officer")).status_code == 302
    last = client.post(f"/users/{boss.id}", data=user_form(boss, role="viewer"))
    assert last.status_code == 422 and "至少需保留一名启用的管理员" in last.text
    db.session.expire_all()
    assert (boss.role, boss.active) == ("admin", True) and other.role == "officer"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make):
    """The check of the last admin and the change it allows are one step for a second request made meanwhile."""
    import threading
    import time

    from crm.users.service import UserError, check_change

    boss, deputy = make.user("admin", username="boss"), make.user("admin", username="deputy")
    ids, checked, outcomes = (boss.id, deputy.id), threading.Event(), []

    def demote(by_id, target_id, first):
        with app.app_context():
            target, by = db.session.get(User, target_id), db.session.get(User, by_id)
            if not first:
                checked.wait(5)
            try:
                check_change(target, "officer", True, by)
            except UserError:
                outcomes.append(f"{by.username} refused")
                return
            if first:
                checked.set()
                time.sleep(0.5)  # the second request checks while this one has not committed yet
            target.role = "officer"
            db.session.commit()
            outcomes.append(f"{by.username} demoted {target.username}")

    run_together(lambda: demote(ids[0], ids[1], True), lambda: demote(ids[1], ids[0], False))
    assert sorted(outcomes) == ["boss demoted deputy", "deputy refused"]
    db.session.expire_all()
    assert db.session.scalars(select(User.username).where(User.role == "admin")).all() == ["boss"]


def test_a_user_created_inactive_stays_inactive_and_usernames_differ_by_more_than_case(make, auth, client):
    auth.login(make.user("admin"))
    data = {"username": "Liping", "email": "l@kjj.local", "role": "officer", "password": "long-enough-1"}
    assert client.post("/users/new", data=data).status_code == 302  # 启用 not ticked
    assert db.session.scalar(select(User.active).where(User.username == "Liping")) is False
    taken = client.post("/users/new", data={**data, "username": "liping", "active": "y"})
    assert "用户名 Liping 已存在" in taken.text


def test_area_changes_and_password_resets_are_in_the_audit_trail(make, auth, client):
    from crm.models import AuditLog

    officer = make.user("officer", areas=["511702"])
    auth.login(make.user("admin"))
    client.post(f"/users/{officer.id}",
                data=user_form(officer, areas=[make.area("511725").id], password="new-long-pass-1"))
    changes = [e.changes for e in db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "user", AuditLog.entity_id == officer.id, AuditLog.action == "update"))]
    assert {"areas": [["通川区"], ["渠县"]]} in changes and {"password": [None, "已重置"]} in changes


def test_an_officer_moved_to_other_areas_or_deactivated_leaves_companies_to_hand_over_and_keeps_them(
        make, auth, client):
    """Staff turnover: the admin is told how many companies wait for another officer; until they are handed
    over, an unrelated edit or a re-import of the ledger as it stands keeps the assignment instead of failing or
    silently unassigning it."""
    from tests.test_companies import edit_data
    from tests.test_transfer_import import company_row, run
    from workbooks import COMPANY_HEADERS

    officer = make.user("officer", areas=["511702"], display_name="李萍")
    company = make.company(officer=officer, park="达州高新区")
    auth.login(make.user("admin"))
    response = client.post(f"/users/{officer.id}", data=user_form(officer, areas=[make.area("511725").id]),
                           follow_redirects=True)
    assert "李萍 仍包联 1 家其已不能处理的企业" in response.text
    assert client.post(f"/companies/{company.id}/edit", data=edit_data(company, contact_phone="0818-2345678")
                       ).status_code == 302
    assert run({"企业": [COMPANY_HEADERS, company_row(name=company.name, uscc=company.uscc)]}).problems == []
    # nor does a move of the company while its assignment waits to be handed over (it cannot make that worse)
    assert run({"企业": [COMPANY_HEADERS, company_row(name=company.name, uscc=company.uscc, park="无")]}).problems == []
    db.session.expire_all()
    assert client.post(f"/companies/{company.id}/edit", data=edit_data(company, park_id=make.area("达州高新区").id)
                       ).status_code == 302
    db.session.expire_all()
    response = client.post(f"/users/{officer.id}", data=user_form(officer, active=None), follow_redirects=True)
    assert "李萍 仍包联 1 家" in response.text
    form = client.get(f"/companies/{company.id}/edit").text
    assert re.search(rf'<option selected value="{officer.id}">李萍（已停用）</option>', form)
    assert client.post(f"/companies/{company.id}/edit", data=edit_data(company, contact_phone="0818-1111111")
                       ).status_code == 302
    db.session.expire_all()
    assert company.officer_id == officer.id
    assert "李萍（已停用）" in client.get("/companies/").text  # the list's officer filter finds whose to hand over


def test_an_officer_made_a_viewer_keeps_their_companies_until_handed_over(make, auth, client):
    """Found by the review: a viewer holds no companies, but one demoted from officer still did — an unrelated edit
    then unassigned them silently, and nothing said so."""
    from tests.test_companies import edit_data
    from tests.test_transfer_import import company_row, run
    from workbooks import COMPANY_HEADERS

    officer = make.user("officer", display_name="王芳")
    company = make.company(officer=officer)
    auth.login(make.user("admin"))
    response = client.post(f"/users/{officer.id}", data=user_form(officer, role="viewer"), follow_redirects=True)
    assert "王芳 仍包联 1 家" in response.text
    assert re.search(rf'<option selected value="{officer.id}">王芳（只读用户）</option>',
                     client.get(f"/companies/{company.id}/edit").text)
    assert client.post(f"/companies/{company.id}/edit", data=edit_data(company, contact_phone="0818-1111111")
                       ).status_code == 302
    assert "王芳（只读用户）" in client.get("/companies/").text
    # the list exported and imported back as it stands keeps the assignment; giving them another company does not
    assert run({"企业": [COMPANY_HEADERS, company_row(name=company.name, uscc=company.uscc, officer="王芳")]}).problems == []
    other = make.company()
    refused = run({"企业": [COMPANY_HEADERS, company_row(name=other.name, uscc=other.uscc, officer="王芳")]}, dry_run=True)
    assert [p.reason for p in refused.problems] == [f"用户“{officer.username}”不是在岗的包联干部，不能分配企业"]
    db.session.expire_all()
    assert company.officer_id == officer.id
