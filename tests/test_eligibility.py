"""Eligibility checks (DOMAIN.md §2 科小, §3 高企, §4 瞪羚, §9): one test per clause and band edge."""
import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from crm.ladder import eligibility as el
from crm.ladder.eligibility import (
    GROWTH_BANDS,
    CompanyFacts, GazelleParams, YearFigures, check_all, check_gazelle, check_hnte, check_tech_sme,
    growth_points, growth_rate, tech_sme_score,
)

PROPERTY = settings(database=None, deadline=None)  # no example database written into the project

YEAR = 2024  # application year; fiscal years 2021–2023


def facts(*figures, **kw):
    base = dict(founded_on=date(2015, 1, 1), tech_field="电子信息", restricted_industry=False, integrity_ok=True,
                no_major_accident=True, national_award=False, provincial_rd_institution=False, led_standard=False,
                holds_valid_hnte=False, figures=figures)
    return CompanyFacts(**{**base, **kw})


def sme_fig(**kw):
    """2023 figures scoring 70: tech staff 30% (20) + R&D 6% of revenue (50) + no IP (0)."""
    base = dict(employees=100, tech_staff=30, revenue=D(1000), rd_expense=D(60), total_cost=D(900),
                total_assets=D(1000), ip_class1=0, ip_class2=0)
    return YearFigures(2023, **{**base, **kw})


def sme(**kw):
    return check_tech_sme(facts(sme_fig(**kw)), YEAR)


def result(kind, name):
    return next(c for c in kind.checks if c.name == name)


# ---- 科小 score (§2.2) ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("tech_staff, points", [
    (3000, 20), (2999, 16), (2500, 16), (2499, 12), (2000, 12), (1999, 8), (1500, 8), (1499, 4), (1000, 4), (999, 0),
])
def test_tech_staff_band_edges(tech_staff, points):
    assert tech_sme_score(sme_fig(employees=10000, tech_staff=tech_staff))[1]["tech_staff"] == points


@pytest.mark.parametrize("rd, points", [
    ("600", 50), ("599.99", 40), ("500", 40), ("499.99", 30), ("400", 30), ("399.99", 20),
    ("300", 20), ("299.99", 10), ("200", 10), ("199.99", 0),
])
def test_rd_band_edges_a_revenue(rd, points):
    fig = sme_fig(revenue=D(10000), rd_expense=D(rd), total_cost=None)  # only (a) computable: use it
    assert tech_sme_score(fig)[1]["rd"] == points


@pytest.mark.parametrize("rd, points", [
    ("3000", 50), ("2999.99", 40), ("2500", 40), ("2499.99", 30), ("2000", 30), ("1999.99", 20),
    ("1500", 20), ("1499.99", 10), ("1000", 10), ("999.99", 0),
])
def test_rd_band_edges_b_total_cost(rd, points):
    fig = sme_fig(revenue=None, rd_expense=D(rd), total_cost=D(10000))  # only (b) computable: use it
    assert tech_sme_score(fig)[1]["rd"] == points


@pytest.mark.parametrize("revenue, total_cost, points", [
    (10000, 2000, 30),  # a 4% → 30, b 20% → 30
    (10000, 1500, 40),  # a 4% → 30, b 26.7% → 40: the higher, (b)
    (5000, 2000, 50),   # a 8% → 50, b 20% → 30: the higher, (a)
])
def test_rd_takes_the_higher_of_a_and_b(revenue, total_cost, points):
    assert tech_sme_score(sme_fig(revenue=D(revenue), rd_expense=D(400), total_cost=D(total_cost)))[1]["rd"] == points


@pytest.mark.parametrize("class1, class2, points", [
    (1, 0, 30), (3, 9, 30), (1, None, 30), (0, 9, 24), (0, 4, 24), (0, 3, 18), (0, 2, 12), (0, 1, 6), (0, 0, 0),
])
def test_ip_bands(class1, class2, points):
    assert tech_sme_score(sme_fig(ip_class1=class1, ip_class2=class2))[1]["ip"] == points


@pytest.mark.parametrize("kw, missing", [
    (dict(ip_class1=None, ip_class2=5), ["ip_class1"]), (dict(ip_class2=None), ["ip_class2"]),  # class I is 0
    (dict(rd_expense=None), ["rd_expense"]), (dict(revenue=None, total_cost=None), ["revenue", "total_cost"]),
    (dict(employees=None), ["employees"]),
])
def test_score_is_none_when_a_part_cannot_be_computed(kw, missing):
    score, _, names = tech_sme_score(sme_fig(**kw))
    assert score is None and names == missing


