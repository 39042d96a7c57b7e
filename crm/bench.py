"""The benchmark behind scripts/bench: each measured piece of Ladder against the plainest code that could do
the same work, at N companies, on SQLite or PostgreSQL (issue 8).

For each measurement: warm-up runs, then repeated timed runs (median and p95), the number of SQL statements
one run issues, the baseline's median (crm/bench_plain.py) and the ratio of the two. Ladder and its baseline
run alternately, so a neighbour's load on a shared machine weighs on both alike.

Pages are requested through Flask's test client, each request in its own app context and session as in
production; the progress computation, the export, the import and the reminders run call the functions the
CLI calls, each run in a fresh app context as a CLI command would. The import takes a workbook of N/10 new
companies (built once); before every run the companies of the previous run are deleted (untimed), so each
run creates them all again. The reminders run is for a busy day; before every run the outbox is emptied
(untimed), so each run records and sends everything again, to an SMTP sink on localhost.
"""
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, time as day_start
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from crm.scratch import scratch_database
from crm import bench_plain as plain

WARMUP, RUNS = 3, 15  # pages and the progress computation
HEAVY_WARMUP, HEAVY_RUNS, HEAVY_RUNS_LARGE = 1, 5, 3  # export, import, reminders; LARGE above 20,000 companies
LARGE = 20_000


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    baseline_ms: float
    ratio: float
    runs: int


@dataclass
class Measurement:
    name: str
    run: Callable[[], object]
    baseline: Callable[[], object]
    setup: Callable[[], object] = lambda: None  # before every run of either, untimed
    heavy: bool = False


