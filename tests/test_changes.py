"""How an audited change reads on a page (crm.changes): the timeline and the edit form's conflict notice."""
import re

from crm.changes import described


def test_a_new_row_lists_only_what_was_filled_in_and_never_what_it_belongs_to(make):
    officer = make.user("officer", display_name="张伟")
    (lines,) = described([{"company_id": [None, 3], "number": [None, "GR202351000001"], "expires_on": [None, None],
                           "national_award": [None, False], "contact_name": [None, ""],
                           "officer_id": [None, officer.id], "district_id": [None, make.area("511703").id]}])
    assert lines == (("编号（入库登记编号或证书编号）", "—", "GR202351000001"), ("包联干部", "—", officer.label),
                     ("所属区县", "—", "达川区"))


def test_a_change_reads_both_sides_in_words(make):
    (lines,) = described([{"national_award": [False, True], "status": ["valid", "revoked"], "kind": [None, "hnte"],
                           "revenue": ["100.00", "100.00"]}])
    assert lines == (("近五年获国家科技奖（前三完成单位）", "否", "是"), ("状态", "有效", "已撤销"), ("资质类型", "—", "高新技术企业"))


def test_the_sort_key_of_a_renamed_company_is_neither_recorded_nor_shown(make, client, auth):
    from sqlalchemy import select

    from crm.extensions import db
    from crm.models import AuditLog

    company = make.company(name="甲公司")
    company.name = "明月精密制造有限公司"
    db.session.commit()
    recorded = db.session.scalars(select(AuditLog.changes).where(AuditLog.entity == "company")).all()
    assert recorded and not any("name_sort" in (c or {}) for c in recorded)
    assert described([{"name": ["甲", "乙"], "name_sort": ["jia", "yi"]}]) == [(("企业名称", "甲", "乙"),)]


def test_a_change_made_by_an_import_or_a_command_says_where_it_came_from_in_words(make, client, auth, runner,
                                                                                tmp_path):
    from workbooks import COMPANY_HEADERS, xlsx

    company = make.company(name="来源测试有限公司")
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx({"企业": [COMPANY_HEADERS, ["来源测试有限公司", company.uscc, "通川区", "", "电子信息"]]}))
    assert runner.invoke(args=["companies", "import", str(path)]).exit_code == 0
    auth.login(make.user("admin"))
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/companies/{company.id}?tl=edit").text))
    assert "导入 台账.xlsx 修改 企业信息" in page and "import:" not in page
