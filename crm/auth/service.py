"""Login throttling, sign-ins kept on the server, and safe redirects."""
import secrets
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.clock import utcnow
from crm.extensions import db
from crm.models import LoginAttempt, LoginSession, User
from crm.normalize import url_int

SIGN_IN_KEY = "sign_in"  # the session key holding this device's LoginSession token


def is_throttled(username: str, ip: str) -> bool:
    """Too many recent failures from this address — for this username (a stranger guessing elsewhere cannot lock
    its owner out), or for any (one password tried on many accounts) — counted in the database (all workers)."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    for_user, for_any = db.session.execute(
        select(func.count().filter(LoginAttempt.username == username), func.count())
        .where(LoginAttempt.ip == ip, LoginAttempt.at >= since)).one()
    return (for_user >= current_app.config["LOGIN_MAX_FAILURES"]
            or for_any >= current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"])


@cache
def _no_user_hash() -> str:
    """Checked when the username is unknown, so a failed login takes as long whether or not the account exists."""
    return generate_password_hash("no such user", method="scrypt")


def authenticate(username: str, password: str, ip: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_no_user_hash(), password)
    elif user.check_password(password) and user.active:  # the hash checked either way: no faster answer for inactive
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
        db.session.commit()
        return user
    db.session.add(LoginAttempt(username=username, ip=ip))
    db.session.commit()
    return None


def _sign_ins_expired_before():
    return utcnow() - current_app.permanent_session_lifetime


def sign_in(user: User) -> None:
    """Log `user` in on this device with a sign-in of its own, which lasts PERMANENT_SESSION_LIFETIME at most;
    the user's sign-ins already past it are removed."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id,
                                                  LoginSession.created_at < _sign_ins_expired_before()))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token=token, user_id=user.id))
    db.session.commit()
    login_user(user)
    session[SIGN_IN_KEY] = token


def sign_out() -> None:
    """End this device's sign-in on the server too, so a copy of its session cookie stops working."""
    db.session.execute(delete(LoginSession).where(LoginSession.token == session.pop(SIGN_IN_KEY, "")))
    db.session.commit()
    logout_user()


def session_user(user_id: str) -> User | None:
    """The user of this session (Flask-Login's user loader, `user_id` as User.get_id() made it): the session
    version must be the user's (a password change or deactivation ends other sessions) and the session's sign-in
    live (not logged out, not expired)."""
    id_, _, version = user_id.partition(":")
    if url_int(id_) is None:
        return None
    user = db.session.scalar(select(User).join(LoginSession, LoginSession.user_id == User.id).where(
        User.id == url_int(id_), LoginSession.token == session.get(SIGN_IN_KEY, ""),
        LoginSession.created_at >= _sign_ins_expired_before()))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: '/companies?x=1' yes, and this site's own full address as its path
    ('http://ladder.local/work' → '/work'); '//evil.example', 'https://evil.example', '/\\evil' no."""
    if target and has_request_context() and target.startswith(request.host_url):  # the scheme and host serving us
        target = "/" + target[len(request.host_url):]
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target
