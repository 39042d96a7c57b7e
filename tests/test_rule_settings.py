"""The configurable rule parameters (DOMAIN §4, §6): admin page, validation, audit, restore default."""
from datetime import date

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import AuditLog, Certification, Setting
from crm.settings import DEFAULTS, get_setting

GAZELLE = {"gazelle-require_hnte": "1", "gazelle-min_base_revenue": "1,000", "gazelle-min_cagr": "20",
           "gazelle-years": "3", "gazelle-validity_years": "3"}
LEADS = {"reminder_leads-" + kind: ", ".join(map(str, days)) for kind, days in DEFAULTS["reminder_leads"].items()}


@pytest.fixture
def admin(make, auth):
    user = make.user("admin")
    auth.login(user)
    return user


def test_page_shows_every_setting_with_its_current_value(admin, client):
    page = client.get("/admin/settings").get_data(as_text=True)
    for key in DEFAULTS:
        assert f'id="setting-{key}"' in page
    assert 'value="180, 90, 30, 7"' in page and 'value="20"' in page and 'value="1000"' in page


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins(make, auth, client, role):
    auth.login(make.user(role))
    assert client.get("/admin/settings").status_code == 403
    assert client.post("/admin/settings/gazelle", data=GAZELLE).status_code == 403
    assert db.session.get(Setting, "gazelle") is None


def test_gazelle_parameters_are_typed_and_stored_as_the_rule_reads_them(admin, client):
    response = client.post("/admin/settings/gazelle", data={**GAZELLE, "gazelle-min_cagr": "２５％",
                                                            "gazelle-min_base_revenue": "1500万元", "gazelle-require_hnte": "0"})
    assert response.status_code == 302
    assert get_setting("gazelle") == {"require_hnte": False, "min_base_revenue": "1500", "min_cagr": "0.25",
                                      "years": 3, "validity_years": 3}
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "setting"))
    assert (entry.user_id, entry.action) == (admin.id, "update")
    assert entry.changes == {"gazelle.min_cagr": ["0.20", "0.25"], "gazelle.min_base_revenue": ["1000", "1500"],
                             "gazelle.require_hnte": [True, False]}


