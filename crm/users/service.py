"""User accounts: one place for creating and changing them (web and CLI)."""
from sqlalchemy import select

from crm.areas import resolve_area
from crm.extensions import db
from crm.models import User
from crm.models.user import ROLES


class UserError(ValueError):
    pass


def create_user(username: str, role: str, email: str, password: str, area_keys: list[str] = (),
                display_name: str = "") -> User:
    username = username.strip()
    if role not in ROLES:
        raise UserError(f"角色必须是 {'、'.join(ROLES)} 之一")
    if not username:
        raise UserError("用户名不能为空")
    if len(password) < 8:
        raise UserError("密码至少 8 位")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"用户名 {username} 已存在")
    user = User(username=username, role=role, email=email.strip(), display_name=display_name, session_version=0)
    user.set_password(password)
    user.areas = resolve_areas(area_keys)
    db.session.add(user)
    return user


def resolve_areas(keys) -> list:
    areas = []
    for key in keys:
        area = resolve_area(key)
        if area is None:
            raise UserError(f"未知区域：{key}（区县代码或园区名称）")
        areas.append(area)
    return areas


def deactivate(user: User) -> None:
    user.active = False
    user.session_version += 1  # ends every session of this user at their next request
