"""Visits (走访), the needs they record and the follow-ups they promise."""
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import utcnow
from crm.extensions import db
from crm.models.user import User

VISIT_KINDS = ("onsite", "phone", "meeting", "online")  # 实地走访, 电话, 会议, 线上

visit_officer = Table(
    "visit_officer",
    db.metadata,
    Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)
visit_need = Table(
    "visit_need",
    db.metadata,
    Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("need_category.id", ondelete="CASCADE"), primary_key=True),
)


class NeedCategory(db.Model):
    """企业诉求类别 (admin-editable list)."""

    __tablename__ = "need_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    sort: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Visit(db.Model):
    __table_args__ = (
        Index("ix_visit_company_date", "company_id", "visited_on"),
        Index("ix_visit_date", "visited_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    visited_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10), default="onsite")
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    company_people: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    needs_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The token of the form's draft in the phone (drafts.js): the same draft sent again is this visit.
    client_token: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)

    company: Mapped["Company"] = relationship()  # noqa: F821
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    officers: Mapped[list[User]] = relationship(secondary=visit_officer)
    needs: Mapped[list[NeedCategory]] = relationship(secondary=visit_need)
    follow_ups: Mapped[list["FollowUp"]] = relationship(back_populates="visit", order_by="FollowUp.due_on")


class FollowUp(db.Model):
    """跟进事项: something promised to a company, with an owner and a due date."""

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_owner_open_due", "owner_id", "done_at", "due_on"),
        Index("ix_follow_up_company_id", "company_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due_on: Mapped[date]
    done_at: Mapped[datetime | None]
    done_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    company: Mapped["Company"] = relationship()  # noqa: F821
    visit: Mapped[Visit | None] = relationship(back_populates="follow_ups")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    events: Mapped[list["FollowUpEvent"]] = relationship(order_by="FollowUpEvent.at", cascade="all, delete-orphan")

    # What a follow-up's list item shows, named as My work's plain rows (crm.work.service.FollowUpItem) name it.
    @property
    def company_name(self) -> str:
        return self.company.name

    @property
    def owner_label(self) -> str | None:
        return self.owner.label if self.owner else None


class FollowUpEvent(db.Model):
    """History of a follow-up: reassignments, due-date changes, completion."""

    __tablename__ = "follow_up_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(20))  # owner | due_on | done
    old: Mapped[str] = mapped_column(String(100), default="")
    new: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")

    by: Mapped[User | None] = relationship()