def test_score_sums_the_parts():
    assert tech_sme_score(sme_fig(tech_staff=20, ip_class2=3)) == (80, {"tech_staff": 12, "rd": 50, "ip": 18}, [])


# ---- 科小 conditions (§2.1) ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kw, outcome", [
    ("size_employees", dict(employees=500, tech_staff=150), "pass"),
    ("size_employees", dict(employees=501, tech_staff=151), "fail"),
    ("size_revenue", dict(revenue=D("20000"), rd_expense=D(1200)), "pass"),
    ("size_revenue", dict(revenue=D("20000.01"), rd_expense=D(1200)), "fail"),
    ("size_assets", dict(total_assets=D("20000")), "pass"),
    ("size_assets", dict(total_assets=D("20000.01")), "fail"),
])
def test_size_limits(name, kw, outcome):
    res = sme(**kw)
    assert result(res, name).result == outcome
    assert res.eligible is (outcome == "pass")


def test_a_passing_company():
    res = sme()
    assert res.eligible and res.score == 70 and not res.direct and res.failed == [] and res.missing == []
    assert "需 ≥ 60 分" in result(res, "score").message


def test_score_exactly_60_passes():
    res = sme(rd_expense=D(50), total_cost=D(100000))  # 20 + 40 (5% of revenue) + 0
    assert res.score == 60 and result(res, "score").result == "pass" and res.eligible


def test_score_58_the_highest_attainable_below_60_fails():
    res = sme(tech_staff=20, rd_expense=D(50), total_cost=D(100000), ip_class2=1)  # 12 + 40 + 6
    assert res.score == 58 and res.failed == ["score"] and not res.eligible


def test_score_59_fails(monkeypatch):  # every part is even, so 59 only arises through the scorer itself
    monkeypatch.setattr(el, "tech_sme_score", lambda fig: (59, {"tech_staff": 20, "rd": 39, "ip": 0}, []))
    res = sme()
    assert result(res, "score").result == "fail" and not res.eligible


def test_tech_staff_below_10_percent_fails_whatever_the_total():  # 9.99% needs 10,000 staff: see the band test
    res = sme(employees=500, tech_staff=49, ip_class1=1)  # 9.8%: 0 + 50 + 30 = 80
    assert res.score == 80 and result(res, "score").result == "pass"
    assert res.failed == ["tech_staff_nonzero"] and not res.eligible
    assert "9.8%" in result(res, "tech_staff_nonzero").message


def test_tech_staff_exactly_10_percent_scores_4_and_passes_the_nonzero_rule():
    res = sme(employees=500, tech_staff=50, ip_class1=1)
    assert res.parts["tech_staff"] == 4 and res.eligible


@pytest.mark.parametrize("name, kw, outcome", [
    ("restricted_industry", dict(restricted_industry=True), "fail"),
    ("restricted_industry", dict(restricted_industry=None), "pass"),
    ("integrity", dict(integrity_ok=False), "fail"),
    ("integrity", dict(integrity_ok=None), "pass"),
])
def test_declarations_decide_when_made_and_hold_until_then(name, kw, outcome):
    """§2.1 conditions 3–4 are an officer's declarations: one made against fails; one not made yet holds (the
    rule that nothing missing passes is about figures) and stays listed for the officer to confirm."""
    res = check_tech_sme(facts(sme_fig(), **kw), YEAR)
    assert result(res, name).result == outcome and res.eligible is (outcome == "pass")
    label = el.LABELS["restricted_industry" if name == "restricted_industry" else "integrity_ok"]
    assert (label in res.missing_figures) is (None in kw.values())


def test_figures_come_from_the_previous_fiscal_year():
    res = check_tech_sme(facts(replace(sme_fig(), year=2024)), YEAR)
    assert not res.eligible and res.score is None
    assert set(res.missing) == {"size_employees", "size_revenue", "size_assets", "score", "tech_staff_nonzero"}
    assert "2023年职工总数" in res.missing_figures


def test_rd_from_one_alternative_when_the_other_could_still_lift_the_score_is_missing():
    res = sme(rd_expense=D(40), total_cost=None)  # 20 + 30 (4% of revenue) = 50; (b) could give 50 → 70
    assert res.score == 50 and result(res, "score").result == "missing" and not res.eligible
    assert res.missing_figures == ["2023年成本费用总额"]


