"""The benchmark runs at a tiny scale and reports every field (issue 8)."""
import json
import os

from crm.bench import main


def test_bench_reports_every_field(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["--companies", "200", "--json", str(out)] +
         (["--database", os.environ["TEST_DATABASE_URL"]] if os.environ.get("TEST_DATABASE_URL") else []))
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["companies"] == 200 and report["database"] in ("sqlite", "postgresql")
    names = {r["name"] for r in report["results"]}
    assert {"company_list", "company_page"} <= names
    for result in report["results"]:
        assert set(result) == {"name", "median_ms", "p95_ms", "queries", "baseline_ms", "ratio"}
        assert result["median_ms"] > 0 and result["queries"] > 0 and result["baseline_ms"] > 0
    assert "company_list" in capsys.readouterr().out
