"""A round's name is unique within its kind and year (two admins creating the same round at once got two, and
their applications split between them). Rounds already twinned keep theirs: a later twin's name gets （2）, （3）…

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, kind, year, name FROM round ORDER BY id")).all()
    taken, seen, renames = {(kind, year, name) for _, kind, year, name in rows}, set(), []
    for id_, kind, year, name in rows:
        if (kind, year, name) in seen:
            n, twin = 2, name
            while (kind, year, twin) in taken:
                suffix = f"（{n}）"
                twin, n = name[:120 - len(suffix)] + suffix, n + 1  # the column holds 120 characters
            taken.add((kind, year, twin))
            renames.append({"id": id_, "name": twin})
        seen.add((kind, year, name))
    if renames:
        conn.execute(sa.text("UPDATE round SET name = :name WHERE id = :id"), renames)
    with op.batch_alter_table("round") as batch:
        batch.drop_index("ix_round_kind_year")
        batch.create_index("uq_round_kind_year_name", ["kind", "year", "name"], unique=True)


def downgrade():
    with op.batch_alter_table("round") as batch:
        batch.drop_index("uq_round_kind_year_name")
        batch.create_index("ix_round_kind_year", ["kind", "year"])
