"""Counting against targets (DOMAIN §5, with the validity rules of §2.4 and §3.2).

One designed data set for 2023; each test names the clause and the boundary it checks, city-wide and
for the district and park the company sits in.
"""
import pytest

from crm.areas import all_areas
from crm.ladder.queries import standings_for
from crm.targets.service import progress
from tests.conftest import d

PARK = "达州高新区"


@pytest.fixture
def data(make):
    """Companies named after what they test."""
    c = {}
    # §3.2: issued 2020-12-03, valid through 2023-12-02, not on 2023-12-03.
    c["lapsing"] = make.company("证书到期公司", district="511703", park=PARK)
    make.cert(c["lapsing"], "hnte", issued_on=d("2020-12-03"), number="GR202051000001")
    # A renewal: an earlier certificate, then a new one issued 2023-06-15.
    c["renewed"] = make.company("重新认定公司", district="511723")
    make.cert(c["renewed"], "hnte", issued_on=d("2020-05-01"), number="GR202051000002")
    make.cert(c["renewed"], "hnte", issued_on=d("2023-06-15"), number="GR202351000002")
    # A first-ever certificate issued 2023-03-10.
    c["first"] = make.company("首次认定公司", district="511702", park=PARK)
    make.cert(c["first"], "hnte", issued_on=d("2023-03-10"), number="GR202351000003")
    # Its only earlier certificate was revoked: a revoked certification never counts, so this is 新认定.
    c["after_revoked"] = make.company("撤销后再认定公司", district="511722")
    make.cert(c["after_revoked"], "hnte", issued_on=d("2020-08-01"), number="GR202051000004", status="revoked")
    make.cert(c["after_revoked"], "hnte", issued_on=d("2023-09-01"), number="GR202351000004")
    # A revoked 2023 certificate: counts nowhere.
    c["revoked"] = make.company("证书撤销公司", district="511722")
    make.cert(c["revoked"], "hnte", issued_on=d("2023-02-01"), number="GR202351000005", status="revoked")
    # §5: a 科小 registration without a date counts from 1 January of its year.
    c["sme_undated"] = make.company("未注明日期科小", district="511724", park="达州东部经开区")
    make.cert(c["sme_undated"], "tech_sme", year=2023, number="2023511724A0001")
    # Registered in 2022 and again on 2023-06-01: registered, not new.
    c["sme_again"] = make.company("连续入库科小", district="511724")
    make.cert(c["sme_again"], "tech_sme", year=2022, issued_on=d("2022-06-01"), number="2022511724A0002")
    make.cert(c["sme_again"], "tech_sme", year=2023, issued_on=d("2023-06-01"), number="2023511724A0002")
    # Its 2022 registration was revoked: new in 2023.
    c["sme_after_revoked"] = make.company("撤销后入库科小", district="511725")
    make.cert(c["sme_after_revoked"], "tech_sme", year=2022, issued_on=d("2022-05-01"), number="2022511725A0003",
              status="revoked")
    make.cert(c["sme_after_revoked"], "tech_sme", year=2023, issued_on=d("2023-05-01"), number="2023511725A0003")
    # A revoked 2023 registration.
    c["sme_revoked"] = make.company("入库撤销科小", district="511725")
    make.cert(c["sme_revoked"], "tech_sme", year=2023, issued_on=d("2023-05-01"), number="2023511725A0004",
              status="revoked")
    # Gazelle recognised in 2023 without a date; another recognised in 2022.
    c["gazelle"] = make.company("新晋瞪羚公司", district="511781")
    make.cert(c["gazelle"], "gazelle", year=2023, number="DL2023001")
    c["old_gazelle"] = make.company("老瞪羚公司", district="511781")
    make.cert(c["old_gazelle"], "gazelle", year=2022, number="DL2022001")
    return c


def at(as_of: str, year: int = 2023) -> dict:
    return progress(year, d(as_of), all_areas())


def actual(result: dict, metric: str, area: str | None = None) -> int:
    figures = result["metrics"] if area is None else result["areas"][area]
    return figures[metric]["actual"]


# --- hnte_valid (§3.2 validity by date) -------------------------------------------------------

def test_hnte_valid_on_the_last_valid_day_of_a_certificate_issued_2020_12_03(data):
    result = at("2023-12-02")
    # lapsing (through 2023-12-02), renewed, first, after_revoked; revoked never counts.
    assert actual(result, "hnte_valid") == 4
    assert actual(result, "hnte_valid", "511703") == 1
    assert actual(result, "hnte_valid", PARK) == 2


def test_hnte_valid_not_on_the_day_the_certificate_lapses(data):
    result = at("2023-12-03")
    assert actual(result, "hnte_valid") == 3
    assert actual(result, "hnte_valid", "511703") == 0
    assert actual(result, "hnte_valid", PARK) == 1


def test_hnte_valid_counts_a_renewed_company_once(data):
    """The old (to 2023-04-30) and new certificates overlap nowhere, but a company is one company."""
    assert actual(at("2023-12-31"), "hnte_valid", "511723") == 1


def test_hnte_valid_excludes_a_revoked_certificate(data):
    assert actual(at("2023-06-30"), "hnte_valid", "511722") == 0  # revoked 2023-02-01 one; other from 09-01


# --- hnte_new / hnte_renewed --------------------------------------------------------------------

