"""Shortlists for a round (DOMAIN §9), their files (INTERFACES.md "Shortlist file"), page and CLI."""
import csv
import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.ladder.shortlist import ShortlistFilter, columns, shortlist
from crm.models import AuditLog
from tests.ladder_data import FY, YEAR, apply, passing, pool, pool_member

LEAD = ["统一社会信用代码", "企业名称", "所属区县", "所在园区", "包联干部", "当前梯次"]


def listed(kind: str, year: int = YEAR, **kw) -> dict[str, tuple]:
    """Company name → reasons, for the shortlist of `kind` in `year`."""
    return {r.name: r.reasons for r in shortlist(ShortlistFilter(kind=kind, year=year, **kw), today())}


# ---- who is listed (§9), for each kind ------------------------------------------------------------------------

def test_tech_sme_figures_pass_versus_one_figure_missing(make):
    passing(make, "达标企业")
    passing(make, "缺资产总额企业", last={"total_assets": None})
    passing(make, "超规模企业", last={"employees": 501, "tech_staff": 160})
    assert listed("tech_sme") == {"达标企业": ("eligible",)}


def test_declarations_not_yet_made_are_set_aside_but_one_declared_against_excludes(make):
    """§9 lists on what the figures decide: an imported company has no declarations or 技术领域 yet (the
    workbook cannot carry them) and is listed, with the declarations among what is missing; one declared in a
    restricted industry, or in a field outside the eight, is not."""
    passing(make, "刚导入科小", integrity_ok=None, restricted_industry=None)
    passing(make, "限制类企业", restricted_industry=True)
    rows = {r.name: r for r in shortlist(ShortlistFilter(kind="tech_sme", year=YEAR), today())}
    assert set(rows) == {"刚导入科小"} and rows["刚导入科小"].reasons == ("eligible",)
    assert rows["刚导入科小"].verdict == "eligible"  # declarations not made yet hold (test_eligibility)
    assert {"限制或淘汰类产业声明", "诚信声明"} <= set(rows["刚导入科小"].missing_figures)
    years = (YEAR - 3, YEAR - 2, FY)
    passing(make, "刚导入高企", years=years, tech_field=None, no_major_accident=None)
    passing(make, "领域不符高企", years=years, tech_field="房地产")
    assert set(listed("hnte")) == {"刚导入高企"}


def test_tech_sme_registered_for_the_year_holds_it_and_is_not_listed(make):
    registered = passing(make, "已入库企业")
    make.cert(registered, "tech_sme", year=YEAR, number="2024A")
    last_year = passing(make, "去年入库企业")
    make.cert(last_year, "tech_sme", year=YEAR - 1, number="2023A")
    assert listed("tech_sme") == {"去年入库企业": ("eligible",)}


def test_tech_sme_registration_revoked_in_the_year_cannot_be_reapplied_for(make):  # DOMAIN §2.4
    revoked = passing(make, "撤销企业")
    make.cert(revoked, "tech_sme", year=YEAR, number="2024R", status="revoked")
    assert listed("tech_sme") == {}


def test_a_pooled_company_whose_registration_was_revoked_is_listed_as_unable_to_apply(make):
    """§9 lists pooled companies that do not hold 科小 for Y; a revoked registration is not held (§5), and the row
    says why the company cannot apply again that year (§2.4)."""
    revoked = passing(make, "撤销入库企业")
    make.cert(revoked, "tech_sme", year=YEAR, number="2024R", status="revoked")
    pool_member(pool("tech_sme"), revoked)
    (row,) = shortlist(ShortlistFilter(kind="tech_sme", year=YEAR), today())
    assert (row.name, row.reasons, row.verdict) == ("撤销入库企业", ("pooled",), "failed")
    assert any("撤销" in label for label in row.failed)


