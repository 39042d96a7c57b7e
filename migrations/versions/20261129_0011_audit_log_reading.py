"""The audit trail read by admins (操作日志, /admin/log): newest first over everything, by kind of record, by the
record changed (a user's history), or by who acted — each an index in the page's order, so the page stays fast
however long the trail grows (one kind is often a sliver of it: SQLite's statistics cannot tell, and would
otherwise walk the whole trail by date).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id", "at"])
    op.create_index("ix_audit_log_entity_at", "audit_log", ["entity", "at"])
    op.create_index("ix_audit_log_user_at", "audit_log", ["user_id", "at"])


def downgrade():
    op.drop_index("ix_audit_log_user_at", table_name="audit_log")
    op.drop_index("ix_audit_log_entity_at", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
