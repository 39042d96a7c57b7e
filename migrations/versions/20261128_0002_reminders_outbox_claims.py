"""Reminder outbox: digest kind (daily digest or test e-mail), claim time, admins' fallback items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminder_digest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="reminders", nullable=False))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("reminder_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_admins", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("reminder_item", schema=None) as batch_op:
        batch_op.drop_column("to_admins")
    with op.batch_alter_table("reminder_digest", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("kind")
