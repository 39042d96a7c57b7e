"""The reminder outbox (DOMAIN §6): items and digests are written before anything is sent."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import utcnow
from crm.extensions import db
from crm.models.user import User

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
REMINDERS, TEST = "reminders", "test"  # digest kinds: the daily digest, or an admin's test e-mail


class ReminderDigest(db.Model):
    """One e-mail to one recipient; `status` turns sent only after the SMTP server accepted it.

    pending → sending (claimed by one run, `claimed_at`) → sent | pending again (transient failure) | failed (5xx).
    """

    __tablename__ = "reminder_digest"
    __table_args__ = (Index("ix_reminder_digest_status", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=REMINDERS, server_default=REMINDERS)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    run_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    recipient: Mapped[User | None] = relationship()
    items: Mapped[list["ReminderItem"]] = relationship(back_populates="digest")


class ReminderItem(db.Model):
    """A reminder that fired: unique per (kind, subject, due date, lead, recipient)."""

    __tablename__ = "reminder_item"
    __table_args__ = (Index("ix_reminder_item_status", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject_key: Mapped[str] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    to_admins: Mapped[bool] = mapped_column(default=False, server_default=false())  # no officer: an admins' fallback
    due_on: Mapped[date]
    lead: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    fired_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_digest.id", ondelete="SET NULL"), index=True)

    digest: Mapped[ReminderDigest | None] = relationship(back_populates="items")


class JobRun(db.Model):
    """What a scheduled job did and when, for the admin page."""

    __tablename__ = "job_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    result: Mapped[str] = mapped_column(Text, default="")