def test_rd_from_one_alternative_decides_when_the_other_cannot_change_the_verdict():
    assert sme(total_cost=None).eligible  # (a) alone gives 70
    res = sme(tech_staff=10, rd_expense=D(20), total_cost=None)  # 4 + 10 = 14, at most 54 with (b)
    assert result(res, "score").result == "fail"


# ---- 直通车 (§2.3) ------------------------------------------------------------------------------------------

ZERO = dict(tech_staff=0, rd_expense=D(0), ip_class1=0, ip_class2=0)


@pytest.mark.parametrize("ground", ["holds_valid_hnte", "national_award", "provincial_rd_institution", "led_standard"])
def test_direct_qualification_with_a_score_of_0(ground):
    res = check_tech_sme(facts(sme_fig(**ZERO), **{ground: True}), YEAR)
    assert res.score == 0 and res.direct is True and res.eligible is True and res.direct_grounds
    # "regardless of score": the score checks are shown, not listed as failed conditions of an eligible company
    assert res.failed == [] and res.missing == []
    shown = {c["name"]: c for c in res.to_dict()["checks"]}
    assert (shown["score"]["result"], shown["score"]["waived"], shown["tech_staff_nonzero"]["waived"]) == (
        "fail", True, True)
    assert shown["size_employees"]["waived"] is False


def test_direct_qualification_with_the_score_s_figures_missing_lists_nothing_missing():
    res = check_tech_sme(facts(sme_fig(tech_staff=None, ip_class1=None, ip_class2=None), holds_valid_hnte=True), YEAR)
    assert res.eligible and res.direct and res.score is None
    assert (res.missing, res.failed, res.missing_figures) == ([], [], [])


def test_tech_staff_part_0_without_a_direct_ground_fails():
    res = check_tech_sme(facts(sme_fig(**ZERO)), YEAR)
    assert res.direct is False and not res.eligible and set(res.failed) == {"score", "tech_staff_nonzero"}


@pytest.mark.parametrize("kw", [dict(employees=501), dict(revenue=D("20000.01")), dict(total_assets=None)])
def test_direct_qualification_still_needs_the_size_conditions(kw):
    res = check_tech_sme(facts(sme_fig(**kw), holds_valid_hnte=True), YEAR)
    assert res.direct is False and not res.eligible


@pytest.mark.parametrize("kw", [dict(restricted_industry=True), dict(integrity_ok=False)])
def test_direct_qualification_still_needs_the_declarations(kw):
    res = check_tech_sme(facts(sme_fig(**ZERO), holds_valid_hnte=True, **kw), YEAR)
    assert res.direct is False and not res.eligible


# ---- 高企 (§3.1) --------------------------------------------------------------------------------------------

def hnte_year(year, **kw):
    """Figures for a passing 高企: R&D 6.25%, all in China, high-tech revenue 75%, IP 8 points."""
    base = dict(employees=100, tech_staff=20, revenue=D(4000), rd_expense=D(250), rd_domestic=D(250),
                total_cost=D(3500), total_assets=D(6000), net_assets=D(1000 + 500 * (year - 2021)),
                high_tech_revenue=D(3000), ip_class1=1, ip_class2=5,
                est_ip_other=20, est_conversion=25, est_rd_management=15)
    return YearFigures(year, **{**base, **kw})


def hnte_facts(years=None, **kw):
    years = years or {}
    return facts(*(hnte_year(y, **years.get(y, {})) for y in (2021, 2022, 2023)), **kw)


def hnte(years=None, on=None, **kw):
    return check_hnte(hnte_facts(years, **kw), YEAR, on)


def test_a_passing_hnte():
    res = hnte()
    assert res.eligible and res.failed == [] and res.missing == []
    assert res.innovation["total"] == 78  # 8 + 20 + 25 + 15 + net assets 10 + revenue growth 0


def test_registered_365_days_boundary():
    on = date(2024, 6, 30)
    assert result(hnte(on=on, founded_on=on - timedelta(days=365)), "registered_365").result == "pass"
    assert result(hnte(on=on, founded_on=on - timedelta(days=364)), "registered_365").result == "fail"
    assert result(hnte(founded_on=None), "registered_365").result == "missing"


