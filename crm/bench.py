"""The benchmark behind scripts/bench: each measured piece of Ladder against the plainest code that could do
the same work, at N companies, on SQLite or PostgreSQL (issue 8).

For each measurement: warm-up runs, then repeated timed runs (median and p95), the number of SQL statements
one run issues, the baseline's median and the ratio of the two.
"""
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from config import TestingConfig

WARMUP, RUNS = 2, 7


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    baseline_ms: float
    ratio: float


@dataclass
class Measurement:
    name: str
    run: Callable[[], object]
    baseline: Callable[[], object]


class Bench:
    """Holds the app, a logged-in client per role and the ids of the generated data."""

    def __init__(self, app: Flask, ids: dict):
        from crm.bench_data import BENCH_PASSWORD

        self.app, self.ids = app, ids
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

    def get(self, url: str, role: str = "admin") -> Callable[[], object]:
        def run():
            response = self.clients[role].get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            return response

        return run

    def sql(self, statement: str, **params) -> Callable[[], object]:
        """A baseline: hand-written SQL and nothing else."""
        def run():
            with self.engine.connect() as conn:
                return conn.execute(text(statement), params).fetchall()

        return run

    def measure(self, m: Measurement) -> Result:
        times = []
        with self.app.app_context():
            for _ in range(WARMUP):
                m.run()
            self.statements = 0
            m.run()
            queries = self.statements
            for _ in range(RUNS):
                start = time.perf_counter()
                m.run()
                times.append((time.perf_counter() - start) * 1000)
            base = []
            for _ in range(WARMUP):
                m.baseline()
            for _ in range(RUNS):
                start = time.perf_counter()
                m.baseline()
                base.append((time.perf_counter() - start) * 1000)
        median, baseline = statistics.median(times), statistics.median(base)
        p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
        return Result(m.name, round(median, 2), round(p95, 2), queries, round(baseline, 2),
                      round(median / baseline, 2) if baseline else float("inf"))


def measurements(b: Bench) -> list[Measurement]:
    ids = b.ids
    district = ids["district_id"]
    return [
        Measurement(
            "company_list", b.get(f"/companies/?district={district}&q=科技"),
            b.sql("SELECT c.id, c.name, c.uscc, d.name, p.name, u.display_name FROM company c "
                  "JOIN area d ON d.id = c.district_id LEFT JOIN area p ON p.id = c.park_id "
                  "LEFT JOIN \"user\" u ON u.id = c.officer_id WHERE c.district_id = :d AND c.name LIKE :q "
                  "ORDER BY c.name, c.id LIMIT 50", d=district, q="%科技%"),
        ),
        Measurement(
            "company_page", b.get(f"/companies/{ids['company_id']}"),
            b.sql("SELECT * FROM company c LEFT JOIN certification x ON x.company_id = c.id "
                  "LEFT JOIN company_year y ON y.company_id = c.id WHERE c.id = :id", id=ids["company_id"]),
        ),
    ]


def _fresh_database(database_url: str | None) -> tuple[str, Callable[[], None]]:
    if not database_url or database_url.startswith("sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="ladder-bench-"))
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: None
    url = make_url(database_url)
    name = f"ladder_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def run(companies: int, database_url: str | None = None, only: list[str] | None = None) -> dict:
    from flask_migrate import upgrade

    from crm import create_app
    from crm.bench_data import generate
    from crm.clock import today

    url, drop = _fresh_database(database_url)
    try:
        app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                                                "WTF_CSRF_ENABLED": False}))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            ids = generate(companies, today().year)
            load_s = time.perf_counter() - started
        bench = Bench(app, ids)
        results = [bench.measure(m) for m in measurements(bench) if not only or m.name in only]
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
    finally:
        drop()
    return {"companies": companies, "database": make_url(url).get_backend_name(), "load_seconds": round(load_s, 1),
            "results": [asdict(r) for r in results]}


def table(report: dict) -> str:
    lines = [f"Ladder benchmark — {report['companies']:,} companies on {report['database']} "
             f"(data loaded in {report['load_seconds']} s)",
             f"{'name':<18}{'median ms':>11}{'p95 ms':>10}{'queries':>9}{'baseline ms':>13}{'ratio':>8}"]
    for r in report["results"]:
        lines.append(f"{r['name']:<18}{r['median_ms']:>11.2f}{r['p95_ms']:>10.2f}{r['queries']:>9}"
                     f"{r['baseline_ms']:>13.2f}{r['ratio']:>8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--database", help="SQLAlchemy URL of a server; a fresh database is created on it")
    parser.add_argument("--json", help="also write the results as JSON to this path")
    parser.add_argument("--only", nargs="*", help="run only these measurements")
    args = parser.parse_args(argv)
    report = run(args.companies, args.database, args.only)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
