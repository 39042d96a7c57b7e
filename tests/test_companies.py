"""The company register: forms, validation, optimistic locking, audit trail, list (issue 2 §3)."""
import re
import threading
import time
from decimal import Decimal

import pytest

from sqlalchemy import func, select

from crm.companies.forms import CompanyForm
from crm.companies.service import claim_company
from crm.extensions import db
from crm.models import AuditLog, Certification, Company, CompanyYear
from tests.conftest import d


def form_data(make, **over):
    data = {"uscc": make.uscc(), "name": "达州川东智能科技有限公司", "district_id": make.area("511702").id,
            "park_id": 0, "officer_id": 0, "tech_field": "", "industry": "电子信息", "founded_on": "",
            **{name: "" for name in CompanyForm.TRISTATE_FIELDS}}
    data.update(over)
    return data


def edit_data(company, **over):
    data = {"uscc": company.uscc, "name": company.name, "district_id": company.district_id, "park_id": company.park_id or 0,
            "officer_id": company.officer_id or 0, "tech_field": company.tech_field or "", "version": str(company.version),
            **{name: "" for name in CompanyForm.TRISTATE_FIELDS}}
    data.update(over)
    return data


def test_create_company_normalises_code_and_chinese_date(make, auth, client):
    auth.login(make.user("admin"))
    response = client.post("/companies/new", data=form_data(make, uscc=" ９１３５０１００ｍ０００１００ｙ４３ ",
                                                            founded_on="2019年3月5日"))
    assert response.status_code == 302
    company = db.session.scalar(select(Company))
    assert company.uscc == "91350100M000100Y43"
    assert company.founded_on.isoformat() == "2019-03-05"
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity == "company")).action == "create"