def test_hnte_certificate_expiring_in_the_year_is_listed_for_reapplication(make):
    years = (YEAR - 3, YEAR - 2, FY)
    expiring = passing(make, "年内到期企业", years=years)
    make.cert(expiring, "hnte", issued_on=date(2021, 12, 31))  # valid through 2024-12-30
    holding = passing(make, "跨年有效企业", years=years)
    make.cert(holding, "hnte", issued_on=date(2022, 1, 1))  # valid through 2024-12-31
    revoked = passing(make, "证书撤销企业", years=years)
    make.cert(revoked, "hnte", issued_on=date(2022, 6, 1), status="revoked")
    assert listed("hnte") == {"年内到期企业": ("eligible",), "证书撤销企业": ("eligible",)}


def test_hnte_figures_pass_versus_one_figure_missing_and_estimates_aside(make):
    years = (YEAR - 3, YEAR - 2, FY)
    passing(make, "高企达标", years=years)
    passing(make, "缺估分也达标", years=years, last={"est_conversion": None})
    passing(make, "缺境内研发", years=years, last={"rd_domestic": None})
    passing(make, "缺一年数据", years=(YEAR - 2, FY))
    rows = {r.name: r for r in shortlist(ShortlistFilter(kind="hnte", year=YEAR), today())}
    assert set(rows) == {"高企达标", "缺估分也达标"}
    assert rows["缺估分也达标"].missing_figures == []  # an estimate is the officer's, not a figure (§9)


def test_gazelle_recognition_in_force_on_31_december_holds_it(make):
    years = (YEAR - 3, FY)
    for name, recognised in (("已认定至年底", YEAR - 2), ("认定已到期", YEAR - 3)):
        company = passing(make, name, years=years)
        make.cert(company, "hnte", issued_on=date(2022, 6, 1))
        make.cert(company, "gazelle", year=recognised, number=name)
    assert listed("gazelle") == {"认定已到期": ("eligible",)}


def test_gazelle_needs_a_valid_hnte_and_the_base_year(make):
    years = (YEAR - 3, FY)
    with_hnte = passing(make, "持有高企", years=years)
    make.cert(with_hnte, "hnte", issued_on=date(2022, 6, 1))
    passing(make, "未持有高企", years=years)
    no_base = passing(make, "缺基期", years=(FY,))
    make.cert(no_base, "hnte", issued_on=date(2022, 6, 1))
    assert listed("gazelle") == {"持有高企": ("eligible",)}


@pytest.mark.parametrize("kind", ["tech_sme", "hnte", "gazelle"])
@pytest.mark.parametrize("stage, shown", [
    ("intent", True), ("submitted", True), ("publicised", True), ("rejected", False), ("withdrawn", False),
])
def test_an_application_not_rejected_or_withdrawn_lists_the_company(make, kind, stage, shown):
    company = make.company(name="申报企业")  # no figures at all
    apply(company, kind, stage)
    assert listed(kind) == ({"申报企业": ("applying",)} if shown else {})


@pytest.mark.parametrize("kind", ["tech_sme", "hnte", "gazelle"])
def test_only_an_application_for_the_kind_in_a_round_of_the_year_counts(make, kind):
    other_kind = next(k for k in ("tech_sme", "hnte", "gazelle") if k != kind)
    apply(make.company(name="去年申报"), kind, year=YEAR - 1)
    apply(make.company(name="申报其他类型"), other_kind)
    assert listed(kind) == {}


@pytest.mark.parametrize("kind", ["tech_sme", "hnte", "gazelle"])
def test_a_pool_of_the_kind_for_the_year_lists_the_company_and_no_other_pool_does(make, kind):
    other_kind = next(k for k in ("tech_sme", "hnte", "gazelle") if k != kind)
    pool_member(pool(kind), make.company(name="本年培育"))
    pool_member(pool(kind, YEAR - 1), make.company(name="去年培育"))
    pool_member(pool(other_kind), make.company(name="其他类型培育"))
    assert listed(kind) == {"本年培育": ("pooled",)}


def test_a_pooled_company_already_holding_the_kind_is_not_listed(make):
    company = make.company(name="已入库仍在库")
    pool_member(pool("tech_sme"), company)
    apply(company, "tech_sme")
    make.cert(company, "tech_sme", year=YEAR, number="X")
    assert listed("tech_sme") == {}


