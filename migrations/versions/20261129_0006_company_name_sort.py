"""Company names sort as Chinese readers expect, by pinyin (万源 after 川东, not before): a name_sort column kept by
the model and the importer (crm.normalize.name_sort_key), filled here for existing rows; the list indexes follow.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from pypinyin import lazy_pinyin

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _key(name: str) -> str:  # crm.normalize.name_sort_key on the day of this migration
    return "".join(lazy_pinyin((name or "").translate(_HALFWIDTH))).lower()[:400]


def upgrade():
    with op.batch_alter_table("company") as batch:
        batch.add_column(sa.Column("name_sort", sa.String(400), server_default="", nullable=False))
        batch.drop_index("ix_company_district_name")
        batch.drop_index("ix_company_park_name")
        batch.create_index("ix_company_name_sort", ["name_sort"])
        batch.create_index("ix_company_district_name_sort", ["district_id", "name_sort"])
        batch.create_index("ix_company_park_name_sort", ["park_id", "name_sort"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, name FROM company")).all()
    if rows:
        conn.execute(sa.text("UPDATE company SET name_sort = :key WHERE id = :id"),
                     [{"id": id_, "key": _key(name)} for id_, name in rows])


def downgrade():
    with op.batch_alter_table("company") as batch:
        batch.drop_index("ix_company_park_name_sort")
        batch.drop_index("ix_company_district_name_sort")
        batch.drop_index("ix_company_name_sort")
        batch.create_index("ix_company_district_name", ["district_id", "name"])
        batch.create_index("ix_company_park_name", ["park_id", "name"])
        batch.drop_column("name_sort")
