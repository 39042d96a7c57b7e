#!/usr/bin/env python
"""Time the import of a generated ledger: N companies, ~1.3 certifications each, three years of figures.

    .venv/bin/python scripts/bench_import.py [--companies 10000] [--database URL]

Without --database it uses a fresh SQLite file in a temporary directory; with a PostgreSQL URL it
creates (and drops) a fresh database on that server. The workbook is written to the temporary
directory and never kept.
"""
import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import TestingConfig  # noqa: E402
from crm import create_app  # noqa: E402
from crm.normalize import uscc_check_char  # noqa: E402
from crm.transfer.schema import SHEETS  # noqa: E402

DISTRICTS = ["通川区", "达川区", "宣汉县", "开江县", "大竹县", "渠县", "万源市"]
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ledger(path: Path, n: int, rng: random.Random) -> None:
    wb = Workbook(write_only=True)
    sheets = {spec.key: wb.create_sheet(spec.title) for spec in SHEETS}
    for spec in SHEETS:
        sheets[spec.key].append([f.header for f in spec.fields])
    for i in range(n):
        body = f"9151170{rng.randint(2, 3)}" + "".join(rng.choice(CHARSET) for _ in range(9))
        code = body + uscc_check_char(body)
        sheets["companies"].append([f"达州测试企业{i:05d}有限公司", code, rng.choice(DISTRICTS), "", "电子信息",
                                    f"{rng.randint(2005, 2022)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
                                    "刘经理", f"139{rng.randint(10000000, 99999999)}", "", ""])
        sheets["certifications"].append([code, "科技型中小企业", f"2024-{i:05d}", 2024, "", "", "有效"])
        if rng.random() < 0.3:
            sheets["certifications"].append([code, "高新技术企业", f"GR2023{i:05d}", "", "2023-11-20", "", "有效"])
        for year in (2022, 2023, 2024):
            employees = rng.randint(10, 400)
            sheets["figures"].append([code, year, employees, rng.randint(1, employees), rng.randint(100, 20000),
                                      rng.randint(5, 900), "", rng.randint(80, 18000), rng.randint(100, 30000),
                                      rng.randint(50, 15000), "", rng.randint(0, 3), rng.randint(0, 20)])
    wb.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10000)
    parser.add_argument("--database", help="SQLAlchemy URL of a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = f"sqlite:///{tmp}/bench.sqlite", None
        if args.database:
            server = make_url(args.database)
            name = f"ladder_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = server.set(database=name).render_as_string(hide_password=False)

            def drop():
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        class Config(TestingConfig):
            SQLALCHEMY_DATABASE_URI = url

        path = Path(tmp) / "台账.xlsx"
        ledger(path, args.companies, random.Random(7))
        data = path.read_bytes()
        app = create_app(Config)
        try:
            with app.app_context():
                from flask_migrate import upgrade

                from crm.extensions import db
                from crm.transfer.importer import run_import

                upgrade()
                for label, dry_run in (("preview (dry run)", True), ("first import", False), ("re-import", False)):
                    started = time.perf_counter()
                    result = run_import(data, path.name, None, dry_run=dry_run)
                    print(f"{label:18} {time.perf_counter() - started:6.1f} s  {result.summary_line()}")
                db.engine.dispose()
        finally:
            if drop:
                drop()
        print(f"{args.companies} companies, {len(data) / 1e6:.1f} MB workbook, {make_url(url).get_backend_name()}")


if __name__ == "__main__":
    main()
