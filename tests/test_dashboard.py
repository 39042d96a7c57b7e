"""The leaders' dashboard: the same numbers as the CLI, every number backed by its list of companies,
pace, projection, trend, risk lists, area scoping, the 月报 export and a constant number of queries."""
import io
import json
import re
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from crm.areas import all_areas
from crm.dashboard.service import board, board_counts, monthly_trend
from crm.extensions import db
from crm.models import AnnualReport, Application, Round
from crm.targets.service import progress, set_target
from tests.conftest import d
from tests.test_targets_counting import data  # noqa: F401  (the designed 2023 data set)

METRICS = ["hnte_valid", "hnte_new", "hnte_renewed", "tech_sme_registered", "tech_sme_new", "gazelle_new"]


class Numbers(HTMLParser):
    """Every linked number on the dashboard: (area, metric) -> [(value, href)]."""

    def __init__(self):
        super().__init__()
        self.found: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.links: list[tuple[str, str]] = []  # (text, href) of every drill-down link
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "num" in (attrs.get("class") or "").split():
            self._open = attrs

    def handle_data(self, text):
        if self._open is not None and text.strip():
            self.links.append((text.strip(), self._open["href"]))
            if "data-metric" in self._open:
                key = (self._open["data-area"], self._open["data-metric"])
                self.found.setdefault(key, []).append((int(text), self._open["href"]))
            self._open = None


def numbers(html: str) -> Numbers:
    parser = Numbers()
    parser.feed(html)
    return parser


def make_round(kind, year, closes, opens=None, name=None):
    round_ = Round(kind=kind, year=year, name=name or f"{year}年{kind}（{closes}截止）", opens_on=d(opens or f"{year}-01-01"),
                   closes_on=d(closes))
    db.session.add(round_)
    db.session.commit()
    return round_


def apply(company, round_, stage):
    db.session.add(Application(company_id=company.id, round_id=round_.id, stage=stage))
    db.session.commit()


# --- the same numbers as `targets progress --json`, each backed by exactly its companies ----------

@pytest.mark.parametrize("as_of", ["2023-12-02", "2023-12-03"])
def test_dashboard_numbers_equal_the_cli_for_the_same_year_and_date(client, auth, make, runner, data, as_of):
    set_target(2023, "hnte_valid", None, 250)
    set_target(2023, "tech_sme_new", make.area("达州高新区"), 100)
    db.session.commit()
    expected = json.loads(runner.invoke(args=["targets", "progress", "--year", "2023", "--as-of", as_of,
                                              "--json"]).output)
    auth.login(make.user("admin"))
    html = client.get(f"/dashboard?year=2023&as_of={as_of}").get_data(as_text=True)
    found = numbers(html).found
    scopes = {"city": expected["metrics"], **expected["areas"]}
    for scope, figures in scopes.items():
        for metric, f in figures.items():
            assert {value for value, _ in found[(scope, metric)]} == {f["actual"]}, (scope, metric)
    assert len(found) == len(scopes) * len(METRICS)
    assert "250" in html and "/ 100" in html


def test_every_number_on_the_dashboard_lists_exactly_that_many_companies(client, auth, make, data, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 500)
    auth.login(make.user("admin"))
    html = client.get("/dashboard?year=2023&as_of=2023-12-02").get_data(as_text=True)
    links = numbers(html).links
    assert len(links) > 70  # metrics by area, open applications, months, risks
    assert sum(int(text) for text, _ in set(links)) > 40
    for text, href in set(links):
        listing = client.get(href.replace("&amp;", "&"))
        assert listing.status_code == 200, href
        rows = listing.get_data(as_text=True).count('<td data-label="企业名称">')
        assert rows == int(text), href


def test_the_area_chart_draws_the_areas_in_the_tables_order_worst_gap_first(client, auth, make, data):
    auth.login(make.user("admin"))
    html = client.get("/dashboard?year=2023&as_of=2023-12-02").text
    chart = json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)[1])
    table = html[html.index("分区进度（差距最大的在前）"):]
    rows = re.findall(r'<td data-label="区域"><a [^>]*>([^<]+)</a>', table)
    assert chart["areas"]["names"] == rows and len(rows) == 9


def test_the_list_behind_a_number_names_the_companies_counted(client, auth, make, data):
    auth.login(make.user("admin"))
    page = client.get("/dashboard/companies?list=hnte_new&year=2023&as_of=2023-12-31").get_data(as_text=True)
    assert "首次认定公司" in page and "撤销后再认定公司" in page
    assert "重新认定公司" not in page and "证书撤销公司" not in page
    park = client.get("/dashboard/companies?list=hnte_valid&year=2023&as_of=2023-12-02&area=达州高新区")
    assert "证书到期公司" in park.get_data(as_text=True) and "共 2 家" in park.get_data(as_text=True)


