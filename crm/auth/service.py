"""Login throttling and safe redirects."""
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.clock import utcnow
from crm.extensions import db
from crm.models import LoginAttempt, User


def is_throttled(username: str) -> bool:
    """Too many recent failures for this username, counted in the database (all workers see them)."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.at >= since)
    )
    return failures >= current_app.config["LOGIN_MAX_FAILURES"]


@cache
def _no_user_hash() -> str:
    """Checked when the username is unknown, so a failed login takes as long whether or not the account exists."""
    return generate_password_hash("no such user", method="scrypt")


def authenticate(username: str, password: str, ip: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_no_user_hash(), password)
    elif user.active and user.check_password(password):
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
        db.session.commit()
        return user
    db.session.add(LoginAttempt(username=username, ip=ip))
    db.session.commit()
    return None


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: '/companies?x=1' yes; '//evil.example', 'https://evil.example', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target
