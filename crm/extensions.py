"""Unbound extensions, initialised in create_app()."""
from flask_babel import Babel
from flask_caching import Cache
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from collections.abc import Iterable

from sqlalchemy import MetaData, bindparam
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter and drop them (also in SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
cache = Cache()


def insert_ignoring_duplicates(model, dialect: str, index_elements=None):
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL spell it alike): a row its unique key already holds,
    written meanwhile by another request or run, is skipped instead of failing the transaction."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing(index_elements=index_elements)


def ids_in(column, ids: Iterable[int]):
    """column IN (…) for a long list of integer ids, the ids written into the statement: psycopg takes about
    10 µs to convert each bound parameter of a statement too long for its cache (2,000 ids: 25 ms), integers
    need no binding to be safe, and SQLite reads the literal list as fast as bound ones."""
    return column.in_(bindparam(None, [int(i) for i in ids], expanding=True, literal_execute=True))