def test_bad_check_character_rejected_with_reason_and_input_kept(make, auth, client):
    auth.login(make.user("officer"))
    response = client.post("/companies/new", data=form_data(make, uscc="91350100M000100Y44", name="保留名称有限公司"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "校验码应为 3，实际为 4" in page
    assert "保留名称有限公司" in page
    assert db.session.scalar(select(Company)) is None


def test_admin_may_confirm_a_code_that_fails_the_check(make, auth, client):
    auth.login(make.user("admin"))
    response = client.post("/companies/new", data=form_data(make, uscc="91350100M000100Y44", confirm_bad_check="y"))
    assert response.status_code == 302
    assert db.session.scalar(select(Company)).uscc_check_waived is True


def test_officer_cannot_waive_the_check(make, auth, client):
    auth.login(make.user("officer"))
    response = client.post("/companies/new", data=form_data(make, uscc="91350100M000100Y44", confirm_bad_check="y"))
    assert response.status_code == 422


def test_duplicate_code_and_missing_fields_named(make, auth, client):
    existing = make.company()
    auth.login(make.user("admin"))
    page = client.post("/companies/new", data=form_data(make, uscc=existing.uscc.lower(), name="")).get_data(as_text=True)
    assert "已被其他企业使用" in page and "请填写企业名称" in page


def test_future_founding_date_and_garbage_date_rejected(make, auth, client):
    auth.login(make.user("admin"))
    page = client.post("/companies/new", data=form_data(make, founded_on="2999-01-01")).get_data(as_text=True)
    assert "日期不能晚于今天" in page
    page = client.post("/companies/new", data=form_data(make, founded_on="去年春天")).get_data(as_text=True)
    assert "无法识别" in page


def test_concurrent_edit_second_save_refused_first_survives(make, app):
    from tests.conftest import PASSWORD

    company = make.company(name="原名有限公司")
    alice, bob = make.user("admin", username="alice"), make.user("admin", username="bob")
    a, b = app.test_client(), app.test_client()
    a.post("/login", data={"username": alice.username, "password": PASSWORD})
    b.post("/login", data={"username": bob.username, "password": PASSWORD})
    assert a.get(f"/companies/{company.id}/edit").status_code == 200
    assert b.get(f"/companies/{company.id}/edit").status_code == 200
    loaded = edit_data(company)  # both forms carry the version they loaded
    assert a.post(f"/companies/{company.id}/edit", data={**loaded, "name": "甲改的名称有限公司"}).status_code == 302
    second = b.post(f"/companies/{company.id}/edit", data={**loaded, "name": "乙改的名称有限公司"})
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert alice.label in page and "保存未成功" in page
    assert "<li>企业名称：原名有限公司 → 甲改的名称有限公司</li>" in page  # what Alice changed, as the form names it
    assert "乙改的名称有限公司" in page  # Bob's typing is not lost
    db.session.expire_all()
    assert db.session.get(Company, company.id).name == "甲改的名称有限公司"


def test_a_company_is_assigned_only_to_an_officer_who_may_open_it(make, auth, client):
    company = make.company(district="511702")
    elsewhere = make.user("officer", areas=["511703"], display_name="达川干部")
    auth.login(make.user("admin"))
    response = client.post(f"/companies/{company.id}/edit", data=edit_data(company, officer_id=elsewhere.id))
    assert response.status_code == 422 and "达川干部 不负责该企业所在的区县或园区" in response.text
    db.session.expire_all()
    assert db.session.get(Company, company.id).officer_id is None


def test_edit_is_audited_with_old_and_new_values(make, auth, client):
    company = make.company(name="旧名有限公司")
    user = make.user("admin")
    auth.login(user)
    officer = make.user("officer", display_name="张伟")
    client.post(f"/companies/{company.id}/edit", data=edit_data(
        company, name="新名有限公司", district_id=make.area("511703").id, officer_id=officer.id, national_award="1"))
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update", AuditLog.entity == "company"))
    assert entry.user_id == user.id and entry.changes["name"] == ["旧名有限公司", "新名有限公司"]
    page = client.get(f"/companies/{company.id}?tl=edit").get_data(as_text=True)
    # as the edit form names the fields, areas and people by name, yes/no in words
    for line in ("企业名称：旧名有限公司 → 新名有限公司", "所属区县：通川区 → 达川区", f"包联干部：— → {officer.label}",
                 "近五年获国家科技奖（前三完成单位）：— → 是"):
        assert f"<li>{line}</li>" in page


def test_the_same_certification_cannot_be_added_twice(make, auth, client):
    """A double click, or the same 编号 typed again: one row (DOMAIN §8's identity: 编号, else the year)."""
    company = make.company()
    auth.login(make.user("officer"))
    url = f"/companies/{company.id}/certifications"
    assert client.post(url, data={"kind": "hnte", "number": "GR1", "issued_on": "2023-11-05"}).status_code == 302
    again = client.post(url, data={"kind": "hnte", "number": "ｇｒ1", "issued_on": "2023-11-05"})
    assert again.status_code == 422 and "不能重复添加" in again.text
    assert client.post(url, data={"kind": "tech_sme", "year": "2024"}).status_code == 302
    assert client.post(url, data={"kind": "tech_sme", "year": "2024", "number": "KX-9"}).status_code == 422
    assert client.post(url, data={"kind": "tech_sme", "year": "2025"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Certification)) == 3


def test_certification_added_revoked_and_audited(make, auth, client):
    company = make.company()
    auth.login(make.user("officer"))
    response = client.post(f"/companies/{company.id}/certifications", data={"kind": "hnte", "number": "GR202351000001"})
    assert response.status_code == 422 and "需填写发证日期" in response.get_data(as_text=True)
    head = response.text.split('class="page-head"')[0]  # the top of the page, where a phone's screen is
    assert "未保存：请按红字提示修改" in head and 'href="#certifications"' in head
    client.post(f"/companies/{company.id}/certifications",
                data={"kind": "hnte", "number": "ＧＲ２０２３ ５１０００００１", "issued_on": "2023/11/5"})
    cert = db.session.scalar(select(Certification))
    assert (cert.number, cert.valid_until.isoformat()) == ("GR202351000001", "2026-11-04")  # typed on a phone
    client.post(f"/companies/{company.id}/certifications/{cert.id}/revoke")
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).status == "revoked"
    actions = [e.action for e in db.session.scalars(select(AuditLog).where(AuditLog.entity == "certification"))]
    assert actions == ["create", "update"]
    page = client.get(f"/companies/{company.id}?tl=edit").text
    assert "<li>状态：有效 → 已撤销</li>" in page and "<li>资质类型：— → 高新技术企业</li>" in page


def test_figures_accept_wan_yuan_and_reject_more_tech_staff_than_employees(make, auth, client):
    company = make.company()
    auth.login(make.user("officer"))
    bad = client.post(f"/companies/{company.id}/figures", data={"year": 2024, "employees": 10, "tech_staff": 11})
    assert bad.status_code == 422 and "科技人员数不能大于职工总数" in bad.get_data(as_text=True)
    fraction = client.post(f"/companies/{company.id}/figures", data={"year": 2024, "employees": "12.5"}).text
    assert "职工总数应为整数，实际为“12.5”" in fraction and "不能为负数" not in fraction  # one reason, the right one
    assert "未保存" in fraction  # said at the top of the page, whatever field is wrong
    huge = client.post(f"/companies/{company.id}/figures",
                       data={"year": 2024, "employees": "99999999999", "revenue": "1000000000000"})
    assert huge.status_code == 422 and huge.text.count("数值过大") == 2  # a form error, not a database crash
    client.post(f"/companies/{company.id}/figures",
                data={"year": "2024年", "employees": "1,050", "tech_staff": "１２", "revenue": "１,２３４.５万元",
                      "rd_expense": "500000元"})
    row = db.session.scalar(select(CompanyYear))
    assert (row.year, row.employees, row.tech_staff) == (2024, 1050, 12)
    assert row.revenue == Decimal("1234.50") and row.rd_expense == Decimal("50.00")


def test_list_search_filter_and_pagination(make, auth, client, app):
    a = make.company(name="巴山新材料有限公司", district="511703")
    b = make.company(name="凤凰山电子有限公司", district="511702", park="达州高新区")
    make.cert(b, "tech_sme", year=2025)
    auth.login(make.user("viewer"))
    page = client.get("/companies/?q=巴山").get_data(as_text=True)
    assert a.name in page and b.name not in page
    page = client.get(f"/companies/?q={b.uscc[:10].lower()}").get_data(as_text=True)
    assert b.name in page and a.name not in page
    tail = "".join(chr(ord(c) + 0xFEE0) for c in b.uscc[-6:])  # the last digits on the licence, typed full-width
    page = client.get(f"/companies/?q={tail}").text
    assert b.name in page and a.name not in page
    printing = make.company(name="达州3D打印科技有限公司")
    for typed in ("３Ｄ打印", "3D打印"):  # full-width as a phone's keyboard may give it
        page = client.get(f"/companies/?q={typed}").text
        assert printing.name in page and a.name not in page, typed
    page = client.get(f"/companies/?park={make.area('达州高新区').id}").get_data(as_text=True)
    assert b.name in page and a.name not in page
    for i in range(app.config["PAGE_SIZE"]):
        make.company(name=f"分页企业{i:03d}有限公司")
    first = client.get("/companies/").get_data(as_text=True)
    assert "第 1 / 2 页" in first
    second = client.get("/companies/?page=2").get_data(as_text=True)
    assert "分页企业049有限公司" in second or "凤凰山" in second


def test_by_name_is_pinyin_order_as_chinese_readers_expect(make, auth, client):
    for name in ("万源信息实业有限公司", "重庆长安达州分公司", "巴山新材有限公司", "川东智能科技有限公司"):
        make.company(name=name)
    auth.login(make.user("viewer"))
    page = client.get("/companies/?sort=name").text
    names = re.findall(r'<td data-label="企业名称"><a [^>]*>([^<]+)</a>', page)
    assert names == ["巴山新材有限公司", "重庆长安达州分公司", "川东智能科技有限公司", "万源信息实业有限公司"]  # ba, chong, chuan, wan


def test_list_query_count_does_not_grow_with_companies(make, auth, client, count_queries):
    auth.login(make.user("admin"))
    for i in range(3):
        make.cert(make.company(), "tech_sme", year=2025)
    with count_queries() as small:
        client.get("/companies/")
    for i in range(40):
        c = make.company(district="511725" if i % 2 else "511702", park="达州高新区" if i % 3 == 0 else None)
        make.cert(c, "hnte", issued_on=__import__("datetime").date(2024, 1, 1))
    with count_queries() as large:
        client.get("/companies/")
    assert small.count == large.count


def test_company_page_query_count_does_not_grow_with_the_people_who_edited_it(make, auth, client, count_queries):
    company_id = make.company().id
    auth.login(make.user("admin"))

    def edited_by(n: int) -> int:
        for _ in range(n):
            db.session.add(AuditLog(user=make.user("officer"), entity="company", entity_id=company_id,
                                    company_id=company_id, action="update", changes={"name": ["甲", "乙"]}))
        db.session.commit()
        db.session.expunge_all()  # as in a fresh request: none of the authors is in the session yet
        with count_queries() as q:  # the timeline's change log, with its authors
            page = client.get(f"/companies/{company_id}?tl=edit").get_data(as_text=True)
        assert page.count('class="entry-edit') >= n
        return q.count

    assert edited_by(1) == edited_by(4)


def run_together(*requests) -> None:
    """Run each in its own thread (its own app context and connection), as concurrent requests are."""
    threads = [threading.Thread(target=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)


def test_a_claimed_company_makes_a_second_writer_wait_for_the_first_to_commit(app, make):
    """What keeps two requests from adding the same certification or application at once, on either database."""

    company = make.company()
    company_id, updated = company.id, company.updated_at
    events, claimed = [], threading.Event()

    def first():
        with app.app_context():
            claim_company(company_id)
            events.append("first claims")
            claimed.set()
            time.sleep(0.5)
            events.append("first commits")
            db.session.commit()

    def second():
        with app.app_context():
            claimed.wait(5)
            claim_company(company_id)
            events.append("second claims")
            db.session.commit()

    run_together(first, second)
    assert events == ["first claims", "first commits", "second claims"]
    db.session.expire_all()
    assert db.session.get(Company, company_id).updated_at == updated  # claiming is no edit: the lists' order stays


def test_a_code_registered_by_someone_else_while_the_form_was_checked_is_a_form_error(make, auth, client,
                                                                                        monkeypatch):
    """Not a 500, and the input is kept: the code's check passed, then another officer's save committed first."""
    import crm.companies.routes as routes
    from sqlalchemy import insert

    district = make.area("511702")
    code = make.uscc()
    saved = routes.save_company

    def someone_else_first(company, values, loaded):
        with db.engine.begin() as other:
            other.execute(insert(Company).values(uscc=code, name="先到企业有限公司", name_sort="x", district_id=district.id,
                                                 version=1))
        return saved(company, values, loaded)

    monkeypatch.setattr(routes, "save_company", someone_else_first)
    auth.login(make.user("officer"))
    response = client.post("/companies/new", data={"uscc": code, "name": "后到企业有限公司", "district_id": district.id,
                                                   "park_id": 0, "officer_id": 0, "tech_field": "",
                                                   **{name: "" for name in CompanyForm.TRISTATE_FIELDS}})
    assert response.status_code == 422 and "已被其他企业使用" in response.text and "后到企业有限公司" in response.text


def test_figures_saved_by_someone_else_since_the_page_was_opened_are_not_overwritten_silently(make, auth, client):
    company = make.company()
    zhang, li = make.user("officer", display_name="张伟"), make.user("officer", display_name="李萍")
    url = f"/companies/{company.id}/figures?year=2024"
    auth.login(zhang)
    assert client.post(url, data={"year": 2024, "employees": 50, "revenue": "100"}).status_code == 302
    loaded = re.search(r'name="loaded" type="hidden" value="([^"]*)"', client.get(url).text).group(1)  # 张伟 opens it
    assert loaded.startswith("2024:")
    auth.logout()
    auth.login(li)
    assert client.post(url, data={"year": 2024, "employees": 50, "revenue": "200"}).status_code == 302  # 李萍 saves
    auth.logout()
    auth.login(zhang)
    mine = client.post(url, data={"year": 2024, "employees": 60, "revenue": "100", "loaded": loaded})
    assert mine.status_code == 409 and "李萍 在" in mine.text and 'value="60"' in mine.text  # input kept
    assert db.session.scalar(select(CompanyYear.revenue)) == Decimal("200.00")
    again = re.search(r'name="loaded" type="hidden" value="([^"]*)"', mine.text).group(1)
    assert client.post(url, data={"year": 2024, "employees": 60, "revenue": "100", "loaded": again}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(CompanyYear.employees)) == 60


def test_claiming_a_company_waits_for_an_import_still_writing_to_it(app, make):
    """An import inserting the company's certifications has not committed: a request claiming the company waits
    for it and then sees its rows (FOR UPDATE on PostgreSQL; SQLite's write lock)."""
    import threading
    import time

    from crm.companies.service import claim_company

    company_id = make.company().id
    events, inserted = [], threading.Event()

    def import_writing():
        with app.app_context(), db.engine.connect() as conn:
            with conn.begin():
                conn.execute(Certification.__table__.insert().values(
                    company_id=company_id, kind="tech_sme", year=2025, number="KX-1", status="valid",
                    valid_from=d("2025-01-01"), valid_until=d("2025-12-31"), source="import"))
                inserted.set()
                time.sleep(0.5)
                events.append("import commits")

    def request_claims():
        with app.app_context():
            inserted.wait(5)
            claim_company(company_id)
            seen = db.session.scalar(select(func.count()).select_from(Certification)
                                     .where(Certification.company_id == company_id))
            events.append(f"request claims and sees {seen}")
            db.session.rollback()

    run_together(import_writing, request_claims)
    assert events == ["import commits", "request claims and sees 1"]


@pytest.mark.parametrize("typed, field, reason", [
    ({"kind": "tech_sme", "year": "2025", "issued_on": "2025-06-01", "expires_on": "2027年6月30日"},
     "expires_on", "科技型中小企业入库登记当年有效，至 2025-12-31 止：有效期至请留空"),
    ({"kind": "tech_sme", "year": "2024", "issued_on": "2019-05-01"}, "issued_on", "科技型中小企业的发证日期应在登记年度 2024 年内"),
    ({"kind": "hnte", "issued_on": "2019-12-01", "expires_on": "2018-01-01"}, "expires_on", "有效期至不能早于发证日期（2019-12-01）"),
    ({"kind": "gazelle", "year": "2010", "issued_on": "2010-03-01"}, "issued_on", "发证日期不能早于企业成立日期（2015-04-07）"),
])
def test_a_certification_with_dates_it_cannot_have_is_refused_with_the_reason(make, auth, client, typed, field, reason):
    """DOMAIN §1/§2.4: a 科小 registration lapses on 31 December of its year (an expiry typed beside it had kept the
    company 科小 into later years); nothing expires before it is issued or is issued before the company existed."""
    company = make.company(founded_on=d("2015-04-07"))
    auth.login(make.user("officer"))
    response = client.post(f"/companies/{company.id}/certifications", data={"number": "X1", **typed})
    assert response.status_code == 422 and reason in response.text
    assert db.session.scalar(select(func.count()).select_from(Certification)) == 0
    ok = client.post(f"/companies/{company.id}/certifications",
                     data={"kind": "tech_sme", "year": "2025", "issued_on": "2025-06-01", "expires_on": "2025-12-31"})
    assert ok.status_code == 302


def test_a_company_edit_not_saved_says_so_at_the_top(make, auth, client):
    """On a phone the error under 备注 is two screens below the top the page reloads at."""
    company = make.company()
    auth.login(make.user("admin"))
    response = client.post(f"/companies/{company.id}/edit", data=edit_data(company, notes="长" * 2001))
    head = response.text.split('class="card form-grid"', 1)[0]
    assert response.status_code == 422 and "未保存：请按红字提示修改" in head


def test_the_list_offers_an_officer_the_areas_they_can_narrow_to_and_no_bulk_action_on_nothing(make, auth, client):
    auth.login(make.user("officer", areas=["511702"]))
    make.company(name="通川一号有限公司", district="511702")
    page = client.get("/companies/").text
    district_options = re.search(r'<select name="district".*?</select>', page, re.S).group(0)
    assert "通川区" in district_options and "达川区" not in district_options  # a park would reach across districts
    assert 'id="bulk"' in page
    assert 'id="bulk"' not in client.get("/companies/?q=没有这家企业").text  # not "add all 0 to a pool"
