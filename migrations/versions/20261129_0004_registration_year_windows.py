"""A 科小 registration or 瞪羚 recognition is in force from 1 January of its year, not from its issue date
(DOMAIN §1: a tech-SME registration holds for the calendar year of D); the issue date now matters only to
counting (§5). Rewrites the derived valid_from of existing rows to match crm.ladder.standing.validity_window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KINDS = ("tech_sme", "gazelle")


def upgrade():
    conn = op.get_bind()
    years = conn.execute(sa.text("SELECT DISTINCT year FROM certification WHERE kind IN :kinds AND year IS NOT NULL")
                         .bindparams(sa.bindparam("kinds", expanding=True)), {"kinds": list(KINDS)}).scalars()
    update = sa.text("UPDATE certification SET valid_from = :first_day "
                     "WHERE kind IN :kinds AND year = :year AND valid_from <> :first_day"
                     ).bindparams(sa.bindparam("kinds", expanding=True))
    changed = 0
    for year in list(years):
        changed += conn.execute(update, {"kinds": list(KINDS), "year": year, "first_day": date(year, 1, 1)}).rowcount
    if changed:  # the dashboard's cached figures were computed from the old windows
        conn.execute(sa.text("UPDATE data_version SET n = n + 1"))


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE certification SET valid_from = issued_on "
                         "WHERE kind IN ('tech_sme', 'gazelle') AND issued_on IS NOT NULL"))
    conn.execute(sa.text("UPDATE data_version SET n = n + 1"))
