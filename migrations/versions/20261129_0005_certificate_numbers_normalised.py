"""Certificate and registration numbers are stored as codes are compared: half-width, no spaces, upper-case,
so ＧＲ２０２３５１０００１２３ typed on a phone and GR202351000123 imported match (DOMAIN §8: a certification
is matched by company, kind and 编号). Rewrites the numbers already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As crm.normalize.normalize_code on the day of this migration (kept here so the migration never changes).
_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SPACES = re.compile(r"[\s\u200b\ufeff]+")


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, number FROM certification WHERE number <> ''")).all()
    changed = [{"id": id_, "number": code} for id_, number in rows
               if (code := _SPACES.sub("", number.translate(_HALFWIDTH)).upper()) != number]
    if changed:
        conn.execute(sa.text("UPDATE certification SET number = :number WHERE id = :id"), changed)


def downgrade():
    pass  # the original spellings are not kept; normalised numbers are valid under the old code too