def test_an_unknown_list_or_area_is_not_found(client, auth, make):
    auth.login(make.user("admin"))
    assert client.get("/dashboard/companies?list=everything").status_code == 404
    assert client.get("/dashboard/companies?list=hnte_valid&area=成都市").status_code == 404


# --- area scoping -------------------------------------------------------------------------------

def test_a_viewer_limited_to_areas_sees_only_their_areas(client, auth, make, data):
    auth.login(make.user("viewer", areas=["511702"]))
    html = client.get("/dashboard?year=2023&as_of=2023-12-31").get_data(as_text=True)
    found = numbers(html).found
    assert {area for area, _ in found} == {"511702"}
    assert {v for v, _ in found[("511702", "hnte_new")]} == {1}
    assert client.get("/dashboard/companies?list=hnte_new&year=2023&as_of=2023-12-31&area=511722").status_code == 404
    listing = client.get("/dashboard/companies?list=hnte_new&year=2023&as_of=2023-12-31").get_data(as_text=True)
    assert "首次认定公司" in listing and "撤销后再认定公司" not in listing  # the other is in 511722


def test_a_park_viewer_sees_park_companies_from_any_district(client, auth, make, data):
    auth.login(make.user("viewer", areas=["达州高新区"]))
    found = numbers(client.get("/dashboard?year=2023&as_of=2023-12-02").get_data(as_text=True)).found
    assert {v for v, _ in found[("达州高新区", "hnte_valid")]} == {2}


# --- pace ---------------------------------------------------------------------------------------

def figures(metric, as_of, area=None, year=2023):
    result = board(year, d(as_of), all_areas(), board_counts(year, d(as_of)))
    return result.figures(metric, area.id if area else None)


def test_pace_is_linear_through_the_year_by_default():
    set_target(2023, "tech_sme_registered", None, 365)
    assert figures("tech_sme_registered", "2023-01-01").pace == 1
    assert figures("tech_sme_registered", "2023-07-02").pace == 183
    assert figures("tech_sme_registered", "2023-12-31").pace == 365


def test_pace_follows_the_closing_dates_of_the_years_rounds_of_that_kind():
    set_target(2023, "tech_sme_registered", None, 365)
    make_round("tech_sme", 2023, "2023-04-30")
    make_round("tech_sme", 2023, "2023-09-30")
    make_round("hnte", 2023, "2023-06-30")  # another kind does not pace 科小
    # each round's half accrues evenly up to its closing: no standing still, then jumping, on the deadline
    assert figures("tech_sme_registered", "2023-01-01").pace == 2  # 365 × ½ × 1/120
    assert figures("tech_sme_registered", "2023-04-29").pace == 181  # 365 × ½ × 119/120
    assert figures("tech_sme_registered", "2023-04-30").pace == 183  # half of 365, rounded half up
    assert figures("tech_sme_registered", "2023-07-15").pace == 273  # 365 × (½ + ½ × 76/153)
    assert figures("tech_sme_registered", "2023-09-30").pace == 365
    assert figures("tech_sme_registered", "2023-12-31").pace == 365


def test_a_round_closing_outside_its_year_paces_within_the_year():
    set_target(2023, "tech_sme_registered", None, 365)
    make_round("tech_sme", 2023, "2022-12-20", opens="2022-12-01", name="2023科小预登记")  # early: no share on 1 Jan
    assert figures("tech_sme_registered", "2023-01-01").pace == 1  # linear: no round of 2023 closes within it
    set_target(2023, "hnte_new", None, 10)
    make_round("hnte", 2023, "2023-06-30")
    make_round("hnte", 2023, "2024-01-10", name="2023高企补充批次")  # closes after the year: due by 31 December
    assert figures("hnte_new", "2023-06-30").pace == 5
    assert figures("hnte_new", "2023-09-30").pace == 8  # 10 × (½ + ½ × 92/184)
    assert figures("hnte_new", "2023-12-31").pace == 10


def test_pace_of_valid_hnte_starts_from_last_years_level(make):
    for n in range(4):
        make.cert(make.company(), "hnte", issued_on=d("2022-03-01"), number=f"GR{n}")
    set_target(2023, "hnte_valid", None, 10)
    f = figures("hnte_valid", "2023-07-02")
    assert f.pace == 7  # 4 + (10 − 4) × 183/365
    assert f.gap == 4 - 7