@pytest.mark.parametrize("class1, class2, outcome", [
    (0, 0, "fail"), (0, 1, "pass"), (1, 0, "pass"),
    (1, None, "pass"), (None, 1, "pass"),  # one item of either class decides it, the other count unneeded
    (0, None, "missing"), (None, 0, "missing"), (None, None, "missing"),
])
def test_ip_owned(class1, class2, outcome):
    assert result(hnte({2023: dict(ip_class1=class1, ip_class2=class2)}), "ip_owned").result == outcome


@pytest.mark.parametrize("tech_field, outcome", [
    *((f, "pass") for f in el.HNTE_FIELDS), ("房地产", "fail"), (None, "missing"),
])
def test_tech_field(tech_field, outcome):
    assert result(hnte(tech_field=tech_field), "tech_field").result == outcome


@pytest.mark.parametrize("tech_staff, outcome", [(1000, "pass"), (999, "fail")])
def test_tech_staff_ratio_10_percent(tech_staff, outcome):
    assert result(hnte({2023: dict(employees=10000, tech_staff=tech_staff)}), "tech_staff_ratio").result == outcome


def rd_years(revenues, rds):
    return {y: dict(revenue=D(r), rd_expense=D(x), rd_domestic=D(x), high_tech_revenue=D(r))
            for y, r, x in zip((2021, 2022, 2023), revenues, rds)}


@pytest.mark.parametrize("revenues, rds, required, outcome", [
    (("5000", "5000", "5000"), ("250", "250", "250"), 0.05, "pass"),            # exactly 5% at exactly 5,000
    (("5000", "5000", "5000"), ("250", "250", "249.99"), 0.05, "fail"),
    (("5000", "5000", "5000"), ("225", "225", "225"), 0.05, "fail"),            # 4.5% is not enough at 5,000
    (("4999.99", "5000", "5000.01"), ("200", "200", "200"), 0.04, "pass"),      # 4% from 5,000.01
    (("4999.99", "5000", "5000.01"), ("200", "200", "199.99"), 0.04, "fail"),
    (("20000", "20000", "20000"), ("800", "800", "800"), 0.04, "pass"),         # 4% up to 20,000 inclusive
    (("20000", "20000", "20000"), ("800", "800", "799.99"), 0.04, "fail"),
    (("19999.99", "20000", "20000.01"), ("600", "600", "600"), 0.03, "pass"),   # 3% above 20,000
    (("19999.99", "20000", "20000.01"), ("600", "600", "599.99"), 0.03, "fail"),
])
def test_rd_ratio_thresholds_by_latest_revenue(revenues, rds, required, outcome):
    check = result(hnte(rd_years(revenues, rds)), "rd_ratio")
    assert (check.result, check.required) == (outcome, required)


def test_rd_ratio_message_states_figure_and_band():
    check = result(hnte(rd_years(("8000",) * 3, ("328",) * 3)), "rd_ratio")
    assert check.value == 0.041 and "4.1%" in check.message and "5,000–20,000 万元档" in check.message


def test_a_younger_company_uses_the_years_since_founding():
    f = facts(hnte_year(2022), hnte_year(2023), founded_on=date(2022, 3, 1))
    res = check_hnte(f, YEAR)
    assert result(res, "rd_ratio").result == "pass" and "2022–2023年" in result(res, "rd_ratio").message
    assert res.innovation["parts"]["growth_revenue"]["points"] == 0  # y1 = 0 → 4000/4000 − 1 = 0
    assert res.innovation["parts"]["growth_net_assets"]["points"] == 8  # y1 = 0 → 2000/1500 − 1 = 33.3%


def test_a_missing_year_in_the_window_is_missing():
    f = facts(hnte_year(2022), hnte_year(2023))  # founded 2015 but no 2021 figures
    res = check_hnte(f, YEAR)
    assert {"rd_ratio", "rd_domestic_ratio", "innovation_score"} <= set(res.missing) and not res.eligible
    assert "2021年研发费用" in res.missing_figures


@pytest.mark.parametrize("domestic, outcome", [(("150", "150", "150"), "pass"), (("150", "150", "149.99"), "fail")])
def test_rd_domestic_60_percent(domestic, outcome):
    years = {y: dict(rd_domestic=D(d)) for y, d in zip((2021, 2022, 2023), domestic)}
    assert result(hnte(years), "rd_domestic_ratio").result == outcome


