"""Throwaway PostgreSQL databases, for the test suite and the benchmark: created fresh, dropped after."""
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import with_driver


def scratch_database(server_url: str, prefix: str, durable: bool = True) -> tuple[str, Callable[[], None]]:
    """Create a uniquely named database on the server of `server_url`; return its URL and a function that drops it.

    `durable=False` turns off synchronous commit: nothing in a throwaway database needs to wait for the disk."""
    url = make_url(with_driver(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not durable:
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop
