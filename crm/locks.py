"""Holding rows until the transaction ends: the check-then-write of two requests at once runs one after the other."""
from sqlalchemy import Select, update

from crm.extensions import db
from crm.models.data_version import DataVersion


def hold(rows: Select) -> None:
    """Hold `rows` (a SELECT of their ids) until this transaction ends, so that a second request holding them waits
    for the first to commit and then reads what it wrote.

    PostgreSQL: FOR UPDATE on the rows, which also waits for a transaction inserting rows that refer to them.
    SQLite locks the whole database for a writer: a write that changes nothing (the data-version counter set
    to itself) takes that lock without touching the rows, whose updated_at would move. Call it before reading
    what the decision rests on."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(rows.with_for_update())
    else:
        db.session.execute(update(DataVersion).where(DataVersion.id == 1).values(n=DataVersion.n))
