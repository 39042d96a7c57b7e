"""The visit ledger (走访台账): `visits export` and the web export, read back with openpyxl and csv."""
import csv
import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest

from config import TestingConfig
from crm import create_app
from crm.clock import today
from crm.extensions import db
from crm.visits.service import complete
from tests.conftest import PASSWORD
from tests.visit_data import add_visit

COLUMNS = ["走访日期", "企业名称", "统一社会信用代码", "所属区县", "走访干部", "走访方式",
           "企业诉求类别", "走访情况", "跟进事项", "跟进期限", "跟进状态"]


def read_xlsx(path) -> list[list]:
    sheet = openpyxl.load_workbook(path).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def visits(make):
    """Three visits in two districts by two officers, one of them last year."""
    zhang = make.user("officer", username="zhangwei", display_name="张伟")
    li = make.user("officer", username="liping", display_name="李萍")
    tongchuan = make.company(name="川东电子有限公司", district="511702")
    dachuan = make.company(name="达川新材有限公司", district="511703", park="达州高新区")
    two = add_visit(tongchuan, zhang, days_ago=10, needs=["资金支持", "认定辅导"],
                    follow_ups=[("推送后补助通知", -1), ("协助准备高企材料", 20)])
    complete(next(f for f in two.follow_ups if f.title == "推送后补助通知"), zhang, "已推送")
    db.session.commit()
    add_visit(dachuan, li, days_ago=5, follow_ups=[("对接银行", -2)])
    add_visit(dachuan, zhang, days_ago=400)
    return {"zhang": zhang, "li": li, "tongchuan": tongchuan, "dachuan": dachuan}


def period(days: int = 30) -> list[str]:
    return ["--from", (today() - timedelta(days=days)).isoformat(), "--to", today().isoformat()]