@pytest.mark.parametrize("high_tech, outcome", [("2400", "pass"), ("2399.99", "fail")])
def test_high_tech_revenue_60_percent(high_tech, outcome):
    assert result(hnte({2023: dict(high_tech_revenue=D(high_tech))}), "high_tech_revenue_ratio").result == outcome


@pytest.mark.parametrize("flag, outcome", [(True, "pass"), (False, "fail"), (None, "pass")])  # None: not declared yet
def test_no_major_accident(flag, outcome):
    res = hnte(no_major_accident=flag)
    assert result(res, "no_major_accident").result == outcome and res.eligible is (outcome == "pass")


# ---- 高企 innovation score (§3.1.7) ----------------------------------------------------------------------

@pytest.mark.parametrize("y1, y2, y3, rate", [
    (100, 135, D("182.25"), D("0.35")), (9, 12, D("16.4"), D("0.35")),  # exact even through 4/3 and 41/30
    (0, 100, 135, D("0.35")),                                          # y1 = 0: y3 / y2 − 1
    (100, 100, 100, D(0)), (100, 90, 81, D("-0.1")),
    (100, 0, 50, None), (0, 0, 0, None),                               # y2 = 0: no rate, 0 points
])
def test_growth_rate(y1, y2, y3, rate):
    assert growth_rate(y1, y2, y3) == rate


@pytest.mark.parametrize("rate, points", [
    ("0.35", 10), ("0.3499", 8), ("0.25", 8), ("0.2499", 6), ("0.15", 6), ("0.1499", 4),
    ("0.05", 4), ("0.0499", 2), ("0.0001", 2), ("0", 0), ("-0.2", 0), (None, 0),
])
def test_growth_points_bands(rate, points):
    assert growth_points(None if rate is None else D(rate)) == points


@pytest.mark.parametrize("class1, class2, points", [
    (1, 0, 8), (1, None, 8), (0, 5, 6), (0, 4, 4), (0, 3, 4), (0, 2, 2), (0, 1, 2), (0, 0, 0), (0, None, None),
])
def test_ip_quantity_points_at_band_upper_value(class1, class2, points):
    res = hnte({2023: dict(ip_class1=class1, ip_class2=class2)})
    assert res.innovation["parts"]["ip_quantity"]["points"] == points


@pytest.mark.parametrize("conversion, outcome", [(18, "pass"), (17, "fail")])  # 71 passes, 70 fails
def test_innovation_score_71(conversion, outcome):
    check = result(hnte({2023: dict(est_conversion=conversion)}), "innovation_score")
    assert (check.result, check.value, check.estimate) == (outcome, 71 if outcome == "pass" else 70, True)


def test_estimates_are_flagged_and_capped():
    res = hnte({2023: dict(est_conversion=99)})
    parts = res.innovation["parts"]
    assert parts["conversion"] == {"label": "科技成果转化能力", "points": 30, "max": 30, "estimate": True}
    assert parts["ip_quantity"]["estimate"] is False and parts["growth_revenue"]["estimate"] is False
    check = result(res, "innovation_score")
    assert check.estimate is True and "（估）" in check.message


@pytest.mark.parametrize("estimate", ["est_ip_other", "est_conversion", "est_rd_management"])
def test_missing_estimate_is_missing_but_figures_can_still_pass(estimate):
    res = hnte({2023: {estimate: None}})
    check = result(res, "innovation_score")
    assert check.result == "missing" and check.estimate is True and not res.eligible
    assert res.figures_pass  # §9: officer estimates aside


@pytest.mark.parametrize("year, name", [
    *((2023, n) for n in ("employees", "tech_staff", "revenue", "rd_expense", "rd_domestic", "high_tech_revenue",
                          "ip_class1", "net_assets", "est_ip_other")),  # Ⅱ类: class I decides (test_ip_owned)
    *((2021, n) for n in ("revenue", "rd_expense", "rd_domestic", "net_assets")),
])
def test_a_missing_hnte_figure_is_missing_and_never_eligible(year, name):
    res = hnte({year: {name: None}})
    assert not res.eligible and res.missing and f"{year}年{el.LABELS[name]}" in res.missing_figures


# ---- 瞪羚 (§4) ----------------------------------------------------------------------------------------------

def gazelle(first="1000", last="1440", params=GazelleParams(), **kw):
    figs = (YearFigures(2021, revenue=None if first is None else D(first)),
            YearFigures(2023, revenue=None if last is None else D(last)))
    return check_gazelle(facts(*figs, **{"holds_valid_hnte": True, **kw}), YEAR, params)


