"""User accounts: one place for creating and changing them (web and CLI)."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm.access import company_scope
from crm.areas import resolve_area
from crm.audit import record
from crm.extensions import db
from crm.fields import EMAIL
from crm.locks import hold
from crm.models import Company, User
from crm.models.user import ADMIN, ROLES


class UserError(ValueError):
    pass


def create_user(username: str, role: str, email: str, password: str, area_keys: list[str] = (),
                display_name: str = "") -> User:
    username = username.strip()
    if role not in ROLES:
        raise UserError(_("角色必须是 %(roles)s 之一", roles="、".join(ROLES)))
    if not username:
        raise UserError(_("用户名不能为空"))
    if any(c.isspace() for c in username):
        raise UserError(_("用户名不能含空格"))
    if len(username) > 64 or len(display_name) > 64 or len(email.strip()) > 254:  # the columns, on every database
        raise UserError(_("用户名和姓名不能超过 64 个字符，邮箱不能超过 254 个字符"))
    if not EMAIL.match(email.strip()):
        raise UserError(_("邮箱格式不正确：%(email)s", email=email))
    if len(password) < 8:
        raise UserError(_("密码至少 8 位"))
    taken = user_named(username)
    if taken:  # Admin and admin would be one person to the import's 包联干部 column and to a reader
        raise UserError(_("用户名 %(name)s 已存在", name=taken.username))
    user = User(username=username, role=role, email=email.strip(), display_name=display_name, session_version=0)
    user.set_password(password)
    user.areas = resolve_areas(area_keys)
    db.session.add(user)
    record_areas(user, [])
    return user


def record_areas(user: User, before: list[str]) -> None:
    """The user's areas in the audit trail when they changed (a collection: the audit listener sees columns only)."""
    after = sorted(a.name for a in user.areas)
    if after != sorted(before):
        db.session.flush()  # a new user's id
        record("user", user.id, None, "update", {"areas": [sorted(before), after]})


def user_named(username: str) -> User | None:
    """The user of that username, however it is capitalised (usernames are unique regardless of case)."""
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def resolve_areas(keys) -> list:
    areas = []
    for key in keys:
        area = resolve_area(key)
        if area is None:
            raise UserError(_("未知区域：%(key)s（区县代码或园区名称）", key=key))
        if area not in areas:  # 511721 and 达川区 name one district
            areas.append(area)
    return areas


def stranded_companies(user: User) -> int:
    """How many companies are still assigned to `user` though they can no longer work on them: all of them once
    deactivated or made a viewer, else those outside their areas (changed since the assignment)."""
    stmt = select(func.count()).select_from(Company).where(Company.officer_id == user.id)
    if user.takes_companies:  # not NOT(scope): a company outside any park would make it NULL, and uncounted
        stmt = stmt.where(Company.id.not_in(select(Company.id).where(company_scope(user))))
    return db.session.scalar(stmt)


def deactivate(user: User) -> None:
    user.active = False
    user.session_version += 1  # ends every session of this user at their next request


def check_change(user: User, role: str, active: bool, by: User) -> None:
    """Refuse what would lock the bureau out of its own Ladder: deactivating oneself, or leaving no active admin
    (there is no command to make one again without the database). Two admins demoting each other at once: the
    active admins are held first, so the second decides on what the first saved."""
    if user.id == by.id and not active:
        raise UserError(_("不能停用自己的账号"))
    if not (user.role == ADMIN and user.active and (role != ADMIN or not active)):
        return
    active_admins = select(User.id).where(User.role == ADMIN, User.active.is_(True))
    hold(active_admins)
    if not db.session.scalar(select(func.count()).select_from(active_admins.where(User.id != user.id).subquery())):
        raise UserError(_("至少需保留一名启用的管理员"))