def test_an_area_holding_its_level_target_is_never_behind_and_a_year_to_come_has_no_pace(make):
    for n in range(4):
        make.cert(make.company(), "hnte", issued_on=d("2022-03-01"), number=f"GR{n}")
    set_target(2023, "hnte_valid", None, 3)  # below last year's level of 4
    f = figures("hnte_valid", "2023-07-02")
    assert (f.actual, f.pace, f.gap) == (4, 3, 1)  # not 4 + (3 − 4) × ½ = 3.5 → 4, "behind" at 3 of 3
    set_target(2024, "hnte_valid", None, 10)
    assert figures("hnte_valid", "2023-07-02", year=2024).pace is None  # looked at before 2024 begins


def test_no_target_no_pace(make):
    f = figures("gazelle_new", "2023-07-02")
    assert f.target is None and f.pace is None and f.gap is None


# --- projection ---------------------------------------------------------------------------------

@pytest.fixture
def pipeline(make):
    """Last year: 3 approved, 1 rejected, 1 withdrawn 高企 applications (pass rate 75%)."""
    last = make_round("hnte", 2022, "2022-06-30")
    for stage in ("approved", "approved", "approved", "rejected", "withdrawn"):
        apply(make.company(), last, stage)
    this = make_round("hnte", 2023, "2023-06-30")
    never = make.company("从未认定公司")
    lapsed = make.company("证书已过期公司")
    make.cert(lapsed, "hnte", issued_on=d("2019-05-01"), number="GR-old")
    valid = make.company("证书将到期公司")
    make.cert(valid, "hnte", issued_on=d("2020-12-03"), number="GR-valid")
    for company in (never, lapsed, valid):
        apply(company, this, "preparing")
    apply(make.company("已放弃公司"), this, "withdrawn")
    return {"never": never, "lapsed": lapsed, "valid": valid}


def test_projection_adds_open_applications_times_last_years_pass_rate(pipeline):
    f = figures("hnte_valid", "2023-09-01")
    # valid today, its certificate lapses on 2023-12-02: out of the year-end level, its renewal is in flight
    assert (f.actual, f.base, f.open, f.pass_rate) == (1, 0, 3, 0.75)
    assert f.projection == 2  # 0 + 3 × 0.75 = 2.25
    new, renewed = figures("hnte_new", "2023-09-01"), figures("hnte_renewed", "2023-09-01")
    assert (new.open, new.projection) == (1, 1)  # never certified: 0 + 0.75
    assert (renewed.open, renewed.projection) == (2, 2)  # lapsed and valid: 0 + 1.5


def test_no_decided_applications_last_year_means_no_projection(pipeline, client, auth, make):
    f = figures("tech_sme_registered", "2023-09-01")
    assert f.pass_rate is None and f.projection is None
    auth.login(make.user("admin"))
    assert "去年无该类申报结果" in client.get("/dashboard?year=2023&as_of=2023-09-01").get_data(as_text=True)


def test_the_open_applications_behind_a_projection_are_listed(pipeline, client, auth, make):
    auth.login(make.user("admin"))
    page = client.get("/dashboard/companies?list=open:hnte_renewed&year=2023&as_of=2023-09-01")
    text = page.get_data(as_text=True)
    assert "证书已过期公司" in text and "证书将到期公司" in text and "从未认定公司" not in text


# --- risk lists ---------------------------------------------------------------------------------

def risk(client, key, year, as_of):
    return client.get(f"/dashboard/companies?list={key}&year={year}&as_of={as_of}").get_data(as_text=True)


def test_hnte_expiring_this_year_without_an_open_application(client, auth, make):
    auth.login(make.user("admin"))
    alone = make.company("到期未申报公司")
    make.cert(alone, "hnte", issued_on=d("2020-12-03"), number="GR1")
    applying = make.company("到期已申报公司")
    make.cert(applying, "hnte", issued_on=d("2020-10-01"), number="GR2")
    apply(applying, make_round("hnte", 2023, "2023-06-30"), "coaching")
    early = make.company("年初到期上年已申报公司")
    make.cert(early, "hnte", issued_on=d("2020-01-10"), number="GR5")
    apply(early, make_round("hnte", 2022, "2022-06-30"), "submitted")
    stale = make.company("旧批次申报未关闭公司")
    make.cert(stale, "hnte", issued_on=d("2020-11-01"), number="GR6")
    apply(stale, make_round("hnte", 2020, "2020-06-30"), "coaching")  # an old round's application, never closed
    renewed = make.company("到期已重新认定公司")
    make.cert(renewed, "hnte", issued_on=d("2020-03-01"), number="GR3")
    make.cert(renewed, "hnte", issued_on=d("2023-02-20"), number="GR4")
    page = risk(client, "hnte_expiring", 2023, "2023-12-31")
    assert "到期未申报公司" in page and "旧批次申报未关闭公司" in page
    assert "到期已申报公司" not in page and "到期已重新认定公司" not in page and "年初到期上年已申报公司" not in page
    assert "到期未申报公司" not in risk(client, "hnte_expiring", 2024, "2024-12-31")