def test_every_reason_is_given_and_missing_figures_named(make):
    both = passing(make, "在库且达标")
    pool_member(p := pool("tech_sme"), both)
    apply(both, "tech_sme")
    gap = passing(make, "在库缺数据", last={"total_assets": None, "ip_class1": None})
    pool_member(p, gap)
    rows = {r.name: r for r in shortlist(ShortlistFilter(kind="tech_sme", year=YEAR), today())}
    assert rows["在库且达标"].reasons == ("applying", "pooled", "eligible")
    assert rows["在库且达标"].reason_text == "申报中、培育库、条件符合"
    assert rows["在库缺数据"].reasons == ("pooled",)
    assert rows["在库缺数据"].missing_figures == [f"{FY}年资产总额", f"{FY}年Ⅰ类知识产权数"]


def test_ordered_by_district_code_then_name(make):
    passing(make, "二号企业", district="511781")
    passing(make, "一号企业", district="511781")
    passing(make, "三号企业", district="511702")
    assert [r.name for r in shortlist(ShortlistFilter(kind="tech_sme", year=YEAR), today())] == ["三号企业", "一号企业", "二号企业"]


def test_chunks_read_every_company(make, monkeypatch):
    monkeypatch.setattr("crm.ladder.shortlist.CHUNK", 2)
    for i in range(5):
        passing(make, f"企业{i}")
    assert len(listed("tech_sme")) == 5


# ---- the files -------------------------------------------------------------------------------------------------

@pytest.fixture
def designed(make):
    officer = make.user("officer", areas=["511702"], display_name="张伟")
    a = passing(make, "=HYPERLINK(\"x\")科技有限公司", officer=officer, park=None)
    b = passing(make, "达川新材有限公司", district="511703", park="达州高新区", last={"total_assets": None})
    pool_member(pool("tech_sme"), b)
    return a, b


def test_xlsx_file_header_cells_and_neutralised_text(designed, runner, tmp_path):
    path = tmp_path / "科小.xlsx"
    result = runner.invoke(args=["shortlist", "export", "--kind", "tech_sme", "--year", str(YEAR), "--out", str(path)])
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert header[:6] == LEAD and header[-2:] == ["入选原因", "缺失数据"]
    assert header[6:12] == ["职工总数", "科技人员数", "营业收入（万元）", "研发费用（万元）", "成本费用总额（万元）", "资产总额（万元）"]
    assert "评分" in header and "直通车" in header
    assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1])
    rows = [[c for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 2
    first, second = ({h: c for h, c in zip(header, r)} for r in rows)
    assert first["企业名称"].value == "'=HYPERLINK(\"x\")科技有限公司"
    assert (first["所属区县"].value, first["包联干部"].value, first["入选原因"].value) == ("通川区", "张伟", "条件符合")
    assert first["营业收入（万元）"].value == 1440 and first["营业收入（万元）"].data_type == "n"
    assert first["评分"].value == 100 and first["职工总数"].value == 100
    assert (second["所属区县"].value, second["所在园区"].value) == ("达川区", "达州高新区")
    assert second["资产总额（万元）"].value is None and second["缺失数据"].value == f"{FY}年资产总额"
    assert second["入选原因"].value == "培育库"
    for row in ws.iter_rows(min_row=2, values_only=True):
        assert not any(isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in row)


def test_hnte_file_has_ratio_cells_with_percent_format(make, runner, tmp_path):
    company = passing(make, "高企企业", years=(YEAR - 3, YEAR - 2, FY))
    make.cert(company, "hnte", issued_on=date(2021, 3, 1))
    path = tmp_path / "高企.xlsx"
    assert runner.invoke(args=["shortlist", "export", "--kind", "hnte", "--year", str(YEAR), "--out", str(path)]).exit_code == 0
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2]))
    for name, value in (("研发费用占比", 0.06), ("高新技术产品收入占比", 0.75), ("科技人员占比", 0.3), ("境内研发费用占比", 1)):
        assert row[name].value == pytest.approx(value) and row[name].number_format == "0.00%"
    assert row["成立日期"].is_date and row["成立日期"].value.date() == date(2015, 1, 1)
    assert row["当前梯次"].value in ("无资质", "高新技术企业")