def test_hnte_new_counts_a_first_certificate_from_its_issue_date(data):
    assert actual(at("2023-03-09"), "hnte_new", "511702") == 0
    assert actual(at("2023-03-10"), "hnte_new", "511702") == 1
    assert actual(at("2023-03-10"), "hnte_new", PARK) == 1


def test_hnte_new_treats_a_company_whose_earlier_certificate_was_revoked_as_new(data):
    result = at("2023-12-31")
    assert actual(result, "hnte_new", "511722") == 1
    assert actual(result, "hnte_renewed", "511722") == 0


def test_hnte_new_and_renewed_city_wide(data):
    result = at("2023-12-31")
    assert actual(result, "hnte_new") == 2  # first, after_revoked
    assert actual(result, "hnte_renewed") == 1  # renewed


def test_hnte_renewed_counts_from_the_issue_date_of_the_new_certificate(data):
    assert actual(at("2023-06-14"), "hnte_renewed", "511723") == 0
    assert actual(at("2023-06-15"), "hnte_renewed", "511723") == 1
    assert actual(at("2023-06-15"), "hnte_new", "511723") == 0  # a renewal is not 新认定


def test_hnte_new_counts_only_certificates_issued_in_the_year(data):
    result = at("2022-12-31", year=2022)
    assert actual(result, "hnte_new") == 0
    assert actual(result, "hnte_renewed") == 0
    assert actual(at("2020-12-31", year=2020), "hnte_new") == 2  # lapsing, renewed; after_revoked's was revoked


# --- tech_sme_registered / tech_sme_new (§2.4, §5) -----------------------------------------------

def test_registration_without_a_date_counts_from_1_january(data):
    result = at("2023-01-01")
    assert actual(result, "tech_sme_registered") == 1
    assert actual(result, "tech_sme_registered", "511724") == 1
    assert actual(result, "tech_sme_registered", "达州东部经开区") == 1
    assert actual(result, "tech_sme_new", "达州东部经开区") == 1


def test_registration_counts_from_its_issue_date(data):
    assert actual(at("2023-05-31"), "tech_sme_registered", "511724") == 1
    assert actual(at("2023-06-01"), "tech_sme_registered", "511724") == 2


def test_tech_sme_new_excludes_companies_registered_in_an_earlier_year(data):
    result = at("2023-12-31")
    assert actual(result, "tech_sme_registered") == 3  # undated, again, after_revoked; revoked never counts
    assert actual(result, "tech_sme_new") == 2  # undated, after_revoked (its 2022 registration was revoked)
    assert actual(result, "tech_sme_new", "511724") == 1
    assert actual(result, "tech_sme_new", "511725") == 1


def test_revoked_registration_never_counts(data):
    assert actual(at("2023-12-31"), "tech_sme_registered", "511725") == 1


def test_registration_for_another_year_does_not_count(data):
    result = at("2022-12-31", year=2022)
    assert actual(result, "tech_sme_registered") == 1  # sme_again; after_revoked's 2022 was revoked
    assert actual(result, "tech_sme_new") == 1


def test_a_company_registered_twice_in_a_year_counts_once(data, make):
    make.cert(data["sme_undated"], "tech_sme", year=2023, issued_on=d("2023-07-01"), number="2023511724A9999")
    assert actual(at("2023-12-31"), "tech_sme_registered", "511724") == 2


# --- gazelle_new ----------------------------------------------------------------------------------

def test_gazelle_recognition_without_a_date_counts_from_1_january(data):
    result = at("2023-01-01")
    assert actual(result, "gazelle_new") == 1
    assert actual(result, "gazelle_new", "511781") == 1
    assert actual(at("2022-12-31", year=2022), "gazelle_new", "511781") == 1  # the 2022 one, in 2022


def test_gazelle_recognised_on_a_date_counts_from_that_date(make):
    company = make.company(district="511781")
    make.cert(company, "gazelle", year=2023, issued_on=d("2023-08-08"), number="DL2023009")
    assert actual(at("2023-08-07"), "gazelle_new") == 0
    assert actual(at("2023-08-08"), "gazelle_new") == 1
    assert standings_for([company.id], d("2023-08-07"))[company.id].rung == "gazelle"  # §1: the whole year


def test_registration_counts_from_its_issue_date_though_it_holds_for_the_whole_year(make):
    """§5 counts a registration issued on or before D; §1 gives the company the rung all year."""
    company = make.company(district="511724")
    make.cert(company, "tech_sme", year=2023, issued_on=d("2023-07-20"), number="2023511724A0777")
    before = at("2023-07-19")
    assert actual(before, "tech_sme_registered", "511724") == 0
    assert actual(before, "tech_sme_new", "511724") == 0
    assert actual(at("2023-07-20"), "tech_sme_new", "511724") == 1
    assert standings_for([company.id], d("2023-07-19"))[company.id].rung == "tech_sme"


# --- the shape of the result ------------------------------------------------------------------------

def test_every_metric_for_the_city_and_every_area_even_with_nothing_to_count():
    result = at("2023-12-31")
    metrics = {"hnte_valid", "hnte_new", "hnte_renewed", "tech_sme_registered", "tech_sme_new", "gazelle_new"}
    assert set(result["metrics"]) == metrics
    assert set(result["areas"]) == {"511702", "511703", "511722", "511723", "511724", "511725", "511781",
                                    "达州高新区", "达州东部经开区"}
    assert all(set(figures) == metrics for figures in result["areas"].values())
    assert result["areas"]["511723"]["hnte_valid"] == {"actual": 0, "target": None}
