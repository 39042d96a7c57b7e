"""Figures that are expensive to compute and read often — the dashboard's counts, trend and risk lists — kept
between requests, shared by the web workers (Flask-Caching; files under instance/cache by default), and never
older than the data they were computed from.

Every entry is keyed by the data version: a counter (table data_version) that moves with each transaction
writing to a table the figures read. The engine events below notice INSERT, UPDATE and DELETE statements on
those tables on any connection — web requests, CLI commands, imports, the scheduler, whatever the process —
and move the counter as that transaction commits, so a reader that sees the new rows also sees the new
version. Moving it at commit rather than at the first write keeps the counter row's lock to the commit
itself: a long import does not hold up the officers' edits.
"""
import hashlib
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import UpdateBase

from crm.extensions import cache, db
from crm.models import DataVersion

# The tables the cached figures are computed from (areas change only with a migration).
WATCHED = frozenset({"company", "certification", "application", "round", "target", "annual_report"})
_CHANGED = "ladder_figures_changed"


@event.listens_for(Engine, "after_execute")
def _note_change(conn, clauseelement, *_args) -> None:
    if isinstance(clauseelement, UpdateBase) and getattr(clauseelement.table, "name", None) in WATCHED:
        conn.info[_CHANGED] = True


@event.listens_for(Engine, "commit")
def _move_version(conn) -> None:
    if conn.info.pop(_CHANGED, False):
        conn.execute(update(DataVersion).where(DataVersion.id == 1).values(n=DataVersion.n + 1))


@event.listens_for(Engine, "rollback")
def _forget_change(conn) -> None:
    conn.info.pop(_CHANGED, None)


def data_version() -> int | None:
    return db.session.scalar(select(DataVersion.n).where(DataVersion.id == 1))


def _database_tag() -> str:
    """Which database the figures came from: two databases served from one checkout share instance/cache."""
    from flask import current_app

    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    return hashlib.blake2b(uri.encode(), digest_size=6).hexdigest()


def remembered(name: str, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
    """What compute() returns, from the cache when it ran before for the same key and data version."""
    version = data_version()
    if version is None:  # no counter row: nothing can tell when the figures go stale
        return compute()
    full_key = ":".join(map(str, (name, _database_tag(), version, *key)))
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value)
    return value
