"""The reminder engine's inputs, loaded from the database in a constant number of queries.

Only rows that can produce a deadline in the period are read (certificates still valid since last
31 December, rounds closing in the period, open follow-ups due in it, ...), so a run over a province
of 100,000 companies reads what is due, not the register. Inactive users are treated as absent: a
company whose officer left falls to the admins (DOMAIN §6).
"""
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, or_, select, true
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.models import AnnualReport, Application, Certification, Company, FollowUp, Pool, PoolMember, Round, User
from crm.models.certification import HNTE, REVOKED, TECH_SME
from crm.reminders import engine


@dataclass
class Inputs:
    companies: dict[int, engine.CompanyInfo] = field(default_factory=dict)
    certs: list[engine.Cert] = field(default_factory=list)
    rounds: list[engine.Round] = field(default_factory=list)
    applications: list[engine.OpenApplication] = field(default_factory=list)
    follow_ups: list[engine.FollowUp] = field(default_factory=list)
    annual_reports: list[engine.AnnualReport] = field(default_factory=list)
    pools: list[engine.PoolMembership] = field(default_factory=list)

    def engine_args(self) -> tuple:
        """Positional arguments for engine.deadlines() / engine.due_items() after the dates."""
        return (self.companies.values(), self.certs, self.rounds, self.applications, self.follow_ups,
                self.annual_reports, self.pools)


def _active(user: Any, user_id: Any) -> Any:
    """`user_id` when that user is active, else NULL (an absent officer falls to the next in line)."""
    return case((user.active.is_(True), user_id), else_=None)


_officer = aliased(User)
# Last in every select that names a company: its id, name, 统一社会信用代码 and active officer.
COMPANY_COLUMNS = (Company.id, Company.name, Company.uscc, _active(_officer, Company.officer_id))


def _with_company(stmt, company_id: Any):
    return stmt.join(Company, Company.id == company_id).outerjoin(_officer, _officer.id == Company.officer_id)


