"""Standing in SQL: the same rule as standing.standing_on(), for filtering lists at scale."""
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select

from crm.clock import utc_start_of
from crm.extensions import db, ids_in
from crm.ladder.standing import Standing, cultivates_on, in_force_clause, standing_on
from crm.models import Certification, Company, Pool, PoolMember
from crm.models.certification import GAZELLE, HNTE, TECH_SME


def _holds(kind: str, on: date) -> Any:
    return exists().where(Certification.company_id == Company.id, in_force_clause(on, kind))


def _cultivating(on: date) -> Any:
    """standing.cultivates_on as a condition on Pool."""
    return or_(Pool.year == on.year, and_(Pool.year > on.year, Pool.created_at < utc_start_of(on + timedelta(days=1))))


def pooled_clause(on: date) -> Any:
    """A WHERE condition on Company: in a cultivation pool that cultivates on `on` (standing.cultivates_on)."""
    return exists().where(PoolMember.company_id == Company.id, PoolMember.pool_id == Pool.id, _cultivating(on))


def standing_clause(rung: str, on: date) -> Any:
    """A WHERE condition on Company true when its standing on `on` is `rung`."""
    higher: list[Any] = []
    for kind in (GAZELLE, HNTE, TECH_SME):
        if rung == kind:
            return and_(_holds(kind, on), *[not_(h) for h in higher])
        higher.append(_holds(kind, on))
    if rung == "incubating":
        return and_(pooled_clause(on), *[not_(h) for h in higher])
    return and_(*[not_(h) for h in higher], not_(pooled_clause(on)))


def standings_for(company_ids: list[int], on: date) -> dict[int, Standing]:
    """Standing of each company, in two queries whatever the number of companies."""
    if not company_ids:
        return {}
    certs = defaultdict(list)
    for cert in db.session.scalars(
        select(Certification).where(ids_in(Certification.company_id, company_ids), in_force_clause(on))
    ):
        certs[cert.company_id].append(cert)
    pooled = set(db.session.scalars(
        select(PoolMember.company_id).join(Pool).where(ids_in(PoolMember.company_id, company_ids), _cultivating(on))
    ))
    return {cid: standing_on(certs[cid], on, cid in pooled) for cid in company_ids}


def standing_of(company: Company, on: date) -> Standing:
    """One company's standing, from its certifications and pools: loaded once per session and shared by
    everything on its page that needs them (standing, eligibility, the certificate table, the pools)."""
    return standing_on(company.certifications, on, any(cultivates_on(p.year, p.created_at, on) for p in company.pools))
