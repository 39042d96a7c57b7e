"""A 科小 registration holds for its calendar year whatever expiry was typed beside it (DOMAIN §1, §2.4: it lapses on
31 December): an 有效期至 entered on the form or imported had carried its window, and the company's 科小 standing,
past the year. Rewrites the derived valid_until of such registrations; the typed expiry stays recorded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    years = conn.execute(sa.text("SELECT DISTINCT year FROM certification WHERE kind = 'tech_sme' AND year IS NOT NULL")
                         ).scalars().all()
    update = sa.text("UPDATE certification SET valid_until = :last_day "
                     "WHERE kind = 'tech_sme' AND year = :year AND valid_until <> :last_day")
    changed = sum(conn.execute(update, {"year": year, "last_day": date(year, 12, 31)}).rowcount for year in years)
    if changed:  # the dashboard's cached figures were computed from the old windows
        conn.execute(sa.text("UPDATE data_version SET n = n + 1"))


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE certification SET valid_until = expires_on "
                         "WHERE kind = 'tech_sme' AND expires_on IS NOT NULL"))
    conn.execute(sa.text("UPDATE data_version SET n = n + 1"))
