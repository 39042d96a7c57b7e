"""The top navigation: (endpoint, label, roles that see it); URLs for long lists."""
from collections.abc import Callable

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ALL = ("admin", "officer", "viewer")
ADMIN = ("admin",)
NAV = [
    ("dashboard.index", _l("目标进度"), ALL),
    ("work.index", _l("我的工作"), ("admin", "officer")),
    ("reminders.deadlines", _l("到期事项"), ALL),
    ("companies.index", _l("企业"), ALL),
    ("visits.index", _l("走访"), ALL),
    ("rounds.index", _l("申报"), ALL),
    ("ladder.pools", _l("培育库"), ALL),
    ("ladder.shortlist_page", _l("申报名单"), ALL),
    ("visits.needs", _l("诉求分析"), ALL),
    ("transfer.upload", _l("导入"), ("officer",)),
    ("admin.index", _l("管理"), ADMIN),
]
# Behind 管理 (admin.index), so the top bar stays short: (endpoint, label, what it is for).
ADMIN_PAGES = [
    ("transfer.upload", _l("导入"), _l("导入企业、资质和年度数据台账")),
    ("targets.index", _l("目标设置"), _l("按年度、指标和区域设置目标")),
    ("work.team", _l("团队概况"), _l("各干部、各区县的跟进和走访情况")),
    ("reminders.admin", _l("提醒邮件"), _l("定时任务运行情况、发件箱、测试邮件")),
    ("users.index", _l("用户"), _l("账号、角色和负责区域")),
    ("admin.settings", _l("规则参数"), _l("瞪羚认定参数、提醒提前天数、走访超期天数")),
    ("admin.log", _l("操作日志"), _l("谁在何时新建、修改、删除或导出了什么")),
]


def admin_items() -> list[tuple[str, str, str]]:
    endpoints = current_app.view_functions
    return [item for item in ADMIN_PAGES if item[0] in endpoints]


def nav_items() -> list[tuple[str, str, bool]]:
    """(endpoint, label, active) for the entries the current user may open in this app.

    An entry is active on its own page, 管理 on the pages listed behind it, and otherwise an entry on any page of
    its blueprint that no other entry claims.
    """
    endpoints = current_app.view_functions
    items = [(e, label) for e, label, roles in NAV if current_user.role in roles and e in endpoints]
    here = request.endpoint or ""
    claimed = {e for e, _ in items}
    blueprint = here.split(".")[0]
    owners = [e for e, _ in items if e.split(".")[0] == blueprint]
    if here in claimed:
        active = here
    elif "admin.index" in claimed and here in {e for e, *_ in ADMIN_PAGES}:
        active = "admin.index"
    else:
        active = owners[0] if len(owners) == 1 else None
    return [(e, label, e == active) for e, label in items]


def url_template(endpoint: str, key: str) -> Callable[[int], str]:
    """url_for(endpoint, key=id) for every row of a long list: the URL is built once, each row fills in its id.

    A board of hundreds of cards otherwise spends more time in werkzeug's URL building than in its query.
    """
    marker = 987654321
    head, _, tail = url_for(endpoint, **{key: marker}).partition(str(marker))
    return lambda id_: f"{head}{id_}{tail}"


def page_url(endpoint: str, page: int) -> str:
    """Another page of the list on this page: its filters from the query string, and the page's own path arguments
    (a pool's id) from the path — never from the query string, nor url_for's own arguments (endpoint, _method…)."""
    args = {k: v for k, v in request.args.lists() if not k.startswith("_") and k != "endpoint"}
    if endpoint == request.endpoint:
        args |= request.view_args or {}
    return url_for(endpoint, **(args | {"page": page}))
