"""`targets set` and `targets progress` (INTERFACES.md), and the admin page that sets targets."""
import json

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Target
from tests.conftest import d

METRICS = ["hnte_valid", "hnte_new", "hnte_renewed", "tech_sme_registered", "tech_sme_new", "gazelle_new"]
AREAS = ["511702", "511703", "511722", "511723", "511724", "511725", "511781", "达州高新区", "达州东部经开区"]


def targets():
    return {(t.year, t.metric, t.area.name if t.area else None): t.value for t in db.session.scalars(select(Target))}


def test_set_a_city_wide_target(runner):
    result = runner.invoke(args=["targets", "set", "--year", "2023", "--metric", "hnte_valid", "--value", "250"])
    assert result.exit_code == 0, result.output
    assert targets() == {(2023, "hnte_valid", None): 250}


@pytest.mark.parametrize("scope, name", [("511703", "达川区"), ("511721", "达川区"), ("达县", "达川区"),
                                         ("宣汉县", "宣汉县"), ("达州高新区", "达州高新区")])
def test_set_a_target_for_an_area_by_code_old_code_name_or_park(runner, scope, name):
    result = runner.invoke(args=["targets", "set", "--year", "2023", "--metric", "tech_sme_new", "--value", "100",
                                 "--scope", scope])
    assert result.exit_code == 0, result.output
    assert targets() == {(2023, "tech_sme_new", name): 100}


def test_setting_again_replaces_the_value(runner):
    for value in ("30", "35"):
        runner.invoke(args=["targets", "set", "--year", "2023", "--metric", "hnte_new", "--value", value,
                            "--scope", "达州高新区"])
    assert targets() == {(2023, "hnte_new", "达州高新区"): 35}


@pytest.mark.parametrize("args, reason", [
    (["--metric", "hnte_count", "--value", "1"], "未知指标：hnte_count"),
    (["--metric", "hnte_new", "--value", "1", "--scope", "成都市"], "未知区域：成都市"),
    (["--metric", "hnte_new", "--value", "-1"], "目标值不能为负数"),
    (["--metric", "hnte_new", "--value", "99999999999999999999"], "目标值 99999999999999999999 过大"),
])
def test_set_refuses_a_bad_metric_area_or_value_with_one_line(runner, args, reason):
    result = runner.invoke(args=["targets", "set", "--year", "2023", *args])
    assert result.exit_code == 1
    assert reason in result.output and result.output.strip().count("\n") == 0
    assert targets() == {}


def progress_json(runner, *args) -> dict:
    result = runner.invoke(args=["targets", "progress", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_progress_json_has_exactly_the_interfaces_shape(runner, make):
    make.cert(make.company(district="511703"), "hnte", issued_on=d("2021-05-01"), number="GR1")
    runner.invoke(args=["targets", "set", "--year", "2023", "--metric", "hnte_valid", "--value", "250"])
    runner.invoke(args=["targets", "set", "--year", "2023", "--metric", "tech_sme_new", "--value", "100",
                        "--scope", "达州高新区"])
    result = progress_json(runner, "--year", "2023")
    assert list(result) == ["year", "as_of", "metrics", "areas"]
    assert result["year"] == 2023 and result["as_of"] == "2023-12-31"
    assert list(result["metrics"]) == METRICS
    assert result["metrics"]["hnte_valid"] == {"actual": 1, "target": 250}
    assert list(result["areas"]) == AREAS
    for figures in result["areas"].values():
        assert list(figures) == METRICS
        assert all(set(f) == {"actual", "target"} for f in figures.values())
    assert result["areas"]["511703"]["hnte_valid"] == {"actual": 1, "target": None}
    assert result["areas"]["达州高新区"]["tech_sme_new"] == {"actual": 0, "target": 100}


def test_progress_as_of_a_date(runner, make):
    make.cert(make.company(), "hnte", issued_on=d("2020-12-03"), number="GR1")
    assert progress_json(runner, "--year", "2023", "--as-of", "2023-12-02")["metrics"]["hnte_valid"]["actual"] == 1
    assert progress_json(runner, "--year", "2023", "--as-of", "2023年12月3日")["metrics"]["hnte_valid"]["actual"] == 0


def test_progress_as_of_defaults_to_today_within_the_current_year(runner):
    from crm.clock import today

    assert progress_json(runner, "--year", str(today().year))["as_of"] == today().isoformat()

    next_year = progress_json(runner, "--year", str(today().year + 1))  # its targets set ahead, looked at today
    assert next_year["as_of"] == today().isoformat() and next_year["year"] == today().year + 1


@pytest.mark.parametrize("as_of, reason", [("2023-02-30", "2023-02-30"), ("2024-01-01", "不在 2023 年内"),
                                            ("2022-12-31", "不在 2023 年内")])
def test_progress_refuses_a_bad_date_or_one_outside_the_year(runner, as_of, reason):
    result = runner.invoke(args=["targets", "progress", "--year", "2023", "--as-of", as_of, "--json"])
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0 and reason in result.output


# --- the admin page -------------------------------------------------------------------------------

def test_admin_sets_targets_on_the_page(client, auth, make):
    auth.login(make.user("admin"))
    park = make.area("达州高新区")
    response = client.post("/targets/?year=2023", data={"t-city-hnte_valid": "250", f"t-{park.id}-hnte_new": "３０"})
    assert response.status_code == 302
    assert targets() == {(2023, "hnte_valid", None): 250, (2023, "hnte_new", "达州高新区"): 30}
    page = client.get("/targets/?year=2023").get_data(as_text=True)
    assert 'name="t-city-hnte_valid" value="250"' in page
    client.post("/targets/?year=2023", data={f"t-{park.id}-hnte_new": "30"})  # a blank cell clears
    assert targets() == {(2023, "hnte_new", "达州高新区"): 30}


def test_next_years_targets_start_from_last_years_and_are_saved_only_when_saved(client, auth, make):
    auth.login(make.user("admin"))
    park = make.area("达州高新区")
    client.post("/targets/?year=2026", data={"t-city-hnte_valid": "250", f"t-{park.id}-tech_sme_new": "100"})
    empty = client.get("/targets/?year=2027").text
    assert 'href="/targets/?year=2027&amp;copy=1"' in empty and 'value="250"' not in empty
    copied = client.get("/targets/?year=2027&copy=1").text
    assert 'name="t-city-hnte_valid" value="250"' in copied and f'name="t-{park.id}-tech_sme_new" value="100"' in copied
    assert "核对修改后点“保存”才会生效" in copied and (2027, "hnte_valid", None) not in targets()
    client.post("/targets/?year=2027", data={"t-city-hnte_valid": "300", f"t-{park.id}-tech_sme_new": "100"})
    assert targets()[(2027, "hnte_valid", None)] == 300
    assert "copy=1" not in client.get("/targets/?year=2027").text  # set already: nothing to start from


def test_the_page_saves_nothing_when_a_cell_is_not_a_whole_number(client, auth, make):
    auth.login(make.user("admin"))
    response = client.post("/targets/?year=2023", data={"t-city-hnte_valid": "250", "t-city-hnte_new": "2.5"})
    assert response.status_code == 422
    assert "应为整数" in response.get_data(as_text=True)
    assert targets() == {}


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins_set_targets(client, auth, make, role):
    auth.login(make.user(role))
    assert client.get("/targets/").status_code == 403
    assert client.post("/targets/", data={"t-city-hnte_valid": "1"}).status_code == 403
