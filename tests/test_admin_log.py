"""操作日志 (/admin/log): who changed, deleted or exported what and when, for admins only; a user's history."""
import re
from datetime import datetime

import pytest
from sqlalchemy import select
from workbooks import COMPANY_HEADERS, xlsx

from crm.extensions import db
from crm.models import AuditLog, Company
from crm.normalize import uscc_check_char
from tests.test_users import user_form

CODE = "91511702MA6C4X3K5" + uscc_check_char("91511702MA6C4X3K5")


def entries(page: str) -> list[str]:
    """The log's entries as a reader sees them: each <li> of the list, its tags dropped, its spaces folded."""
    body = page.split('class="timeline log"', 1)[1].split("</section>", 1)[0]
    items = re.split(r"<li><time", body)[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<time" + item)).strip() for item in items]


@pytest.fixture
def admin(make, auth):
    user = make.user("admin", display_name="科长")
    auth.login(user)
    return user


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins_read_the_log(make, auth, client, role):
    auth.login(make.user(role))
    assert client.get("/admin/log").status_code == 403
    assert client.get("/admin/log?what=user&subject=1").status_code == 403


def test_a_users_history_says_who_changed_role_areas_and_password_never_the_hash(make, admin, client):
    officer = make.user("officer", areas=["511702"], display_name="王军")
    client.post(f"/users/{officer.id}", data=user_form(officer, role="viewer", areas=[],
                                                       password="new-long-pass-1"))
    edit = client.get(f"/users/{officer.id}").text
    assert f'href="/admin/log?what=user&amp;subject={officer.id}"' in edit
    assert f'href="/admin/log?who={officer.id}"' in edit
    history = entries(client.get(f"/admin/log?what=user&subject={officer.id}").text)
    assert len(history) == 4  # newest first: the admin's three changes, then the account's creation
    assert all(line.split(" ", 2)[2].startswith("科长 修改了 用户 · 王军") for line in history[:3])
    assert history[3].split(" ", 2)[2].startswith("系统 新建了 用户 · 王军 用户名：officer2 姓名：王军")
    said = " ".join(history)
    assert "角色：包联干部 → 领导（只读）" in said
    assert "负责区域：通川区 → 不限（全市）" in said and "密码：— → 已重置" in said
    assert officer.password_hash not in client.get("/admin/log").text
    assert f'<a href="/users/{officer.id}">用户 · 王军</a>' in client.get("/admin/log?what=user").text


def test_imports_edits_and_exports_say_who_from_where_with_links(make, admin, client, runner, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx({"企业": [COMPANY_HEADERS, ["川东智能科技有限公司", CODE, "通川区"]]}))
    assert runner.invoke(args=["companies", "import", str(path)]).exit_code == 0
    company = db.session.scalar(select(Company).where(Company.uscc == CODE))
    assert client.post("/transfer/export/companies", data={"format": "csv", "district": company.district_id}).status_code == 200
    assert client.get("/visits/follow-ups/export?status=all&owner=").status_code == 200
    assert runner.invoke(args=["visits", "export", "--from", "2026年1月1日", "--to", "2026/12/31",
                               "--out", str(tmp_path / "v.csv")]).exit_code == 0

    page = client.get("/admin/log").text
    log = entries(page)
    assert log[0].endswith("命令行 导出了 走访台账 起始日期：2026-01-01 截止日期：2026-12-31 格式：csv 行数：0")
    assert log[1].endswith("科长 导出了 跟进事项台账 跟进状态：全部 格式：xlsx 行数：0")
    assert log[2].endswith("科长 导出了 企业名单 所属区县：通川区 排序：name 格式：csv 行数：1")
    assert "导入 台账.xlsx 新建了 企业 · 川东智能科技有限公司 统一社会信用代码：" + CODE in log[3]
    assert f'<a href="/companies/{company.id}">企业 · 川东智能科技有限公司</a>' in page

    db.session.delete(company)
    db.session.commit()
    assert f"企业 · 已删除的企业 #{company.id}" in " ".join(entries(client.get("/admin/log?what=company").text))


def test_filters_by_who_by_kind_of_record_and_by_day_and_says_a_date_it_cannot_read(make, admin, client):
    officer = make.user("officer")
    db.session.add_all([
        AuditLog(user_id=officer.id, entity="company", entity_id=1, company_id=None, action="update",
                 changes={"name": ["旧名", "新名"]}, at=datetime(2026, 3, 4, 16, 30)),  # 3月5日 00:30 in 达州
        AuditLog(user_id=None, source="cli", entity="setting", action="delete",
                 changes={"gazelle.min_cagr": ["25", "20"]}, at=datetime(2026, 6, 1, 2, 0)),
    ])
    db.session.commit()
    assert entries(client.get(f"/admin/log?who={officer.id}").text) == [
        "2026-03-05 00:30 officer2 修改了 企业 企业名称：旧名 → 新名"]
    by_nobody = entries(client.get("/admin/log?who=0").text)  # the command, and the test's users made by no one
    assert "2026-06-01 10:00 命令行 恢复默认值 规则参数 瞪羚企业认定参数 · 营业收入年均复合增长率下限（%）：25 → 20" in by_nobody
    assert not [e for e in by_nobody if "officer2 修改了" in e]
    assert len(entries(client.get("/admin/log?from=２０２６年３月５日&to=2026.3.5").text)) == 1  # a day in 达州's time
    assert entries(client.get("/admin/log?from=2026-03-06&to=2026-05-31").text) == []
    assert len(entries(client.get("/admin/log?what=setting").text)) == 1
    unread = client.get("/admin/log?from=去年&what=bogus&who=①").text
    assert "无法识别的日期：去年" in unread and len(entries(unread)) >= 2  # the rest of the filter ignored


def test_the_log_reads_in_english(make, admin, client):
    admin.locale = "en"
    db.session.commit()
    officer = make.user("officer")
    client.post(f"/users/{officer.id}", data=user_form(officer, role="viewer"))
    said = " ".join(entries(client.get("/admin/log?what=user").text))
    assert "科长 changed user account · officer2 Role: Case officer → Leader (read-only)" in said, said
    assert "System created user account · officer2 Username: officer2" in said


def test_a_page_of_the_log_takes_the_same_queries_however_many_entries_and_people(make, admin, client,
                                                                                  count_queries):
    def add(n: int) -> None:
        company = make.company()
        user = make.user("officer")
        db.session.add_all(AuditLog(user_id=user.id, entity="company", entity_id=company.id, company_id=company.id,
                                    action="update", changes={"officer_id": [None, user.id], "district_id": [
                                        None, company.district_id]}) for _ in range(n))
        db.session.add_all(AuditLog(user_id=None, entity="user", entity_id=user.id, action="update",
                                    changes={"areas": [[], ["通川区"]]}) for _ in range(n))
        db.session.commit()

    add(2)
    with count_queries() as few:
        assert client.get("/admin/log").status_code == 200
    for _ in range(5):
        add(10)
    with count_queries() as many:
        assert client.get("/admin/log").status_code == 200
    assert many.count == few.count, many.statements


def test_targets_rounds_and_annual_reports_are_in_the_log_and_the_companys_timeline(make, admin, client, runner):
    assert runner.invoke(args=["targets", "set", "--year", "2027", "--metric", "hnte_valid", "--value", "250"]
                         ).exit_code == 0
    assert runner.invoke(args=["targets", "set", "--year", "2027", "--metric", "hnte_valid", "--value", "260"]
                         ).exit_code == 0
    assert runner.invoke(args=["rounds", "create", "--kind", "tech_sme", "--year", "2027", "--name", "2027年科小评价",
                               "--opens", "2027年6月30日", "--closes", "2027-09-30"]).exit_code == 0
    company = make.company(name="年报测试有限公司")
    make.cert(company, "hnte", issued_on=datetime(2022, 11, 10).date(), number="GR2022")
    client.post(f"/companies/{company.id}/annual-reports", data={"report-year": "2023", "report-filed_on": "2024-05-20"})
    client.post(f"/companies/{company.id}/annual-reports/2023/delete")

    log = entries(client.get("/admin/log").text)
    assert log[0].endswith("科长 删除了 年报 · 年报测试有限公司 报表年度：2023 → — 填报日期：2024-05-20 → —")
    assert log[1].endswith("科长 新建了 年报 · 年报测试有限公司 报表年度：2023 填报日期：2024-05-20")
    assert "命令行 新建了 申报批次 · 2027年科小评价 资质类型：科技型中小企业 年度：2027 批次名称：2027年科小评价" in log[4]
    assert log[5].endswith("命令行 修改了 目标 · 2027 有效高企数 全市 目标值：250 → 260")
    timeline = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/companies/{company.id}?tl=edit").text))
    assert "科长 删除 年报" in timeline and "科长 新建 年报" in timeline


def test_a_shortlist_export_says_its_kind_and_year_in_words(make, admin, client, runner, tmp_path):
    assert runner.invoke(args=["shortlist", "export", "--kind", "hnte", "--year", "2026", "--area", "511702",
                               "--out", str(tmp_path / "名单.csv")]).exit_code == 0
    assert entries(client.get("/admin/log?what=shortlist").text)[0].endswith(
        "命令行 导出了 申报名单 资质类型：高新技术企业 年度：2026 区域：通川区 格式：csv 行数：0")


def test_a_new_users_areas_and_the_monthly_report_download_are_in_the_log(make, admin, client, runner):
    tongchuan = make.area("511702")
    client.post("/users/new", data={"username": "wangwu", "display_name": "王五", "email": "w@kjj.local",
                                    "role": "officer", "password": "long-enough-1", "areas": [tongchuan.id],
                                    "active": "y"})
    assert runner.invoke(args=["users", "create", "zhaoliu", "--role", "viewer", "--email", "z@kjj.local",
                               "--password", "long-enough-2", "--area", "511703"]).exit_code == 0
    said = " ".join(entries(client.get("/admin/log?what=user").text))
    assert "科长 修改了 用户 · 王五 负责区域：不限（全市） → 通川区" in said
    assert "命令行 修改了 用户 · zhaoliu 负责区域：不限（全市） → 达川区" in said
    assert client.get("/dashboard/report.xlsx?year=2026&as_of=2026-06-30").status_code == 200
    assert entries(client.get("/admin/log?what=export").text)[0].endswith(
        "科长 导出了 月报 年度：2026 截至日期：2026-06-30 格式：xlsx 行数：10")