class Bench:
    """Holds the app, a logged-in client per role and the ids of the generated data."""

    def __init__(self, app: Flask, ids: dict, companies: int):
        from crm.bench_data import BENCH_PASSWORD

        self.app, self.ids, self.companies = app, ids, companies
        self.clients = {}
        for role in ("admin", "officer"):
            client = app.test_client()
            response = client.post("/login", data={"username": ids[role], "password": BENCH_PASSWORD})
            assert response.status_code == 302, f"bench login failed for {role}"
            self.clients[role] = client
        self.statements = 0
        with app.app_context():
            from crm.extensions import db

            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.statements += 1

    def page(self, url: str, role: str = "admin") -> Callable[[], object]:
        def run():
            response = self.clients[role].get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            return response

        return run

    def task(self, work: Callable[[], object]) -> Callable[[], object]:
        """Ladder's own function, in a fresh app context as a CLI command runs."""
        def run():
            with self.app.app_context():
                return work()

        return run

    def plain(self, baseline: Callable, *args) -> Callable[[], object]:
        """A baseline from crm.bench_plain on one connection of the same pool."""
        def run():
            with self.engine.connect() as conn:
                return baseline(conn, *args)

        return run

    def execute(self, *statements: str) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))

    def runs(self, m: Measurement) -> tuple[int, int]:
        if not m.heavy:
            return WARMUP, RUNS
        return HEAVY_WARMUP, HEAVY_RUNS if self.companies <= LARGE else HEAVY_RUNS_LARGE

    def measure(self, m: Measurement) -> Result:
        warmup, runs = self.runs(m)
        for _ in range(warmup):
            m.setup()
            m.run()
            m.setup()
            m.baseline()
        times, base, queries = [], [], 0
        for _ in range(runs):
            m.setup()
            self.statements = 0
            times.append(_timed(m.run))
            queries = self.statements
            m.setup()
            base.append(_timed(m.baseline))
        median, baseline = statistics.median(times), statistics.median(base)
        p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
        return Result(m.name, round(median, 2), round(p95, 2), queries, round(baseline, 2),
                      round(median / baseline, 2) if baseline else float("inf"), runs)


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def measurements(b: Bench, workdir: Path, smtp_port: int) -> list[Measurement]:
    from crm.areas import all_areas
    from crm.bench_data import IMPORT_PREFIX, busy_day, import_workbook
    from crm.clock import today, utcnow
    from crm.ladder.shortlist import ShortlistFilter, export
    from crm.models.certification import HNTE
    from crm.reminders.service import run_reminders
    from crm.rounds.service import COLUMN_CAP
    from crm.targets.service import default_as_of, progress
    from crm.transfer.importer import run_import

    ids = b.ids
    with b.app.app_context():
        on = today()
        workbook = import_workbook(max(b.companies // 10, 1), on.year)
    year, admin, district = on.year, ids["admin_id"], ids["district_id"]
    zone = ZoneInfo(b.app.config["LADDER_TIMEZONE"])

    def utc_midnight(day):
        return datetime.combine(day, day_start(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def imported():
        result = run_import(workbook, "bench.xlsx", None)
        assert result.written and not result.problems, result.problems[:3]

    def forget_import():
        b.execute(f"DELETE FROM company WHERE uscc LIKE '{IMPORT_PREFIX}%'",
                  "DELETE FROM audit_log WHERE source LIKE 'import:%'")

    def forget_reminders():
        b.execute("DELETE FROM reminder_item", "DELETE FROM reminder_digest", "DELETE FROM job_run")

    def reminders():
        result = run_reminders(busy_day(year))
        assert result.sent and not result.failed, result.line

    return [
        Measurement("company_list", b.page(f"/companies/?district={district}&q=科技"),
                    b.plain(plain.company_list, admin, district, "科技", on)),
        Measurement("company_page", b.page(f"/companies/{ids['company_id']}"),
                    b.plain(plain.company_page, admin, ids["company_id"], on)),
        Measurement("dashboard", b.page("/dashboard"), b.plain(plain.dashboard, admin, year, on)),
        Measurement("targets_progress", b.task(lambda: progress(year, default_as_of(year, on), all_areas())),
                    b.plain(plain.targets_progress, year, default_as_of(year, on))),
        Measurement("kanban", b.page(f"/rounds/{ids['round_id']}"), b.plain(plain.kanban, admin, ids["round_id"], COLUMN_CAP)),
        Measurement("my_work", b.page("/work", "officer"), b.plain(plain.my_work, ids["officer_id"], on, utc_midnight)),
        Measurement("shortlist_export", b.task(lambda: export(ShortlistFilter(HNTE, year), workdir / "名单.xlsx", on)),
                    b.plain(plain.shortlist_csv, year, on, workdir / "名单.csv"), heavy=True),
        Measurement("import", b.task(imported), b.plain(plain.import_workbook, workbook, utcnow()),
                    setup=forget_import, heavy=True),
        Measurement("reminders", b.task(reminders), b.plain(plain.reminders, busy_day(year), "127.0.0.1", smtp_port),
                    setup=forget_reminders, heavy=True),
    ]


NAMES = ("company_list", "company_page", "dashboard", "targets_progress", "kanban", "my_work", "shortlist_export",
         "import", "reminders")


def _fresh_database(database_url: str | None) -> tuple[str, Callable[[], None]]:
    if not database_url or database_url.startswith("sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="ladder-bench-"))
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: shutil.rmtree(folder, ignore_errors=True)
    return scratch_database(database_url, "ladder_bench")


def run(companies: int, database_url: str | None = None, only: list[str] | None = None) -> dict:
    from flask_migrate import upgrade

    from crm import create_app
    from crm.bench_data import generate
    from crm.clock import today
    from crm.smtp_sink import SmtpSink

    url, drop = _fresh_database(database_url)
    sink = SmtpSink(record=False).start()  # in this process: parsing every message would count as Ladder's time
    try:
        app = create_app(type("BenchConfig", (TestingConfig,), {
            "SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": sink.port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False,
            "MAIL_USERNAME": None, "MAIL_TIMEOUT": 30,
            "CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True,  # time computing the dashboard, not its cache
        }))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            ids = generate(companies, today().year)
            load_s = time.perf_counter() - started
        bench = Bench(app, ids, companies)
        with tempfile.TemporaryDirectory(prefix="ladder-bench-") as workdir:
            chosen = [m for m in measurements(bench, Path(workdir), sink.port) if not only or m.name in only]
            results = []
            for m in chosen:
                results.append(bench.measure(m))
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
    finally:
        sink.stop()
        drop()
    return {"companies": companies, "database": make_url(url).get_backend_name(), "load_seconds": round(load_s, 1),
            "results": [asdict(r) for r in results]}


def table(report: dict) -> str:
    lines = [f"Ladder benchmark — {report['companies']:,} companies on {report['database']} "
             f"(data loaded in {report['load_seconds']} s)",
             f"{'name':<18}{'median ms':>11}{'p95 ms':>10}{'queries':>9}{'baseline ms':>13}{'ratio':>8}{'runs':>6}"]
    for r in report["results"]:
        lines.append(f"{r['name']:<18}{r['median_ms']:>11.2f}{r['p95_ms']:>10.2f}{r['queries']:>9}"
                     f"{r['baseline_ms']:>13.2f}{r['ratio']:>8.2f}{r['runs']:>6}")
    lines.append(f"runs: timed runs of each side after {WARMUP} warm-ups ({HEAVY_WARMUP} for shortlist_export, import "
                 f"and reminders, which run {HEAVY_RUNS} times, {HEAVY_RUNS_LARGE} above {LARGE:,} companies)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--database", help="SQLAlchemy URL of a server; a fresh database is created on it")
    parser.add_argument("--json", help="also write the results as JSON to this path")
    parser.add_argument("--only", nargs="*", choices=NAMES, metavar="NAME", help=f"run only these: {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    report = run(args.companies, args.database, args.only)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
