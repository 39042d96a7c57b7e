"""Exports of lists as the user sees them (issue 7): same filter, same area scope, Chinese headers."""
from datetime import date

from crm.companies.service import CompanyFilter, company_query
from crm.extensions import db
from crm.ladder.queries import standings_for
from crm.models import User
from crm.transfer.spreadsheet import Column

CHUNK = 1000
COMPANY_COLUMNS = [
    Column("企业名称", 32), Column("统一社会信用代码", 22), Column("所属区县", 10), Column("所在园区", 16),
    Column("当前梯次", 16), Column("包联干部", 10), Column("成立日期", 12, "yyyy-mm-dd"), Column("联系人", 10),
    Column("联系电话", 16),
]


def company_rows(user: User, f: CompanyFilter, on: date) -> list[list]:
    """The company list as filtered on the list page, every page of it, with each company's standing on `on`."""
    companies = db.session.scalars(company_query(user, f, on)).unique().all()
    standings = {}
    for start in range(0, len(companies), CHUNK):
        standings.update(standings_for([c.id for c in companies[start:start + CHUNK]], on))
    return [[c.name, c.uscc, c.district.name, c.park.name if c.park else "", standings[c.id].label,
             c.officer.label if c.officer else "", c.founded_on, c.contact_name, c.contact_phone]
            for c in companies]
