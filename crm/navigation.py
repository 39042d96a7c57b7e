"""The top navigation: (endpoint, label, roles that see it)."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ALL = ("admin", "officer", "viewer")
NAV = [
    ("companies.index", _l("企业"), ALL),
    ("reminders.deadlines", _l("到期事项"), ALL),
    ("reminders.admin", _l("提醒邮件"), ("admin",)),
    ("users.index", _l("用户"), ("admin",)),
]


def nav_items() -> list[tuple[str, str]]:
    """Entries the current user may open and whose endpoint exists in this app."""
    endpoints = current_app.view_functions
    return [(e, label) for e, label, roles in NAV if current_user.role in roles and e in endpoints]