def test_a_missed_annual_report_flags_a_valid_hnte_after_its_31_may_whatever_the_year(client, auth, make):
    """§3.3: one missed report puts a company at risk (two, counted cumulatively, cancel it): last year's once
    31 May has passed, or an earlier year's of the certificate it holds."""
    auth.login(make.user("admin"))

    def certified(name, number, reports):
        company = make.company(name)
        make.cert(company, "hnte", issued_on=d("2021-05-01"), number=number)  # valid through 2024-04-30
        db.session.add_all(AnnualReport(company_id=company.id, year=y, filed_on=d(on)) for y, on in reports)
        return company

    certified("未报年报公司", "GR1", [(2021, "2022-05-10")])
    certified("已报年报公司", "GR2", [(2021, "2022-05-10"), (2022, "2023-04-01")])
    certified("前年漏报公司", "GR5", [(2022, "2023-04-01")])  # 2021's missing: at risk though 2022's is in
    lapsed = make.company("上年末已失效公司")
    make.cert(lapsed, "hnte", issued_on=d("2019-12-01"), number="GR3")  # through 2022-11-30: no 高企 now
    db.session.commit()
    before = risk(client, "annual_report_missed", 2023, "2023-05-31")
    assert "未报年报公司" not in before and "前年漏报公司" in before
    page = risk(client, "annual_report_missed", 2023, "2023-06-01")
    assert "未报年报公司" in page and "前年漏报公司" in page
    assert "已报年报公司" not in page and "上年末已失效公司" not in page
    certified("迟报年报公司", "GR4", [(2021, "2022-05-10"), (2022, "2023-08-10")])
    db.session.commit()
    assert "迟报年报公司" in risk(client, "annual_report_missed", 2023, "2023-06-30")  # not filed by then
    assert "迟报年报公司" not in risk(client, "annual_report_missed", 2023, "2023-08-10")


def test_tech_sme_registered_last_year_but_not_yet_this_year(client, auth, make):
    auth.login(make.user("admin"))
    for name, years in (("未续科小", [2022]), ("已续科小", [2022, 2023]), ("仅今年科小", [2023])):
        company = make.company(name)
        for year in years:
            make.cert(company, "tech_sme", year=year, issued_on=d(f"{year}-06-01"), number=f"{year}{name}")
    page = risk(client, "tech_sme_lapsed", 2023, "2023-12-31")
    assert "未续科小" in page and "已续科小" not in page and "仅今年科小" not in page
    assert "已续科小" in risk(client, "tech_sme_lapsed", 2023, "2023-05-31")  # not registered yet by then


# --- trend ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRICS)
def test_each_month_of_the_trend_is_the_count_as_of_that_month_end(data, metric):
    trend = monthly_trend(metric, 2023, d("2023-12-31"))
    assert [day.isoformat() for day, _ in trend["this_year"]][-2:] == ["2023-11-30", "2023-12-31"]
    for year, series in ((2023, trend["this_year"]), (2022, trend["last_year"])):
        for day, value in series:
            assert value == progress(year, day, [])["metrics"][metric]["actual"], (metric, day)


def test_the_trend_stops_at_the_as_of_date(data):
    trend = monthly_trend("hnte_valid", 2023, d("2023-03-15"))
    assert [day.isoformat() for day, _ in trend["this_year"]] == ["2023-01-31", "2023-02-28", "2023-03-15"]
    assert len(trend["last_year"]) == 12


# --- selection, export, home page, queries --------------------------------------------------------

def test_the_url_holds_the_selection(client, auth, make):
    auth.login(make.user("admin"))
    html = client.get("/dashboard?year=2023&as_of=2023-06-30&scope=511703&metric=tech_sme_new").get_data(as_text=True)
    assert "截至 2023-06-30" in html and "达川区" in html
    assert 'option value="511703" selected' in html and 'class="active">新入库科小' in html
    assert "/dashboard/report.xlsx?year=2023&amp;as_of=2023-06-30" in html


