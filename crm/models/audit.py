from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import utcnow
from crm.extensions import db
from crm.models.user import User


class AuditLog(db.Model):
    """Who changed what and when (companies, certifications, figures, users, rule settings; corrected or deleted
    visits), and who exported which list."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_company_at", "company_id", "at"),
        Index("ix_audit_log_at", "at"),  # 操作日志, newest first
        Index("ix_audit_log_entity", "entity", "entity_id", "at"),  # one record's history (a user's, a visit's)
        Index("ix_audit_log_entity_at", "entity", "at"),  # one kind of record, newest first
        Index("ix_audit_log_user_at", "user_id", "at"),  # what one person did
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(80), default="web")  # web | cli | import:<file>
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None]
    company_id: Mapped[int | None] = mapped_column(index=True)  # kept after the company is deleted
    action: Mapped[str] = mapped_column(String(10))  # create | update | delete | export
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
