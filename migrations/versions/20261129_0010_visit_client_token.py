"""A visit form's draft kept in the phone carries a token of its own (drafts.js); the visit it became keeps it, so
the same draft sent again — its answer lost on a bad connection, the form put back later — is recognised whatever
the time since, and not recorded twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("client_token", sa.String(length=36), nullable=True))
        batch.create_index(batch.f("ix_visit_client_token"), ["client_token"], unique=True)


def downgrade():
    with op.batch_alter_table("visit") as batch:
        batch.drop_index(batch.f("ix_visit_client_token"))
        batch.drop_column("client_token")
