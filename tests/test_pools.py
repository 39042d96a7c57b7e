"""Cultivation pools (培育库): admin keeps the pools, officers add and remove companies in their areas."""
from datetime import date, timedelta

from sqlalchemy import func, select

from crm.clock import today
from crm.extensions import db
from crm.models import Application, Pool, PoolMember, Round
from tests.ladder_data import YEAR, passing, pool, pool_member


def members(p: Pool) -> set[str]:
    return {m.company.name for m in db.session.scalars(select(PoolMember).where(PoolMember.pool_id == p.id))}


# ---- the pools themselves (admin) ------------------------------------------------------------------------------

def test_admin_creates_edits_and_deletes_a_pool(make, auth, client):
    auth.login(make.user("admin"))
    response = client.post("/pools/new", data={"kind": "hnte", "year": YEAR, "name": " 2024年高企培育库 "})
    created = db.session.scalar(select(Pool))
    assert response.status_code == 302 and (created.kind, created.year, created.name) == ("hnte", YEAR, "2024年高企培育库")
    response = client.post(f"/pools/{created.id}/edit", data={"kind": "hnte", "year": f"{YEAR + 1}年度", "name": "2025年高企培育库"})
    assert response.status_code == 302 and db.session.get(Pool, created.id).year == YEAR + 1
    pool_member(created, make.company())
    assert client.post(f"/pools/{created.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Pool)) == 0
    assert db.session.scalar(select(func.count()).select_from(PoolMember)) == 0


def test_pool_names_are_unique_per_kind_and_year(make, auth, client):
    pool("hnte", name="重点库")
    auth.login(make.user("admin"))
    response = client.post("/pools/new", data={"kind": "hnte", "year": YEAR, "name": "重点库"})
    assert response.status_code == 422 and "已有同类型的培育库" in response.get_data(as_text=True)
    assert client.post("/pools/new", data={"kind": "tech_sme", "year": YEAR, "name": "重点库"}).status_code == 302
    assert client.post("/pools/new", data={"kind": "hnte", "year": YEAR, "name": ""}).status_code == 422


def test_only_admins_keep_the_pools(make, auth, client):
    p = pool("hnte")
    auth.login(make.user("officer"))
    assert client.post("/pools/new", data={"kind": "hnte", "year": YEAR, "name": "x"}).status_code == 403
    assert client.get(f"/pools/{p.id}/edit").status_code == 403
    assert client.post(f"/pools/{p.id}/delete").status_code == 403
    assert client.get("/pools/").status_code == 200


# ---- adding and removing companies -----------------------------------------------------------------------------

def test_officer_adds_and_removes_a_company_in_their_area(make, auth, client):
    p = pool("tech_sme")
    company = make.company(name="通川企业", district="511702")
    auth.login(make.user("officer", areas=["511702"]))
    response = client.post("/pools/members", data={"pool_id": p.id, "company_id": company.id,
                                                   "next": f"/companies/{company.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/companies/{company.id}"
    assert members(p) == {"通川企业"}
    assert client.post("/pools/members", data={"pool_id": p.id, "company_id": company.id}).status_code == 302
    assert members(p) == {"通川企业"}  # adding twice changes nothing
    response = client.post(f"/pools/{p.id}/members/{company.id}/remove?next=https://evil.example/")
    assert response.status_code == 302 and response.headers["Location"] == f"/pools/{p.id}"
    assert members(p) == set()


def test_a_company_outside_the_officers_areas_is_not_found(make, auth, client):
    p = pool("tech_sme")
    elsewhere = make.company(name="达川企业", district="511703")
    pool_member(p, elsewhere)
    auth.login(make.user("officer", areas=["511702"]))
    assert client.post("/pools/members", data={"pool_id": p.id, "company_id": elsewhere.id}).status_code == 404
    assert client.post(f"/pools/{p.id}/members/{elsewhere.id}/remove").status_code == 404
    assert members(p) == {"达川企业"}
    assert "达川企业" not in client.get(f"/pools/{p.id}").get_data(as_text=True)


def test_viewer_cannot_change_membership(make, auth, client):
    p = pool("tech_sme")
    company = make.company()
    auth.login(make.user("viewer"))
    assert client.post("/pools/members", data={"pool_id": p.id, "company_id": company.id}).status_code == 403
    assert client.post("/pools/bulk", data={"company_ids": [company.id], "pool_id": p.id}).status_code == 403


def test_company_page_adds_to_a_pool_of_the_selected_year(make, auth, client):
    this_year, other = pool("tech_sme"), pool("hnte", YEAR - 1)
    company = make.company()
    auth.login(make.user("admin"))
    page = client.get(f"/companies/{company.id}?year={YEAR}").get_data(as_text=True)
    assert f'<option value="{this_year.id}">' in page and f'<option value="{other.id}">' not in page
    pool_member(this_year, company)
    page = client.get(f"/companies/{company.id}?year={YEAR}").get_data(as_text=True)
    assert f"/pools/{this_year.id}/members/{company.id}/remove" in page


# ---- in bulk from the company list -----------------------------------------------------------------------------

def test_company_list_has_checkboxes_for_editors_only(make, auth, client):
    make.company()
    auth.login(make.user("officer"))
    page = client.get("/companies/").get_data(as_text=True)
    assert 'name="company_ids"' in page and 'form="bulk"' in page and 'id="bulk"' in page
    auth.logout()
    auth.login(make.user("viewer"))
    assert 'name="company_ids"' not in client.get("/companies/").get_data(as_text=True)


def test_bulk_add_ticked_companies_after_choosing_the_pool(make, auth, client):
    p = pool("tech_sme")
    a, b, c = (make.company(name=n) for n in ("甲公司", "乙公司", "丙公司"))
    pool_member(p, a)
    auth.login(make.user("officer", areas=["511702"]))
    page = client.post("/pools/bulk", data={"company_ids": [a.id, b.id]}).get_data(as_text=True)
    assert "选中的 2 家企业" in page and f'value="{p.id}"' in page and f'name="company_ids" value="{b.id}"' in page
    response = client.post("/pools/bulk", data={"company_ids": [a.id, b.id], "pool_id": p.id})
    assert response.status_code == 302 and members(p) == {"甲公司", "乙公司"}


def test_bulk_add_with_nothing_ticked_returns_to_the_list_as_filtered(make, auth, client):
    auth.login(make.user("officer"))
    response = client.post("/pools/bulk", data={"q": "万源", "district": "3", "sort": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/companies/?q=%E4%B8%87%E6%BA%90&district=3"


def test_bulk_add_refuses_a_company_outside_the_areas(make, auth, client):
    p = pool("tech_sme")
    mine, theirs = make.company(district="511702"), make.company(district="511703")
    auth.login(make.user("officer", areas=["511702"]))
    response = client.post("/pools/bulk", data={"company_ids": [mine.id, theirs.id], "pool_id": p.id})
    assert response.status_code == 404 and members(p) == set()


def test_bulk_add_all_matching_the_filter_within_the_areas(make, auth, client):
    p = pool("hnte")
    for name, district in (("通川一", "511702"), ("通川二", "511702"), ("达川一", "511703"), ("宣汉一", "511722")):
        make.company(name=name, district=district)
    officer = make.user("officer", areas=["511702", "511703"])
    auth.login(officer)
    response = client.post("/pools/bulk", data={"all": "1", "q": "", "district": "", "park": "", "standing": "",
                                                "officer": "", "pool_id": p.id})
    assert response.status_code == 302 and members(p) == {"通川一", "通川二", "达川一"}
    assert all(m.added_by_id == officer.id for m in db.session.scalars(select(PoolMember)))
    p2 = pool("tech_sme")
    client.post("/pools/bulk", data={"all": "1", "q": "通川", "pool_id": p2.id})
    assert members(p2) == {"通川一", "通川二"}


# ---- the pool page and the suggestions -------------------------------------------------------------------------

def test_pool_page_shows_standing_and_verdict(make, auth, client):
    p = pool("tech_sme")
    good = passing(make, "达标企业")
    gap = passing(make, "缺数据企业", last={"total_assets": None})
    make.cert(good, "tech_sme", year=YEAR - 1, number="A")
    pool_member(p, good)
    pool_member(p, gap)
    auth.login(make.user("viewer"))
    page = client.get(f"/pools/{p.id}").get_data(as_text=True)
    assert "达标企业" in page and "符合" in page and "100 分" in page
    assert "数据不全" in page and f"{YEAR - 1}年资产总额" in page
    assert "移出" not in page


def test_a_company_qualifying_by_direct_route_shows_the_waived_checks_as_waived(make, auth, client):
    p = pool("tech_sme")
    direct = passing(make, "直通车企业", last={"rd_expense": 0, "ip_class1": 0, "ip_class2": 0})
    make.cert(direct, "hnte", issued_on=date(YEAR - 1, 3, 1))  # a valid 高企 certificate: 直通车 (§2.3)
    pool_member(p, direct)
    auth.login(make.user("viewer"))
    page = client.get(f"/pools/{p.id}").text
    assert "符合" in page and "直通车，不计：" in page and "result-fail" not in page


def test_suggest_lists_companies_passing_on_figures_not_yet_pooled(make, auth, client):
    p = pool("tech_sme")
    passing(make, "可推荐企业")
    pool_member(pool("tech_sme", name="另一个库"), passing(make, "已在同类库"))
    pool_member(pool("hnte"), passing(make, "在高企库"))
    passing(make, "缺数据企业", last={"total_assets": None})
    make.cert(passing(make, "已入库企业"), "tech_sme", year=YEAR, number="B")
    passing(make, "达川企业", district="511703")
    auth.login(make.user("officer", areas=["511702"]))
    page = client.get(f"/pools/{p.id}/suggest").get_data(as_text=True)
    for name in ("可推荐企业", "在高企库"):
        assert name in page
    for name in ("已在同类库", "缺数据企业", "已入库企业", "达川企业"):
        assert name not in page


def test_pool_and_suggestions_page_through_with_the_pool_kept_in_the_links(make, auth, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    p = pool("tech_sme")
    for name in ("甲企业", "乙企业"):
        pool_member(p, passing(make, name))
        passing(make, f"{name}候选")
    auth.login(make.user("admin"))
    for url in (f"/pools/{p.id}", f"/pools/{p.id}/suggest"):
        first = client.get(url)
        assert first.status_code == 200 and f'href="{url}?page=2"' in first.text
        assert client.get(f"{url}?page=2").status_code == 200


def test_suggest_one_click_add_returns_to_the_suggestions(make, auth, client):
    p = pool("tech_sme")
    company = passing(make, "可推荐企业")
    auth.login(make.user("admin"))
    page = client.get(f"/pools/{p.id}/suggest").get_data(as_text=True)
    assert f'name="company_id" value="{company.id}"' in page
    response = client.post("/pools/members", data={"pool_id": p.id, "company_id": company.id,
                                                   "next": f"/pools/{p.id}/suggest"})
    assert response.headers["Location"] == f"/pools/{p.id}/suggest" and members(p) == {"可推荐企业"}
    assert f'value="{company.id}"' not in client.get(f"/pools/{p.id}/suggest").get_data(as_text=True)


def open_round(kind: str, name: str) -> Round:
    round_ = Round(kind=kind, year=YEAR, name=name, opens_on=today() - timedelta(days=30),
                   closes_on=today() + timedelta(days=30))
    db.session.add(round_)
    db.session.commit()
    return round_


def test_an_officer_starts_an_application_for_a_pool_member_from_the_pool(make, auth, client):
    p = pool("tech_sme")
    officer = make.user("officer")
    member = passing(make, "库内企业", officer=officer)
    pool_member(p, member)
    auth.login(officer)
    button = ">开始申报</button>"
    assert button not in client.get(f"/pools/{p.id}").text  # no round taking applications yet
    round_ = open_round("tech_sme", f"{YEAR}年科小评价")
    page = client.get(f"/pools/{p.id}").text
    assert f"“{YEAR}年科小评价”正在受理申报" in page and button in page
    response = client.post("/rounds/applications", data={"company_id": member.id, "round_id": round_.id,
                                                          "next": f"/pools/{p.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/pools/{p.id}"
    assert db.session.scalar(select(Application.round_id).where(Application.company_id == member.id)) == round_.id
    page = client.get(f"/pools/{p.id}").text
    assert "已在申报中" in page and button not in page
    auth.logout()
    auth.login(make.user("viewer"))
    assert button not in client.get(f"/pools/{p.id}").text


def test_pool_page_query_count_does_not_grow_with_the_data(make, auth, client, count_queries):
    p = pool("hnte")
    open_round("hnte", "高企认定")
    auth.login(make.user("admin"))
    officer = make.user("officer")
    for i in range(2):
        pool_member(p, passing(make, f"小{i}", years=(YEAR - 3, YEAR - 2, YEAR - 1), officer=officer))
    client.get(f"/pools/{p.id}")
    with count_queries() as small:
        client.get(f"/pools/{p.id}")
    for i in range(10):
        company = passing(make, f"大{i}", years=(YEAR - 3, YEAR - 2, YEAR - 1), officer=officer,
                          park="达州高新区" if i % 2 else None)
        make.cert(company, "tech_sme", year=YEAR, number=str(i))
        pool_member(p, company)
    with count_queries() as large:
        page = client.get(f"/pools/{p.id}").get_data(as_text=True)
    assert "大9" in page
    assert large.count == small.count, "\n".join(large.statements)