@pytest.mark.parametrize("field, value, message", [
    ("gazelle-min_cagr", "很多", "请填写百分数"),
    ("gazelle-min_cagr", "NaN", "请填写百分数"),
    ("gazelle-min_cagr", "Infinity", "请填写百分数"),
    ("gazelle-min_cagr", "-5", "0% 到 1000%"),
    ("gazelle-min_base_revenue", "-1", "不能为负数"),
    ("gazelle-min_base_revenue", "", "请填写基期营业收入下限"),
    ("gazelle-years", "1", "2 到 10"),
    ("gazelle-validity_years", "0", "1 到 10"),
])
def test_gazelle_validation(admin, client, field, value, message):
    response = client.post("/admin/settings/gazelle", data={**GAZELLE, field: value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert "未保存" in response.text and 'action="/admin/settings/gazelle#setting-gazelle"' in response.text
    assert db.session.get(Setting, "gazelle") is None


def test_reminder_leads_accept_chinese_separators_and_are_sorted(admin, client):
    response = client.post("/admin/settings/reminder_leads",
                           data={**LEADS, "reminder_leads-hnte_expiry": "30，180、7 90 7"})
    assert response.status_code == 302
    assert get_setting("reminder_leads")["hnte_expiry"] == [180, 90, 30, 7]
    assert get_setting("reminder_leads")["follow_up_due"] == [3, 0]
    client.post("/admin/settings/reminder_leads", data={**LEADS, "reminder_leads-hnte_expiry": "90, 30"})
    page = client.get("/admin/settings").text  # the change log names the setting as the page does
    assert "<li>提醒提前天数 · 高企证书到期：180、90、30、7 → 90、30</li>" in page


@pytest.mark.parametrize("value, message", [("30, -1", "请填写以逗号分隔的天数"), ("7, 两周", "请填写以逗号分隔的天数"),
                                            ("9999", "提前天数不能超过 3650 天")])
def test_reminder_leads_validation(admin, client, value, message):
    response = client.post("/admin/settings/reminder_leads", data={**LEADS, "reminder_leads-round_deadline": value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert get_setting("reminder_leads") == DEFAULTS["reminder_leads"]


def test_the_reminders_page_and_this_page_edit_the_leads_alike_and_both_are_logged(admin, client):
    """Blank turns a kind off on either page; full-width digits and 、 are read; each save is in the change log."""
    assert client.post("/admin/settings/reminder_leads",
                       data={**LEADS, "reminder_leads-round_deadline": ""}).status_code == 302
    assert get_setting("reminder_leads")["round_deadline"] == []
    assert client.post("/reminders/admin/leads", data={**{k.split("-", 1)[1]: v for k, v in LEADS.items()},
                                                       "hnte_expiry": "１８０、９０；30"}).status_code == 302
    assert get_setting("reminder_leads")["hnte_expiry"] == [180, 90, 30]
    page = client.get("/admin/settings").text
    assert "提醒提前天数 · 高企证书到期：180、90、30、7 → 180、90、30" in page
    assert "提醒提前天数 · 申报批次截止：14、7、1 → —" in page


def test_visit_staleness(admin, client):
    assert client.post("/admin/settings/visit_staleness",
                       data={"visit_staleness-pooled": "60", "visit_staleness-default": "0"}).status_code == 422
    assert client.post("/admin/settings/visit_staleness",
                       data={"visit_staleness-pooled": "60", "visit_staleness-default": "120"}).status_code == 302
    assert get_setting("visit_staleness") == {"pooled": 60, "default": 120}
    client.post("/visits/settings/staleness",
                data={"stale-pooled": "60", "stale-default": "120", "stale-gazelle": "30"})
    assert get_setting("visit_staleness") == {"pooled": 60, "default": 120, "gazelle": 30}
    assert client.post("/admin/settings/visit_staleness", data={
        "visit_staleness-pooled": "45", "visit_staleness-default": "120",
        "visit_staleness-gazelle": "30"}).status_code == 302
    assert get_setting("visit_staleness") == {"pooled": 45, "default": 120, "gazelle": 30}  # the rung's own kept
    assert "走访超期天数 · 瞪羚企业（天，留空则同“其他企业”）：— → 30" in client.get("/admin/settings").text


def test_saving_unchanged_values_writes_nothing(admin, client):
    client.post("/admin/settings/gazelle", data=GAZELLE)
    assert db.session.get(Setting, "gazelle") is None
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity == "setting")) is None


def test_restore_default(admin, client):
    client.post("/admin/settings/visit_staleness", data={"visit_staleness-pooled": "60", "visit_staleness-default": "120"})
    assert "已修改" in client.get("/admin/settings").get_data(as_text=True)
    assert client.post("/admin/settings/visit_staleness/reset").status_code == 302
    assert db.session.get(Setting, "visit_staleness") is None and get_setting("visit_staleness") == DEFAULTS["visit_staleness"]
    last = db.session.scalars(select(AuditLog).where(AuditLog.entity == "setting").order_by(AuditLog.id)).all()[-1]
    assert last.action == "delete" and last.changes == {"visit_staleness.default": [120, 180], "visit_staleness.pooled": [60, 90]}
    assert client.post("/admin/settings/nonsense/reset").status_code == 404


def test_changing_gazelle_validity_rederives_existing_recognitions(admin, client, make):
    company = make.company()
    recognised = make.cert(company, "gazelle", year=2022, number="DL1")
    stated = make.cert(company, "gazelle", year=2020, number="DL0", expires_on=date(2021, 6, 30))
    hnte = make.cert(company, "hnte", issued_on=date(2022, 3, 1))
    assert recognised.valid_until == date(2024, 12, 31)
    client.post("/admin/settings/gazelle", data={**GAZELLE, "gazelle-validity_years": "2"})
    assert db.session.get(Certification, recognised.id).valid_until == date(2023, 12, 31)
    assert db.session.get(Certification, stated.id).valid_until == date(2021, 6, 30)  # a stated expiry wins
    assert db.session.get(Certification, hnte.id).valid_until == date(2025, 2, 28)
    client.post("/admin/settings/gazelle/reset")
    assert db.session.get(Certification, recognised.id).valid_until == date(2024, 12, 31)
    later = make.cert(company, "gazelle", year=2024, number="DL2")  # new ones follow the setting too
    assert later.valid_until == date(2026, 12, 31)


def test_a_setting_added_by_another_capability_is_edited_as_json(admin, client, monkeypatch):
    monkeypatch.setitem(DEFAULTS, "visit_reasons", {"max": 5})
    assert 'id="setting-visit_reasons"' in client.get("/admin/settings").get_data(as_text=True)
    assert client.post("/admin/settings/visit_reasons", data={"visit_reasons-json": '{"max": "x"}'}).status_code == 422
    assert client.post("/admin/settings/visit_reasons", data={"visit_reasons-json": '{"max": 7}'}).status_code == 302
    assert get_setting("visit_reasons") == {"max": 7}
