"""The top navigation: (endpoint, label, roles that see it)."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ALL = ("admin", "officer", "viewer")
NAV = [
    ("companies.index", _l("企业"), ALL),
    ("ladder.pools", _l("培育库"), ALL),
    ("ladder.shortlist_page", _l("申报名单"), ALL),
    ("users.index", _l("用户"), ("admin",)),
    ("admin.settings", _l("规则参数"), ("admin",)),
]


def nav_items() -> list[tuple[str, str]]:
    """Entries the current user may open and whose endpoint exists in this app."""
    endpoints = current_app.view_functions
    return [(e, label) for e, label, roles in NAV if current_user.role in roles and e in endpoints]
