"""Eligibility read from the database: the CLI (INTERFACES.md), the company page panel, facts for many companies."""
import html
import json
import re
from datetime import date
from decimal import Decimal as D

from sqlalchemy import event

from crm.clock import today
from crm.extensions import db
from crm.ladder.service import application_date, gazelle_params, load_facts
from crm.settings import set_setting
from tests.ladder_data import DECLARED, FY, YEAR, figures, passing, pool, pool_member


def designed(make):
    """科小 74 points (16 + 40 + 18); 高企 fails the domestic R&D share and lacks the high-tech revenue;
    瞪羚 has the growth but no 高企 certificate; in a 科小 pool for YEAR, so standing 培育中."""
    company = make.company(name="达州川东智能科技有限公司", uscc="91350100M000100Y43", **DECLARED)
    figures(company, YEAR - 3, rd_domestic=D(30))
    figures(company, YEAR - 2, rd_domestic=D(36))
    figures(company, FY, tech_staff=25, rd_expense=D("79.2"), rd_domestic=D("39.6"), ip_class1=0, ip_class2=3,
            high_tech_revenue=None, est_ip_other=22, est_conversion=30, est_rd_management=20)
    pool_member(pool("tech_sme"), company)
    return company


def eligibility(runner, *args):
    result = runner.invoke(args=["companies", "eligibility", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_json_shape_and_values(make, runner):
    designed(make)
    out = eligibility(runner, "91350100M000100Y43", "--year", str(YEAR), "--json")
    assert list(out)[:7] == ["uscc", "name", "year", "standing", "tech_sme", "hnte", "gazelle"]
    assert (out["uscc"], out["name"], out["year"], out["standing"]) == (
        "91350100M000100Y43", "达州川东智能科技有限公司", YEAR, "incubating")
    sme = out["tech_sme"]
    assert (sme["eligible"], sme["score"], sme["parts"], sme["direct"], sme["missing"], sme["failed"]) == (
        True, 74, {"tech_staff": 16, "rd": 40, "ip": 18}, False, [], [])
    hnte = out["hnte"]
    assert (hnte["eligible"], hnte["missing"], hnte["failed"]) == (False, ["high_tech_revenue"], ["rd_domestic_ratio"])
    check = next(c for c in hnte["checks"] if c["name"] == "rd_domestic_ratio")
    assert (check["result"], check["value"], check["required"]) == ("fail", 0.5, 0.6)
    assert {c["result"] for c in hnte["checks"]} <= {"pass", "fail", "missing"}
    assert (out["gazelle"]["eligible"], out["gazelle"]["failed"], out["gazelle"]["missing"]) == (False, ["holds_hnte"], [])


def test_cli_normalises_the_code_and_defaults_to_this_year(make, runner):
    designed(make)
    out = eligibility(runner, " ９１３５０１００ｍ０００１００ｙ４３ ", "--json")
    assert out["uscc"] == "91350100M000100Y43" and out["year"] == today().year
    assert eligibility(runner, "91350100m000100y43", "--json")["name"] == "达州川东智能科技有限公司"


def test_a_registration_revoked_for_the_year_rules_out_applying_again_that_year(make, runner):  # DOMAIN §2.4
    company = passing(make, "撤销企业", years=(FY, YEAR))
    make.cert(company, "hnte", issued_on=date(YEAR - 1, 3, 1))  # even by 直通车
    make.cert(company, "tech_sme", year=YEAR, number="2024R", status="revoked")
    out = eligibility(runner, company.uscc, "--year", str(YEAR), "--json")["tech_sme"]
    assert (out["eligible"], out["direct"], out["failed"]) == (False, False, ["not_revoked"])
    assert eligibility(runner, company.uscc, "--year", str(YEAR + 1), "--json")["tech_sme"]["eligible"] is True


def test_cli_unknown_code_exits_1_with_one_line(runner):
    result = runner.invoke(args=["companies", "eligibility", "91350100M000100Y43", "--json"])
    assert result.exit_code == 1 and "未找到" in result.output and len(result.output.strip().splitlines()) == 1
    typo = runner.invoke(args=["companies", "eligibility", "91350100M000100Y4X", "--json"])  # check character Y4X
    assert typo.exit_code == 1 and len(typo.output.strip().splitlines()) == 1
    assert "未找到" in typo.output and "校验码应为 3" in typo.output, typo.output


def test_cli_uses_the_configured_gazelle_parameters(make, runner):
    company = designed(make)
    make.cert(company, "hnte", issued_on=date(2022, 6, 1))
    assert eligibility(runner, company.uscc, "--year", str(YEAR), "--json")["gazelle"]["eligible"] is True
    set_setting("gazelle", {"require_hnte": True, "min_base_revenue": "1000", "min_cagr": "0.25", "years": 3,
                            "validity_years": 3})
    db.session.commit()
    out = eligibility(runner, company.uscc, "--year", str(YEAR), "--json")["gazelle"]
    assert out["failed"] == ["revenue_cagr"] and out["params"]["min_cagr"] == 0.25


def test_holding_a_valid_hnte_is_judged_on_the_application_date(make, runner):
    company = designed(make)
    make.cert(company, "hnte", issued_on=date(2021, 1, 5))  # valid through 2024-01-04
    out = eligibility(runner, company.uscc, "--year", str(YEAR), "--json")  # a year gone: judged on its 31 December
    assert out["gazelle"]["failed"] == ["holds_hnte"] and out["tech_sme"]["direct"] is False
    out = eligibility(runner, company.uscc, "--year", "2023", "--json")  # judged on 2023-12-31
    assert out["tech_sme"]["direct_grounds"] == ["有效高新技术企业证书"] and out["standing"] == "hnte"
    assert application_date(YEAR, date(2026, 5, 1)) == date(YEAR, 12, 31)
    assert application_date(2026, date(2026, 5, 1)) == date(2026, 5, 1)
    assert application_date(2027, date(2026, 5, 1)) == date(2027, 1, 1)  # a year to come: its first day
    # New Year's Day changes nothing about the year just gone.
    assert application_date(2026, date(2026, 12, 31)) == application_date(2026, date(2027, 1, 1))


def statements_run(fn) -> int:
    """How many SQL statements fn() runs in the test's own app context."""
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_facts_for_many_companies_in_two_queries(make):
    few = [passing(make, f"少{i}") for i in range(2)]
    many = few + [passing(make, f"多{i}", years=(YEAR - 3, FY)) for i in range(8)]
    make.cert(many[-1], "hnte", issued_on=date(2023, 1, 1))
    params = gazelle_params()
    for company in many:
        db.session.refresh(company)  # loaded, as a page's companies are
    facts = {}
    assert statements_run(lambda: load_facts(few, YEAR, date(YEAR, 1, 1), params)) == 2
    assert statements_run(lambda: facts.update(load_facts(many, YEAR, date(YEAR, 1, 1), params))) == 2
    assert facts[many[-1].id].holds_valid_hnte and not facts[many[0].id].holds_valid_hnte
    make.cert(many[0], "tech_sme", year=YEAR, number="R", status="revoked")
    assert load_facts(few, YEAR, date(YEAR, 1, 1), params)[many[0].id].tech_sme_revoked
    assert [f.year for f in facts[many[-1].id].figures] == [YEAR - 3, FY]
    assert facts[many[0].id].tech_field == "电子信息"


# ---- the company page ------------------------------------------------------------------------------------------

def section(page: str, kind: str) -> str:
    start = page.index(f'id="eligibility-{kind}"')
    end = page.find('class="kind-check"', start + 1)
    return page[start:end if end > 0 else page.index('class="pool-membership"')]


def test_company_page_shows_the_same_verdicts_as_the_cli(make, auth, client, runner):
    company = designed(make)
    out = eligibility(runner, company.uscc, "--year", str(YEAR), "--json")
    auth.login(make.user("admin"))
    page = client.get(f"/companies/{company.id}?year={YEAR}").get_data(as_text=True)
    for kind in ("tech_sme", "hnte", "gazelle"):
        shown = html.unescape(section(page, kind))
        marks = re.findall(r'<li class="result-(\w+)" data-check="(\w+)">', shown)
        assert [(name, result) for result, name in marks] == [(c["name"], c["result"]) for c in out[kind]["checks"]]
        assert all(c["message"] in shown for c in out[kind]["checks"])
    sme = section(page, "tech_sme")
    assert "74" in sme and "16" in sme and "18" in sme
    hnte = html.unescape(section(page, "hnte"))
    assert "估计" in hnte and "✗" in hnte and "？" in hnte
    assert f"/companies/{company.id}/figures?year={FY}" in hnte
    gazelle = html.unescape(section(page, "gazelle"))
    assert "基期营业收入下限 1000 万元" in gazelle and "20%" in gazelle


def test_company_page_offers_the_rungs_above_and_the_hnte_lapsing_this_year(make, auth, client):
    """Next year is judged on its 1 January: a 高企 lapsing that year is held then, and due for renewal."""
    next_year = today().year + 1
    company = passing(make, "到期高企", years=(YEAR - 3, YEAR - 2, FY))
    for year in range(YEAR, next_year):
        figures(company, year)
    make.cert(company, "hnte", issued_on=date(next_year - 3, 6, 1))  # valid through 31 May next year
    auth.login(make.user("officer"))
    page = client.get(f"/companies/{company.id}?year={next_year}").get_data(as_text=True)
    assert 'id="eligibility-hnte"' in page and 'id="eligibility-gazelle"' in page
    assert 'id="eligibility-tech_sme"' not in page  # below the standing (高企)
    assert "需重新申报" in section(page, "hnte")
    page = client.get(f"/companies/{company.id}?year={today().year}").get_data(as_text=True)
    assert 'id="eligibility-hnte"' not in page and 'id="eligibility-gazelle"' in page


def test_company_page_links_to_the_missing_declarations(make, auth, client):
    company = make.company(name="空白企业")
    auth.login(make.user("admin"))
    page = client.get(f"/companies/{company.id}?year={YEAR}").get_data(as_text=True)
    assert f"/companies/{company.id}/edit" in page and f"/companies/{company.id}/figures?year={FY}" in page
    assert "缺少" in page and "诚信声明" in page


def test_viewer_sees_the_checklist_without_edit_links(make, auth, client):
    company = make.company(name="空白企业")
    auth.login(make.user("viewer"))
    page = client.get(f"/companies/{company.id}?year={YEAR}").get_data(as_text=True)
    assert 'id="eligibility-tech_sme"' in page and "/figures" not in page and "加入培育库" not in page


def test_company_page_query_count_is_constant(make, auth, client, count_queries):
    small = designed(make)
    auth.login(make.user("admin"))
    client.get(f"/companies/{small.id}")
    with count_queries() as q1:
        client.get(f"/companies/{small.id}")
    big = passing(make, "数据较多企业", years=(YEAR - 3, YEAR - 2, FY))
    for year in range(YEAR - 8, YEAR - 3):
        figures(big, year)
    for year in range(2015, 2024):
        make.cert(big, "tech_sme", year=year, number=str(year))
    pool_member(pool("hnte"), big)
    with count_queries() as q2:
        client.get(f"/companies/{big.id}")
    assert q1.count == q2.count
