"""The dashboard in a real browser: charts drawn by the app's own ECharts, nothing fetched from outside,
and a number opens the list of companies behind it."""
from tests.conftest import d
from tests.e2e.conftest import login


def test_dashboard_draws_its_charts_without_outside_requests_and_drills_down(page, make):
    admin = make.user("admin")
    for n, district in enumerate(["511702", "511702", "511725"]):
        make.cert(make.company(f"浏览器测试{n}号公司", district=district), "hnte", issued_on=d("2022-04-01"),
                  number=f"GR{n}")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, admin.username)
    page.goto("/dashboard?year=2023&as_of=2023-12-31&metric=hnte_valid")
    for chart in ("trend", "areas"):
        page.wait_for_selector(f'[data-chart="{chart}"][data-ready="1"] svg')
    assert page.locator('[data-chart="trend"] svg path').count() > 3  # axes and lines, not an empty frame
    assert page.outside == [] and errors == []

    link = page.locator('.dash-metric a.num[data-metric="hnte_valid"]')
    assert link.inner_text() == "3"
    link.click()
    page.wait_for_url("**/dashboard/companies?**")
    assert "共 3 家" in page.inner_text("h1")
    assert page.locator("table.list tbody tr").count() == 3

    page.go_back()
    page.locator('table.dash-matrix a.num[data-area="511702"][data-metric="hnte_valid"]').click()
    page.wait_for_url("**area=511702**")
    assert page.locator("table.list tbody tr").count() == 2
    assert page.outside == []