def test_gazelle_exactly_20_percent_cagr_passes():
    res = gazelle()
    assert res.eligible and result(res, "revenue_cagr").value == 0.2
    assert "参数" in result(res, "revenue_cagr").message and "20%" in result(res, "revenue_cagr").message


def test_gazelle_just_below_the_growth_fails():
    assert gazelle(last="1439.99").failed == ["revenue_cagr"]


def test_gazelle_min_cagr_parameter_flips_the_result():
    res = gazelle(params=GazelleParams(min_cagr=D("0.25")))
    assert res.failed == ["revenue_cagr"] and "25%" in result(res, "revenue_cagr").message
    assert gazelle(last="1200", params=GazelleParams(min_cagr=D("0.09"))).eligible


def test_gazelle_base_revenue_parameter():
    assert result(gazelle(), "base_revenue").result == "pass"
    res = gazelle(params=GazelleParams(min_base_revenue=D("1000.01")))
    assert res.failed == ["base_revenue"] and "1,000.01 万元" in result(res, "base_revenue").message


def test_gazelle_requires_hnte_unless_configured_not_to():
    assert gazelle(holds_valid_hnte=False).failed == ["holds_hnte"]
    assert gazelle(holds_valid_hnte=False, params=GazelleParams(require_hnte=False)).eligible


def test_gazelle_years_parameter_moves_the_base_year():
    f = facts(YearFigures(2020, revenue=D(1000)), YearFigures(2023, revenue=D(1728)), holds_valid_hnte=True)
    res = check_gazelle(f, YEAR, GazelleParams(years=4))
    assert res.eligible and "2020年（基期）" in result(res, "base_revenue").message and res.params["years"] == 4


@pytest.mark.parametrize("first, last", [(None, "1440"), ("1000", None)])
def test_gazelle_missing_revenue_is_missing(first, last):
    res = gazelle(first, last)
    assert "revenue_cagr" in res.missing and not res.eligible


# ---- check_all (INTERFACES.md) ---------------------------------------------------------------------------

def test_check_all_shape_and_json():
    out = check_all(hnte_facts(holds_valid_hnte=True), YEAR, date(2024, 6, 30))
    json.dumps(out)
    assert set(out) == {"tech_sme", "hnte", "gazelle"}
    assert {"eligible", "score", "parts", "direct", "missing", "failed", "checks"} <= set(out["tech_sme"])
    assert set(out["tech_sme"]["parts"]) == {"tech_staff", "rd", "ip"}
    for kind in out.values():
        for check in kind["checks"]:
            assert set(check) == {"name", "result", "value", "required", "message", "estimate", "waived"}
            assert check["result"] in ("pass", "fail", "missing")
    rd = next(c for c in out["hnte"]["checks"] if c["name"] == "rd_ratio")
    assert rd["value"] == 0.0625 and rd["required"] == 0.05
    assert out["gazelle"]["params"]["min_cagr"] == 0.2


def test_check_all_reports_a_null_score_and_nothing_eligible_without_figures():
    out = check_all(facts(holds_valid_hnte=True), YEAR)
    assert out["tech_sme"]["score"] is None and "ip_class2" in out["tech_sme"]["missing"]
    assert not any(kind["eligible"] for kind in out.values())


def test_gazelle_params_as_stored_in_settings():  # the settings table holds amounts as strings
    assert gazelle(params=GazelleParams(min_base_revenue="1000", min_cagr="0.20")).eligible


def test_a_company_founded_this_year_has_no_rd_record():
    res = check_hnte(hnte_facts(founded_on=date(2024, 1, 2)), YEAR, date(2024, 6, 30))
    assert {"registered_365", "rd_ratio", "rd_domestic_ratio"} <= set(res.failed)


@pytest.mark.parametrize("kw, part, points", [
    (dict(revenue=D(0), total_cost=None), "rd", None),          # R&D over no revenue is no share: costs decide
    (dict(rd_expense=D(0), revenue=D(0), total_cost=D(0)), "rd", 0),
    (dict(employees=0, tech_staff=0), "tech_staff", 0),
])
def test_zero_denominators(kw, part, points):
    assert tech_sme_score(sme_fig(**kw))[1][part] == points


# ---- properties ----------------------------------------------------------------------------------------------

