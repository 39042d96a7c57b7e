"""How an audited change reads on a page (crm.changes): the timeline and the edit form's conflict notice."""
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