def test_the_xlsx_ledger_has_the_interface_columns_real_dates_and_one_row_per_visit(visits, runner, tmp_path):
    out = tmp_path / "台账.xlsx"
    result = runner.invoke(args=["visits", "export", *period(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_xlsx(out)
    assert rows[0] == COLUMNS
    assert len(rows) == 3  # the header and two visits in the period; the older visit is left out
    first, second = rows[1], rows[2]
    assert first[0] == datetime.combine(today() - timedelta(days=10), datetime.min.time())  # a real date cell
    assert first[1:7] == ["川东电子有限公司", visits["tongchuan"].uscc, "通川区", "张伟", "实地走访", "资金支持、认定辅导"]
    assert first[8] == "1. 推送后补助通知（张伟）；\n2. 协助准备高企材料（张伟）"
    assert first[9] == (f"1. {(today() - timedelta(days=1)).isoformat()}；\n"
                        f"2. {(today() + timedelta(days=20)).isoformat()}")
    assert first[10] == "1. 已完成 已推送；\n2. 进行中"
    assert second[1] == "达川新材有限公司" and second[8] == "对接银行（李萍）"
    assert second[9] == datetime.combine(today() - timedelta(days=2), datetime.min.time())  # one follow-up: a date cell
    assert second[10] == "逾期"
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2" and sheet["A2"].is_date


def test_the_csv_ledger_reads_back_the_same(visits, runner, tmp_path):
    out = tmp_path / "ledger.csv"
    assert runner.invoke(args=["visits", "export", *period(), "--out", str(out)]).exit_code == 0
    rows = read_csv(out.read_bytes())
    assert rows[0] == COLUMNS
    assert [r[0] for r in rows[1:]] == [(today() - timedelta(days=n)).isoformat() for n in (10, 5)]


@pytest.mark.parametrize("options, companies", [
    (["--area", "511702"], ["川东电子有限公司"]),
    (["--area", "511721"], ["达川新材有限公司"]),  # the old code of 达县 is 达川区 today
    (["--area", "达川区"], ["达川新材有限公司"]),
    (["--area", "达州高新区"], ["达川新材有限公司"]),
    (["--officer", "liping"], ["达川新材有限公司"]),
    (["--officer", "LiPing"], ["达川新材有限公司"]),  # usernames are unique whatever their case
    (["--officer", "zhangwei", "--area", "511703"], []),
])
def test_the_ledger_filters_by_area_and_officer(visits, runner, tmp_path, options, companies):
    out = tmp_path / "ledger.xlsx"
    assert runner.invoke(args=["visits", "export", *period(), "--out", str(out), *options]).exit_code == 0
    assert [row[1] for row in read_xlsx(out)[1:]] == companies


def test_the_period_includes_both_ends(visits, runner, tmp_path):
    out = tmp_path / "ledger.csv"
    day = (today() - timedelta(days=5)).isoformat()
    assert runner.invoke(args=["visits", "export", "--from", day, "--to", day, "--out", str(out)]).exit_code == 0
    assert [r[1] for r in read_csv(out.read_bytes())[1:]] == ["达川新材有限公司"]
    result = runner.invoke(args=["visits", "export", "--from", "2000年1月1日", "--to", "20991231", "--out", str(out)])
    assert result.exit_code == 0 and result.output == "wrote 3 visits to " + str(out) + "\n"
    assert len(read_csv(out.read_bytes())) == 4


@pytest.mark.parametrize("options, reason", [
    (["--from", "2024-13-01", "--to", "2024-12-31", "--out", "x.xlsx"], "不是有效的日历日期"),
    (["--from", "2024-12-31", "--to", "2024-01-01", "--out", "x.xlsx"], "晚于"),
    (["--from", "", "--to", "2024-01-01", "--out", "x.xlsx"], "--from 不能为空"),
    (["--from", "2024-01-01", "--to", " ", "--out", "x.xlsx"], "--to 不能为空"),
    (["--from", "2024-01-01", "--to", "2024-12-31", "--out", "x.pdf"], "不支持的文件类型"),
    (["--from", "2024-01-01", "--to", "2024-12-31", "--out", "x.xlsx", "--area", "成都"], "未知区域"),
    (["--from", "2024-01-01", "--to", "2024-12-31", "--out", "x.xlsx", "--officer", "nobody"], "未知用户"),
    (["--from", "2024-01-01", "--to", "2024-12-31", "--out", "/nonexistent/dir/x.xlsx"], "无法写入"),
])
def test_cli_errors_exit_1_with_one_line_on_stderr(runner, options, reason):
    result = runner.invoke(args=["visits", "export", *options])
    assert result.exit_code == 1
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- the web export -------------------------------------------------------------------------------

def test_the_web_export_applies_the_list_filters(visits, make, auth, client):
    auth.login(make.user("viewer"))
    start = (today() - timedelta(days=30)).isoformat()
    response = client.post("/visits/export", data={"from": start, "officer": visits["zhang"].id, "format": "xlsx"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_xlsx(io.BytesIO(response.data))
    assert rows[0] == COLUMNS and [r[1] for r in rows[1:]] == ["川东电子有限公司"]


def test_the_web_export_refuses_a_period_it_cannot_read_or_that_ends_before_it_starts(visits, make, auth, client):
    """Not a file of the whole ledger: back to the list, filters kept, with the reason."""
    auth.login(make.user("viewer"))
    unread = client.post("/visits/export", data={"from": "上个月", "officer": visits["zhang"].id, "format": "xlsx"})
    assert unread.status_code == 302 and unread.location.startswith("/visits/?") and "officer=" in unread.location
    assert client.get(unread.location).text.count("无法识别的日期：上个月") == 1
    backwards = client.post("/visits/export", data={"from": "2025-12-31", "to": "2025-01-01", "format": "csv"})
    assert backwards.status_code == 302
    assert "开始日期 2025-12-31 晚于结束日期 2025-01-01" in client.get(backwards.location).text


def test_the_web_export_keeps_to_the_users_areas(visits, make, auth, client):
    auth.login(make.user("officer", areas=["511702"]))
    rows = read_csv(client.post("/visits/export", data={"format": "csv"}).data)
    assert [r[1] for r in rows[1:]] == ["川东电子有限公司"]
    outside = client.post("/visits/export", data={"format": "csv", "area": make.area("511703").id})
    assert outside.status_code == 404  # an area outside the user's, as a company outside them


def test_the_web_export_needs_a_csrf_token(visits, app):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    client = create_app(Config).test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "zhangwei", "password": PASSWORD, "csrf_token": token})
    assert client.post("/visits/export", data={"format": "csv"}).status_code == 400
    page = client.get("/visits/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/visits/export", data={"format": "csv", "csrf_token": token}).status_code == 200


def test_the_visit_list_offers_this_month_last_month_and_this_year_keeping_its_other_filters(make, auth, client):
    from datetime import timedelta

    from crm.clock import today

    auth.login(make.user("admin"))
    area = make.area("511703")
    page = client.get(f"/visits/?area={area.id}").text
    on = today()
    last = on.replace(day=1) - timedelta(days=1)
    assert f'href="/visits/?area={area.id}&amp;from={last.replace(day=1).isoformat()}&amp;to={last.isoformat()}"' in page
    chosen = client.get(f"/visits/?area={area.id}&from={on.year}-01-01&to={on.isoformat()}").text
    assert f'from={on.year}-01-01&amp;to={on.isoformat()}" class="active">今年</a>' in chosen
