"""The top navigation: (endpoint, label, roles that see it)."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ALL = ("admin", "officer", "viewer")
NAV = [
    ("work.index", _l("我的工作"), ("admin", "officer")),
    ("companies.index", _l("企业"), ALL),
    ("rounds.index", _l("申报"), ALL),
    ("visits.index", _l("走访"), ALL),
    ("visits.needs", _l("诉求分析"), ALL),
    ("work.team", _l("团队概况"), ("admin",)),
    ("transfer.upload", _l("导入"), ("admin", "officer")),
    ("dashboard.index", _l("目标进度"), ALL),
    ("companies.index", _l("企业"), ALL),
    ("targets.index", _l("目标设置"), ("admin",)),
    ("ladder.pools", _l("培育库"), ALL),
    ("ladder.shortlist_page", _l("申报名单"), ALL),
    ("users.index", _l("用户"), ("admin",)),
    ("admin.settings", _l("规则参数"), ("admin",)),
]


def nav_items() -> list[tuple[str, str]]:
    """Entries the current user may open and whose endpoint exists in this app."""
    endpoints = current_app.view_functions
    return [(e, label) for e, label, roles in NAV if current_user.role in roles and e in endpoints]