money = st.integers(0, 10**8).map(lambda cents: D(cents) / 100)
some_money = st.integers(1, 10**8).map(lambda cents: D(cents) / 100)  # a share's only measure: over nothing is none


@st.composite
def sme_figures(draw):
    employees = draw(st.integers(1, 2000))
    revenue, total_cost = draw(st.sampled_from([(money, money), (some_money, st.none()), (st.none(), some_money)]))
    return YearFigures(2023, employees=employees, tech_staff=draw(st.integers(0, employees)),
                       revenue=draw(revenue), rd_expense=draw(money), total_cost=draw(total_cost),
                       total_assets=draw(money), ip_class1=draw(st.integers(0, 3)), ip_class2=draw(st.integers(0, 8)))


@PROPERTY
@given(sme_figures(), st.sampled_from(["tech_staff", "rd_expense", "ip_class1", "ip_class2", "revenue", "total_cost"]),
       st.integers(1, 10**7))
def test_score_never_decreases_when_a_figure_improves(fig, name, step):
    value = getattr(fig, name)
    if value is None:
        return
    better = {"tech_staff": min(fig.employees, value + step), "rd_expense": value + D(step) / 100,
              "ip_class1": value + step, "ip_class2": value + step,
              "revenue": max(D("0.01"), value - D(step) / 100), "total_cost": max(D("0.01"), value - D(step) / 100)}[name]
    before, after = tech_sme_score(fig)[0], tech_sme_score(replace(fig, **{name: better}))[0]
    assert before is not None and after is not None and after >= before


