"""Rounds, applications moving through stages, and cultivation pools (DOMAIN §1)."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import utcnow
from crm.extensions import db
from crm.models.user import User

STAGES = ("intent", "coaching", "preparing", "submitted", "publicised", "approved", "rejected", "withdrawn")
OPEN_STAGES = ("intent", "coaching", "preparing", "submitted", "publicised")
CLOSED_STAGES = ("approved", "rejected", "withdrawn")
SUBMITTED_OR_LATER = ("submitted", "publicised", "approved")


class Round(db.Model):
    """申报批次: one certification kind in one year with its window."""

    __tablename__ = "round"
    # One round of a name per kind and year: two admins creating it at once get one (its kind, year lookups too).
    __table_args__ = (Index("uq_round_kind_year_name", "kind", "year", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(db.Model):
    """申报: one company's application in one round."""

    __table_args__ = (
        # One open application per company and round (DOMAIN §1); closed ones may repeat.
        Index(
            "uq_application_open_per_round", "company_id", "round_id", unique=True,
            sqlite_where=text("stage NOT IN ('approved', 'rejected', 'withdrawn')"),
            postgresql_where=text("stage NOT IN ('approved', 'rejected', 'withdrawn')"),
        ),
        Index("ix_application_round_stage", "round_id", "stage"),
        Index("ix_application_officer_id", "officer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(12), default="intent")
    stage_since: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500), default="")  # why rejected / withdrawn
    certification_id: Mapped[int | None] = mapped_column(ForeignKey("certification.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    company: Mapped["Company"] = relationship()  # noqa: F821
    round: Mapped[Round] = relationship()
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    moves: Mapped[list["ApplicationMove"]] = relationship(
        back_populates="application", order_by="ApplicationMove.moved_at", cascade="all, delete-orphan"
    )


class ApplicationMove(db.Model):
    __tablename__ = "application_move"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    seconds_in_previous: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(500), default="")

    application: Mapped[Application] = relationship(back_populates="moves")
    moved_by: Mapped[User | None] = relationship()


class Pool(db.Model):
    """培育库: a named set of companies targeted for a rung in a year."""

    __table_args__ = (UniqueConstraint("kind", "year", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PoolMember(db.Model):
    __tablename__ = "pool_member"
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    pool: Mapped[Pool] = relationship()
    company: Mapped["Company"] = relationship()  # noqa: F821
