"""Demo data: filed 高企 annual reports (DOMAIN §3.3), most on time, a few missing so some companies show at risk."""
import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.models import AnnualReport, Certification
from crm.models.certification import HNTE
from crm.reminders.engine import report_due, report_years
from crm.reminders.service import engine_certs


def seed(rng: random.Random) -> None:
    on = today()
    by_company = defaultdict(list)
    for cert in db.session.scalars(select(Certification).where(Certification.kind == HNTE)):
        by_company[cert.company_id].append(cert)
    for company_id, certs in by_company.items():
        for year in report_years(engine_certs(certs), on.year - 5, on.year):
            opens = date(year + 1, 3, 1)
            if opens <= on and rng.random() < 0.9:
                filed_on = min(opens + timedelta(days=rng.randint(0, (report_due(year) - opens).days)), on)
                db.session.add(AnnualReport(company_id=company_id, year=year, filed_on=filed_on))