def test_gazelle_amounts_are_written_as_stored_with_two_decimals(make, runner, tmp_path):
    company = passing(make, "瞪羚候选", years=(YEAR - 3, FY))
    make.cert(company, "hnte", issued_on=date(2022, 6, 1))
    path = tmp_path / "g.csv"
    assert runner.invoke(args=["shortlist", "export", "--kind", "gazelle", "--year", str(YEAR), "--out", str(path)]
                         ).exit_code == 0
    header, row = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    values = dict(zip(header, row))
    assert re.fullmatch(r"\d+\.\d\d", values["基期营业收入（万元）"]), values
    assert re.fullmatch(r"\d+\.\d\d", values["最近一年营业收入（万元）"]), values


def test_csv_file_has_a_bom_and_the_same_rows(designed, runner, tmp_path):
    xlsx, csv_path = tmp_path / "a.xlsx", tmp_path / "a.csv"
    for path in (xlsx, csv_path):
        assert runner.invoke(args=["shortlist", "export", "--kind", "tech_sme", "--year", str(YEAR), "--out", str(path)]).exit_code == 0
    raw = csv_path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    sheet = [["" if v is None else v for v in r] for r in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True)]
    assert rows[0] == [c.header for c in columns("tech_sme")] == sheet[0]
    assert [r[:3] for r in rows[1:]] == [r[:3] for r in sheet[1:]]
    assert rows[1][1].startswith("'=")


def test_cli_area_filter_and_bad_arguments(designed, runner, tmp_path):
    path = tmp_path / "dachuan.csv"
    result = runner.invoke(args=["shortlist", "export", "--kind", "tech_sme", "--year", str(YEAR), "--out", str(path),
                                 "--area", "511721"])  # the old code of 达川区
    assert result.exit_code == 0 and "1 companies" in result.output
    assert [r[1] for r in csv.reader(io.StringIO(path.read_text("utf-8-sig")))][1:] == ["达川新材有限公司"]
    for args, reason in (
        (["--area", "火星"], "未知区域"), (["--area", ""], "未知区域"),
        (["--out", str(tmp_path / "x.pdf")], "不支持的文件类型"),
    ):
        base = {"--kind": "tech_sme", "--year": str(YEAR), "--out": str(path)}
        base.update(dict(zip(args[::2], args[1::2])))
        result = runner.invoke(args=["shortlist", "export", *[x for kv in base.items() for x in kv]])
        assert result.exit_code == 1 and reason in result.output and len(result.output.strip().splitlines()) == 1
    assert runner.invoke(args=["shortlist", "export", "--kind", "unicorn", "--year", "2024", "--out", str(path)]).exit_code != 0


def test_cli_export_is_audit_logged(designed, runner, tmp_path):
    runner.invoke(args=["shortlist", "export", "--kind", "tech_sme", "--year", str(YEAR), "--out", str(tmp_path / "a.csv")])
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "shortlist"))
    assert (entry.action, entry.source, entry.changes["rows"], entry.changes["kind"]) == ("export", "cli", 2, "tech_sme")


# ---- the page --------------------------------------------------------------------------------------------------

def test_page_lists_reasons_and_missing_figures(designed, make, auth, client):
    auth.login(make.user("admin"))
    page = client.get(f"/shortlists/?kind=tech_sme&year={YEAR}").get_data(as_text=True)
    assert "达川新材有限公司" in page and "培育库" in page and f"{FY}年资产总额" in page
    assert "HYPERLINK" in page and "条件符合" in page


