"""Sign-ins kept on the server: one row per login on a device, its token also in that device's session cookie,
so logging out ends that session (a copied cookie stops working) and a session lasts PERMANENT_SESSION_LIFETIME.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_session",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_login_session_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_login_session")),
    )
    with op.batch_alter_table("login_session") as batch:
        batch.create_index(batch.f("ix_login_session_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("login_session")