def test_admins_and_viewers_land_on_the_dashboard(client, auth, make):
    for role in ("admin", "viewer"):
        auth.login(make.user(role))
        assert client.get("/").headers["Location"].endswith("/dashboard")
        auth.logout()


def test_monthly_report_export(client, auth, make, data):
    set_target(2023, "hnte_valid", None, 8)
    db.session.commit()
    auth.login(make.user("admin"))
    response = client.get("/dashboard/report.xlsx?year=2023&as_of=2023-12-02")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "2023年月报（截至2023-12-02）"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("区域", "有效高企数", "目标", "完成率")
    assert len(rows[0]) == 1 + 3 * len(METRICS)
    assert [r[0] for r in rows[1:]] == ["全市", "通川区", "达川区", "宣汉县", "开江县", "大竹县", "渠县", "万源市",
                                        "达州高新区", "达州东部经开区"]
    assert rows[1][1:4] == (4, 8, 0.5)
    assert sheet.freeze_panes == "A2"


def grow(make, n):
    """n companies with certifications of every kind, in rounds with applications."""
    rounds = {year: make_round("hnte", year, f"{year}-06-30", name=f"{year}年高企（{n} 家）") for year in (2022, 2023)}
    for i in range(n):
        company = make.company(district=["511702", "511725"][i % 2], park="达州高新区" if i % 3 == 0 else None)
        make.cert(company, "hnte", issued_on=d("2021-03-01"), number=f"GR{i}")
        make.cert(company, "tech_sme", year=2023, number=f"S{i}")
        make.cert(company, "gazelle", year=2023, number=f"G{i}")
        apply(company, rounds[2022], "approved")
        apply(company, rounds[2023], "intent")


def test_dashboard_runs_a_constant_number_of_queries(client, auth, make, count_queries):
    auth.login(make.user("viewer", areas=["511702", "达州高新区"]))
    counts = []
    for n in (3, 30):
        grow(make, n)
        with count_queries() as q:
            assert client.get("/dashboard?year=2023&as_of=2023-10-01").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 12, "\n".join(re.sub(r"\s+", " ", s)[:120] for s in q.statements)


def test_a_year_that_cannot_be_shown_is_said_and_a_date_outside_the_year_is_not_used(client, auth, make, data):
    from crm.clock import today

    auth.login(make.user("admin"))
    page = client.get("/dashboard?year=2999").text
    assert "无法显示 2999 年的进度" in page and f"已显示 {today().year} 年" in page
    # The year picked anew on the page keeps the old date beside it: 2023 as of a day in 2022 would read all zero.
    page = client.get("/dashboard?year=2023&as_of=2022-12-31").text
    assert "截至 2023-12-31" in page and "无法显示" not in page
    assert "截至日期“2022-12-31”无法识别或不在 2023 年内，已显示截至 2023-12-31。" in page  # said, not swapped silently
    assert "截至日期“2023年2月30日”无法识别" in client.get("/dashboard?year=2023&as_of=2023年2月30日").text


def test_completion_is_rounded_down_and_a_list_leads_back_to_the_view_it_came_from(client, auth, make):
    auth.login(make.user("admin"))
    for n in range(3):
        make.cert(make.company(district="511703"), "hnte", issued_on=d("2023-03-01"), number=f"GR{n}")
    set_target(2023, "hnte_new", None, 4)
    db.session.commit()
    assert re.search(r"<dt>完成率</dt><dd>75%</dd>", client.get("/dashboard?year=2023&as_of=2023-12-31").text)
    set_target(2023, "hnte_new", None, 301)  # 3 / 301 = 0.997 %: 0%, not 1%; 299 / 300 would read 99%
    db.session.commit()
    assert re.search(r"<dt>完成率</dt><dd>0%</dd>", client.get("/dashboard?year=2023&as_of=2023-12-31").text)
    chart = json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', client.get(
        "/dashboard?year=2023&as_of=2023-03-31&metric=hnte_new").text).group(1))
    assert len(chart["trend"]["pace"]) == 12 and chart["trend"]["pace"][-1] == 301  # on to the target in December
    area = make.area("511703")
    page = client.get(f"/dashboard/companies?list=hnte_new&year=2023&as_of=2023-12-31&area={area.key}").text
    assert (f'href="/dashboard?year=2023&amp;as_of=2023-12-31&amp;scope={area.key}&amp;metric=hnte_new"') in page


def test_the_monthly_report_of_a_year_it_cannot_show_leaves_no_notice_behind(client, auth, make, data):
    auth.login(make.user("admin"))
    assert client.get("/dashboard/report.xlsx?year=2999").status_code == 200
    assert "无法显示" not in client.get("/companies/").text