@st.composite
def eligible_facts(draw):
    """Random figures that pass every kind, so that the one dropped figure is what must stop eligibility."""
    first = draw(st.integers(100000, 1000000).map(lambda cents: D(cents) / 100))  # 1,000–10,000 万元
    figs = []
    for year, growth in ((2021, D(1)), (2022, D("1.25")), (2023, D("1.5"))):
        revenue = (first * growth).quantize(D("0.01"))
        rd = (revenue * D("0.07")).quantize(D("0.01"))
        employees = draw(st.integers(10, 500))
        figs.append(YearFigures(
            year, employees=employees, tech_staff=draw(st.integers(-(-employees * 3 // 10), employees)),
            revenue=revenue, rd_expense=rd, rd_domestic=rd, total_cost=revenue, high_tech_revenue=revenue,
            total_assets=draw(st.integers(0, 2 * 10**6).map(lambda c: D(c) / 100)), net_assets=draw(money),
            ip_class1=draw(st.integers(1, 3)), ip_class2=draw(st.integers(0, 6)),
            est_ip_other=22, est_conversion=30, est_rd_management=20))
    return facts(*figs, founded_on=date(2010, 1, 1), holds_valid_hnte=True)


NEEDED = {
    "tech_sme": [(2023, n) for n in ("employees", "revenue", "total_assets")],
    # The Ⅱ类 count is needed only without a class-I item (test_ip_owned, test_ip_bands); these companies have one.
    "tech_sme_no_direct": [(2023, n) for n in ("tech_staff", "rd_expense", "ip_class1")],
    "hnte": [(y, n) for y in (2021, 2022, 2023) for n in ("revenue", "rd_expense", "rd_domestic", "net_assets")]
    + [(2023, n) for n in ("employees", "tech_staff", "high_tech_revenue", "ip_class1",
                           "est_ip_other", "est_conversion", "est_rd_management")],
    "gazelle": [(2021, "revenue"), (2023, "revenue")],
}


@pytest.mark.parametrize("kind, year, name", [(k, y, n) for k, fields in NEEDED.items() for y, n in fields])
@settings(PROPERTY, max_examples=30)
@given(f=eligible_facts())
def test_never_eligible_when_a_needed_figure_is_missing(f, kind, year, name):
    if kind == "tech_sme_no_direct":
        kind, f = "tech_sme", replace(f, holds_valid_hnte=False)
    assert check_all(f, YEAR)[kind]["eligible"] is True
    figs = tuple(replace(g, **{name: None}) if g.year == year else g for g in f.figures)
    out = check_all(replace(f, figures=figs), YEAR)[kind]
    assert out["eligible"] is False and out["missing"]


@pytest.mark.parametrize("name", ["founded_on", "tech_field"])
@settings(PROPERTY, max_examples=30)
@given(f=eligible_facts())
def test_never_eligible_without_the_founding_date_or_the_field(f, name):
    assert check_all(f, YEAR)["hnte"]["eligible"] is True
    out = check_all(replace(f, **{name: None}), YEAR)
    assert out["hnte"]["eligible"] is False and name in out["hnte"]["missing"]


@pytest.mark.parametrize("name", ["no_major_accident", "restricted_industry", "integrity_ok"])
@settings(PROPERTY, max_examples=30)
@given(f=eligible_facts())
def test_a_declaration_not_made_yet_changes_no_verdict(f, name):
    before = check_all(f, YEAR)
    after = check_all(replace(f, **{name: None}), YEAR)
    for kind in ("tech_sme", "hnte"):
        assert after[kind]["eligible"] == before[kind]["eligible"] and name not in after[kind]["missing"]


amounts = st.decimals(min_value=-100000, max_value=100000, places=2, allow_nan=False, allow_infinity=False)


@PROPERTY
@given(amounts, amounts, amounts)
def test_growth_rate_agrees_with_exact_fractions(y1, y2, y3):
    rate = growth_rate(y1, y2, y3)
    if y2 == 0:
        assert rate is None
        return
    f1, f2, f3 = Fraction(y1), Fraction(y2), Fraction(y3)
    exact = f3 / f2 - 1 if y1 == 0 else (f2 / f1 + f3 / f2) / 2 - 1
    assert abs(Fraction(rate) - exact) < Fraction(1, 10**40)
    assert growth_points(rate) == next((p for limit, p in GROWTH_BANDS if exact >= Fraction(limit)),
                                       2 if exact > 0 else 0)


def test_the_json_lists_missing_figures_and_entries_by_field_and_failed_conditions_by_check():
    out = check_all(facts(founded_on=None, tech_field=None, no_major_accident=None, restricted_industry=None,
                          integrity_ok=None), YEAR)
    missing = out["hnte"]["missing"]
    assert {"founded_on", "tech_field", "high_tech_revenue", "est_conversion"} <= set(missing)
    assert len(missing) == len(set(missing)) and "registered_365" not in missing
    # declarations not made yet decide nothing, so they are not what the verdict is missing
    assert "no_major_accident" not in missing
    assert not {"restricted_industry", "integrity_ok"} & set(out["tech_sme"]["missing"])


# ---- a share of nothing (revenue 0, employees 0, base year 0) ------------------------------------------------

def test_no_revenue_gives_the_rd_points_of_the_cost_share_only():
    """R&D / revenue over no revenue is no ratio: not ≥ 6 % (50 points), so the cost share decides (§2.2)."""
    score, parts, missing = tech_sme_score(sme_fig(revenue=D(0), rd_expense=D(10), total_cost=D(5000)))
    assert (score, parts["rd"], missing) == (20, 0, [])  # 10 / 5000 = 0.2 % of costs
    res = sme(revenue=D(0), rd_expense=D(10), total_cost=D(5000))
    score = result(res, "score")
    assert (score.result, score.missing_figures) == ("fail", ()) and "研发费用占营业收入 无法计算" in score.message
    assert result(sme(revenue=D(0), rd_expense=D(10), total_cost=D(0)), "score").result == "fail"  # neither: 0 points
    assert tech_sme_score(sme_fig(revenue=D(0), rd_expense=D(300), total_cost=D(1000)))[1]["rd"] == 50  # 30 % of costs


def test_no_revenue_fails_the_hnte_rd_share_rather_than_passing_it():
    res = hnte({y: {"revenue": D(0), "high_tech_revenue": D(0)} for y in (2021, 2022, 2023)})
    check = result(res, "rd_ratio")
    assert (check.result, check.value) == ("fail", None) and "无法计算" in check.message
    assert not res.eligible


def test_no_employees_scores_no_tech_staff_points_and_fails_the_hnte_share():
    assert tech_sme_score(sme_fig(employees=0, tech_staff=3))[1]["tech_staff"] == 0
    assert result(hnte({2023: {"employees": 0, "tech_staff": 3}}), "tech_staff_ratio").result == "fail"


def test_growth_from_a_base_year_of_nothing_is_no_rate_and_fails():
    res = gazelle(first="0", last="2000", params=GazelleParams(min_base_revenue=D(0)))
    check = result(res, "revenue_cagr")
    assert (check.result, check.value) == ("fail", None) and "无法计算" in check.message