def test_the_page_opens_on_the_round_open_now(make, auth, client):
    from datetime import timedelta

    from crm.models import Round

    auth.login(make.user("admin"))
    on = today()
    db.session.add_all([
        Round(kind="tech_sme", year=on.year, name="已截止的科小", opens_on=on - timedelta(days=90),
              closes_on=on - timedelta(days=30)),
        Round(kind="hnte", year=on.year, name="开放中的高企", opens_on=on - timedelta(days=10),
              closes_on=on + timedelta(days=15))])
    db.session.commit()
    page = client.get("/shortlists/").text
    assert re.search(r'<option value="hnte"\s+selected', page), "the 高企 round open now, not a closed 科小 one"
    assert re.search(r'<option value="tech_sme"\s+selected', client.get("/shortlists/?kind=tech_sme").text)


def test_page_is_scoped_to_the_officers_areas_and_filters(designed, make, auth, client):
    zhang = designed[0].officer
    auth.login(zhang)
    page = client.get(f"/shortlists/?kind=tech_sme&year={YEAR}").get_data(as_text=True)
    assert "HYPERLINK" in page and "达川新材有限公司" not in page
    auth.logout()
    auth.login(make.user("admin"))
    dachuan = make.area("511703").id
    page = client.get(f"/shortlists/?kind=tech_sme&year={YEAR}&area={dachuan}").get_data(as_text=True)
    assert "达川新材有限公司" in page and "HYPERLINK" not in page
    page = client.get(f"/shortlists/?kind=tech_sme&year={YEAR}&officer={zhang.id}").get_data(as_text=True)
    assert "HYPERLINK" in page and "达川新材有限公司" not in page
    page = client.get(f"/shortlists/?kind=tech_sme&year={YEAR}&officer=0").get_data(as_text=True)
    assert "达川新材有限公司" in page and "HYPERLINK" not in page


def test_export_from_the_page_is_scoped_and_audit_logged(designed, auth, client):
    zhang = designed[0].officer
    auth.login(zhang)
    response = client.post("/shortlists/export", data={"kind": "tech_sme", "year": YEAR, "format": "csv", "area": "", "officer": ""})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == designed[0].uscc
    response = client.post("/shortlists/export", data={"kind": "tech_sme", "year": YEAR, "format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(response.get_data())).active.max_row == 2
    entries = db.session.scalars(select(AuditLog).where(AuditLog.entity == "shortlist")).all()
    assert [(e.user_id, e.changes["format"]) for e in entries] == [(zhang.id, "csv"), (zhang.id, "xlsx")]


def _grow(make, n: int, offset: int) -> None:
    officer = make.user("officer", areas=["511702"])
    p = pool("tech_sme", name=f"库{offset}")
    for i in range(n):
        company = passing(make, f"规模企业{offset + i}", district=("511702", "511703")[i % 2], officer=officer,
                          park="达州高新区" if i % 3 == 0 else None)
        if i % 2:
            pool_member(p, company)
        if i % 3 == 1:
            apply(company, "tech_sme")


def test_page_query_count_does_not_grow_with_the_data(make, auth, client, count_queries):
    auth.login(make.user("admin"))
    url = f"/shortlists/?kind=tech_sme&year={YEAR}"
    _grow(make, 3, 0)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _grow(make, 12, 100)
    with count_queries() as large:
        page = client.get(url).get_data(as_text=True)
    assert "规模企业111" in page
    assert large.count == small.count, large.statements


def test_a_company_qualifying_by_direct_route_has_no_failed_conditions_in_the_file(make, runner, tmp_path):
    """§2.3 "regardless of score": 判定 符合 with an empty 未通过条件, the low score still shown in 评分."""
    direct = passing(make, "直通车企业", last={"rd_expense": 0, "ip_class1": 0, "ip_class2": 0})
    make.cert(direct, "hnte", issued_on=date(YEAR - 1, 3, 1))
    path = tmp_path / "科小.csv"
    result = runner.invoke(args=["shortlist", "export", "--kind", "tech_sme", "--year", str(YEAR), "--out", str(path)])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    assert (row["判定"], row["未通过条件"], row["直通车"]) == ("符合", "", "是（有效高新技术企业证书）")
    assert int(row["评分"]) < 60
