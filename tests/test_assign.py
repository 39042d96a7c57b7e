"""分配包联干部: an admin hands companies ticked on the list, or all its filter finds, to one officer."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.models import Application, AuditLog, Company, FollowUp, FollowUpEvent, Round
from tests.test_companies import edit_data


@pytest.fixture
def admin(make, auth):
    user = make.user("admin")
    auth.login(user)
    return user


def officers(*ids) -> list:
    db.session.expire_all()
    return [db.session.get(Company, i).officer_id for i in ids]


def test_ticked_companies_go_to_the_officer_with_their_open_work_audited(make, admin, client):
    before, after = make.user("officer", display_name="王军"), make.user("officer", display_name="李萍")
    one, two, other = (make.company(officer=before) for _ in range(3))
    rnd = Round(kind="hnte", year=today().year, name="第一批", opens_on=today(), closes_on=today() + timedelta(days=30))
    db.session.add_all([rnd, FollowUp(company=one, title="核对研发费用", owner=before, due_on=today())])
    db.session.flush()
    db.session.add(Application(company_id=one.id, round_id=rnd.id, officer_id=before.id, stage="coaching"))
    db.session.commit()
    version = one.version

    response = client.post("/companies/assign", data={"company_ids": [one.id, two.id], "officer_id": after.id,
                                                      "district": "", "q": "测试"})
    assert response.status_code == 302 and response.location == "/companies/?q=%E6%B5%8B%E8%AF%95"
    assert officers(one.id, two.id, other.id) == [after.id, after.id, before.id]
    assert db.session.get(Company, one.id).version == version + 1  # a form open on it meets the change
    assert db.session.scalar(select(Application.officer_id)) == after.id
    assert db.session.scalar(select(FollowUp.owner_id)) == after.id
    assert db.session.scalar(select(FollowUpEvent.note)) == "随企业移交"
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "company", AuditLog.action == "update")).all()
    assert sorted((e.company_id, e.user_id, e.changes["officer_id"][1]) for e in audit) == [
        (one.id, admin.id, after.id), (two.id, admin.id, after.id)]
    assert "已将 2 家企业分配给 李萍。" in client.get("/companies/").text
    stale = client.post(f"/companies/{one.id}/edit", data=edit_data(one, version=str(version), name="改名"))
    assert stale.status_code == 409


def test_all_the_filter_finds_go_except_those_outside_the_officers_areas(make, admin, client):
    officer = make.user("officer", areas=["511702"])
    tongchuan = [make.company(district="511702") for _ in range(2)]
    in_park = make.company(district="511703", park="达州高新区")
    elsewhere = make.company(district="511725")
    mine = make.company(district="511702", officer=officer)
    response = client.post("/companies/assign", data={"all": "1", "officer_id": officer.id}, follow_redirects=True)
    assert officers(*(c.id for c in tongchuan), in_park.id, elsewhere.id, mine.id) == [
        officer.id, officer.id, None, None, officer.id]
    page = response.text
    assert f"已将 2 家企业分配给 {officer.label}。" in page and "1 家原已由其包联。" in page
    assert f"2 家不在 {officer.label} 负责的区域内，未分配" in page

    park = make.area("达州高新区").id
    client.post("/companies/assign", data={"all": "1", "park": park, "officer_id": admin.id})
    assert officers(in_park.id, elsewhere.id) == [admin.id, None]  # the filter as the list had it


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins_assign_and_see_the_controls(make, auth, client, role):
    user = make.user(role)
    company = make.company()
    auth.login(user)
    assert client.post("/companies/assign", data={"company_ids": company.id, "officer_id": user.id}).status_code == 403
    assert officers(company.id) == [None]
    assert 'formaction="/companies/assign"' not in client.get("/companies/").text


def test_nothing_ticked_no_officer_or_one_who_takes_no_companies_changes_nothing(make, admin, client):
    company = make.company()
    gone, viewer = make.user("officer", active=False), make.user("viewer")
    assert 'formaction="/companies/assign"' in client.get("/companies/").text
    for data, said in [({"officer_id": admin.id}, "请先勾选企业。"), ({"company_ids": company.id}, "请选择包联干部。"),
                       ({"company_ids": company.id, "officer_id": gone.id}, "请选择包联干部。"),
                       ({"company_ids": company.id, "officer_id": viewer.id}, "请选择包联干部。")]:
        assert said in client.post("/companies/assign", data=data, follow_redirects=True).text
    assert officers(company.id) == [None]
    kept = client.post("/companies/assign", data={"company_ids": company.id, "q": "测试"}, follow_redirects=True).text
    assert f'value="{company.id}" form="bulk" aria-label="选择 {company.name}" checked' in kept  # tick again? no
    outside = make.user("officer", areas=["511725"])
    assert client.post("/companies/assign", data={"company_ids": [company.id, 987654], "officer_id": outside.id}
                       ).status_code == 404