def load_inputs(start: date, horizons: Mapping[str, date], officer_id: int | None = None,
                area_ids: list[int] | None = None) -> Inputs:
    """Rows for the deadlines of each kind due in [start, horizons[kind]] (a kind absent from
    `horizons` is not loaded). `officer_id` limits to that officer's companies plus applications and
    follow-ups addressed to them; `area_ids` to companies in those districts or parks."""
    def until(*kinds: str) -> date | None:
        dates = [horizons[k] for k in kinds if k in horizons and horizons[k] >= start]
        return max(dates, default=None)

    def scope(*addressed_to: Any) -> Any:
        conditions = []
        if area_ids is not None:
            conditions.append(or_(Company.district_id.in_(area_ids), Company.park_id.in_(area_ids)))
        if officer_id is not None:
            conditions.append(or_(Company.officer_id == officer_id, *[col == officer_id for col in addressed_to]))
        return and_(true(), *conditions)

    out = Inputs()

    def rows_with_company(stmt) -> Iterator[tuple]:
        """The rows of `stmt` (ending in COMPANY_COLUMNS) as their other columns and the company id; each
        company is recorded once. Unpacked by position: at tens of thousands of rows, access by name
        costs more than the query."""
        companies = out.companies
        for *values, company_id, name, uscc, officer_id in db.session.execute(stmt).tuples():
            if company_id not in companies:
                companies[company_id] = engine.CompanyInfo(company_id, name, uscc, officer_id)
            yield *values, company_id

    # 高企 certificates still valid on last 31 December: they expire in the period, owe a report due in
    # it (§3.3, valid on 31 Dec of the fiscal year), or are the later certificate that suppresses an expiry.
    if until(engine.HNTE_EXPIRY, engine.HNTE_ANNUAL_REPORT):
        stmt = _with_company(select(
            Certification.id, Certification.issued_on, Certification.valid_until, Certification.number,
            *COMPANY_COLUMNS,
        ), Certification.company_id).where(Certification.kind == HNTE, Certification.status != REVOKED,
                 Certification.valid_until >= date(start.year - 1, 12, 31), scope())
        out.certs.extend(engine.Cert(id_, company_id, HNTE, issued_on, valid_until, None, False, number)
                         for id_, issued_on, valid_until, number, company_id in rows_with_company(stmt))

    report_until = until(engine.HNTE_ANNUAL_REPORT)
    if report_until:
        fiscal_years = list(range(start.year - 1, report_until.year))
        stmt = select(AnnualReport.company_id, AnnualReport.year).join(Company).where(
            AnnualReport.year.in_(fiscal_years), scope())
        out.annual_reports = [engine.AnnualReport(cid, year) for cid, year in db.session.execute(stmt)]

    round_until = until(engine.TECH_SME_RENEWAL, engine.ROUND_DEADLINE)
    if round_until:
        stmt = select(Round).where(Round.closes_on >= start, Round.closes_on <= round_until)
        if until(engine.ROUND_DEADLINE) is None:  # only the tech-SME renewal needs rounds
            stmt = stmt.where(Round.kind == TECH_SME)
        out.rounds = [engine.Round(r.id, r.kind, r.year, r.name, r.closes_on) for r in db.session.scalars(stmt)]

    if out.rounds:
        app_officer = aliased(User)
        stmt = _with_company(select(
            Application.id, Application.round_id, _active(app_officer, Application.officer_id), Application.stage,
            *COMPANY_COLUMNS,
        ), Application.company_id).outerjoin(app_officer, app_officer.id == Application.officer_id).where(
            Application.round_id.in_([r.id for r in out.rounds]), scope(Application.officer_id))
        out.applications = [engine.OpenApplication(id_, company_id, round_id, officer, stage)
                            for id_, round_id, officer, stage, company_id in rows_with_company(stmt)]

    sme_years = sorted({r.year for r in out.rounds if r.kind == TECH_SME})
    if sme_years and until(engine.TECH_SME_RENEWAL):
        # Registrations for Y−1 (who must renew) and for Y (already renewed, revoked ones included: §2.4), with
        # their issue dates: a run for a past day is not silenced by a registration issued after it.
        stmt = _with_company(select(
            Certification.id, Certification.year, Certification.status, Certification.issued_on, *COMPANY_COLUMNS,
        ), Certification.company_id).where(Certification.kind == TECH_SME,
                 Certification.year.in_(sorted({y - 1 for y in sme_years} | set(sme_years))), scope())
        out.certs.extend(engine.Cert(id_, company_id, TECH_SME, issued_on, None, year, status == REVOKED)
                         for id_, year, status, issued_on, company_id in rows_with_company(stmt))
        stmt = _with_company(select(Pool.year, *COMPANY_COLUMNS).select_from(PoolMember)
                             .join(Pool, Pool.id == PoolMember.pool_id), PoolMember.company_id).where(
            Pool.kind == TECH_SME, Pool.year.in_(sme_years), scope())
        out.pools = [engine.PoolMembership(company_id, TECH_SME, year)
                     for year, company_id in rows_with_company(stmt)]

    follow_up_until = until(engine.FOLLOW_UP_DUE)
    if follow_up_until:
        owner = aliased(User)
        stmt = _with_company(select(
            FollowUp.id, _active(owner, FollowUp.owner_id), FollowUp.title, FollowUp.due_on, *COMPANY_COLUMNS,
        ), FollowUp.company_id).outerjoin(owner, owner.id == FollowUp.owner_id).where(
            FollowUp.done_at.is_(None), FollowUp.due_on >= start, FollowUp.due_on <= follow_up_until,
            scope(FollowUp.owner_id))
        out.follow_ups = [engine.FollowUp(id_, company_id, owner_id, title, due_on, False)
                          for id_, owner_id, title, due_on, company_id in rows_with_company(stmt)]
    return out
