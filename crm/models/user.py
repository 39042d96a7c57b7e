from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.clock import utcnow
from crm.extensions import db
from crm.models.area import Area

ADMIN, OFFICER, VIEWER = "admin", "officer", "viewer"
ROLES = (ADMIN, OFFICER, VIEWER)

user_area = Table(
    "user_area",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    # Bumped on password change or deactivation; sessions carry it, so older ones stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Read by the reminders run and the preferences page only: deferred, so the users shown on every list
    # (owners, officers) are not decoded from JSON row by row.
    reminder_opt_out: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Loaded when read: only the signed-in user's areas are needed (scoping), not those of every officer shown.
    areas: Mapped[list[Area]] = relationship(secondary=user_area)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def can_edit(self) -> bool:
        return self.role in (ADMIN, OFFICER)

    @property
    def takes_companies(self) -> bool:
        """May be assigned companies (包联): an active officer or admin."""
        return self.active and self.can_edit

    @hybrid_property
    def label(self) -> str:
        return self.display_name or self.username

    @label.inplace.expression
    @classmethod
    def _label_expression(cls):
        """The same label in SQL, for lists read as plain rows."""
        return func.coalesce(func.nullif(cls.display_name, ""), cls.username)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginAttempt(db.Model):
    """Failed logins, kept in the database so throttling holds across worker processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoginSession(db.Model):
    """One sign-in on one device. Its random token is kept in that device's session cookie too: logging out deletes
    the row, so a copy of the cookie stops working while the user's other sign-ins go on."""

    __tablename__ = "login_session"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
