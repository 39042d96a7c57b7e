"""Roles and area scoping, enforced on the server for every object and every list."""
from functools import wraps
from typing import Any

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import or_

from crm.extensions import db
from crm.models import Area, Company, User


def area_ids(user: User) -> list[int] | None:
    """The areas a user is limited to, or None when unrestricted (admins, or no areas given)."""
    if user.is_admin or not user.areas:
        return None
    return [a.id for a in user.areas]


def company_scope(user: User) -> Any:
    """A WHERE condition on Company limiting it to the user's areas (district or park)."""
    ids = area_ids(user)
    if ids is None:
        return Company.id.isnot(None)
    return or_(Company.district_id.in_(ids), Company.park_id.in_(ids))


def can_see(user: User, company: Company) -> bool:
    ids = area_ids(user)
    return ids is None or company.district_id in ids or company.park_id in ids


def usable_areas(user: User, areas: list[Area]) -> list[Area]:
    """Of `areas`, those a list kept to the user's areas can still be narrowed to: every one for an unrestricted
    user; else their own, and those of the other kind, which may share companies with them (a park reaches into
    districts, a district holds part of a park)."""
    if area_ids(user) is None:
        return areas
    own, kinds = {a.id for a in user.areas}, {a.kind for a in user.areas}
    return [a for a in areas if a.id in own or kinds - {a.kind}]


def area_or_404(area_id: int | None, *, own_only: bool = False) -> int | None:
    """An area filter the current user may apply (`usable_areas`, or their own areas only for a list that is not
    otherwise kept to them): any other is a 404, as a company outside their areas is."""
    if area_id is None or area_ids(current_user) is None:
        return area_id
    area = db.session.get(Area, area_id)
    if area is None or area not in (current_user.areas if own_only else usable_areas(current_user, [area])):
        abort(404)
    return area_id


def get_company_or_404(company_id: int) -> Company:
    """A company the current user may see; anything else is a 404, never a hint that it exists."""
    company = db.session.get(Company, company_id)
    if company is None or not can_see(current_user, company):
        abort(404)
    return company


def roles_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


editor_required = roles_required("admin", "officer")
admin_required = roles_required("admin")


def admin_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every view is for admins only."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(admin_required(lambda: None))
    return bp
