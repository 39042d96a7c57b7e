"""Cultivation pools (培育库, DOMAIN §1): named sets of companies targeted for a rung in a year."""
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import DateTime, Integer, Select, and_, delete, exists, func, literal, select

from crm.clock import utcnow
from crm.extensions import db, insert_ignoring_duplicates
from crm.models import Area, Company, Pool, PoolMember
from crm.models.certification import KINDS


class PoolError(ValueError):
    """A pool that cannot be saved; str() is the reason, in the reader's language."""


def pools_with_counts(scope: Any, year: int | None = None) -> list[tuple[Pool, int]]:
    """Every pool (of `year` if given) with the number of its members the user may see, in one query."""
    stmt = (select(Pool, func.count(Company.id))
            .outerjoin(PoolMember, PoolMember.pool_id == Pool.id)
            .outerjoin(Company, and_(Company.id == PoolMember.company_id, scope))
            .group_by(Pool.id).order_by(Pool.year.desc(), Pool.kind, Pool.name))
    if year is not None:
        stmt = stmt.where(Pool.year == year)
    return [(pool, count) for pool, count in db.session.execute(stmt)]


def save_pool(pool: Pool, kind: str, year: int, name: str) -> Pool:
    name = name.strip()
    if kind not in KINDS:
        raise PoolError(_("资质类型不正确"))
    if not name:
        raise PoolError(_("请填写培育库名称"))
    clash = db.session.scalar(select(Pool.id).where(Pool.kind == kind, Pool.year == year, Pool.name == name))
    if clash is not None and clash != pool.id:
        raise PoolError(_("%(year)s 年已有同类型的培育库“%(name)s”", year=year, name=name))
    pool.kind, pool.year, pool.name = kind, year, name
    db.session.add(pool)
    return pool


def delete_pool(pool: Pool) -> None:
    db.session.execute(delete(PoolMember).where(PoolMember.pool_id == pool.id))
    db.session.delete(pool)


def add_members(pool: Pool, company_ids: Select, user_id: int | None) -> int:
    """Add the companies a `select(Company.id …)` returns, skipping members (also those another officer adds at
    the same moment); one statement whatever their number."""
    rows = (select(literal(pool.id, Integer), Company.id, literal(utcnow(), DateTime), literal(user_id, Integer))
            .where(Company.id.in_(company_ids.order_by(None)))
            .where(~exists().where(PoolMember.pool_id == pool.id, PoolMember.company_id == Company.id)))
    statement = insert_ignoring_duplicates(PoolMember, db.session.get_bind().dialect.name)
    result = db.session.execute(statement.from_select(["pool_id", "company_id", "added_at", "added_by_id"], rows))
    return result.rowcount


def remove_member(pool: Pool, company_id: int) -> bool:
    result = db.session.execute(
        delete(PoolMember).where(PoolMember.pool_id == pool.id, PoolMember.company_id == company_id))
    return result.rowcount > 0


def members_query(pool: Pool, scope: Any) -> Select:
    """The members of a pool the user may see, by district then name."""
    return (select(Company).join(PoolMember, PoolMember.company_id == Company.id)
            .join(Area, Area.id == Company.district_id)
            .where(PoolMember.pool_id == pool.id, scope).order_by(Area.code, Company.name_sort, Company.id))
