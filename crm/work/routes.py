from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from crm.access import admin_required, area_ids
from crm.areas import all_areas
from crm.clock import today
from crm.extensions import db
from crm.models import Area, User
from crm.models.area import DISTRICT
from crm.normalize import url_int
from crm.reminders.deadlines import upcoming_deadlines
from crm.reminders.engine import FOLLOW_UP_DUE
from crm.work.service import UPCOMING_DAYS, WorkScope, open_follow_ups, stale_companies, team_summary

bp = Blueprint("work", __name__, url_prefix="/work")
DEADLINE_DAYS = 60


def _officers() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "officer", User.active.is_(True))
                                   .order_by(User.display_name, User.username)))


def _subject() -> tuple[WorkScope, User | Area | None]:
    """Whose work: my own, or (admins) an officer's or a district's chosen with ?officer= / ?district=."""
    if current_user.is_admin:
        district = db.session.get(Area, url_int(request.args.get("district")) or 0)
        if district is not None and district.kind == DISTRICT:
            return WorkScope(district_id=district.id), district
        officer = db.session.get(User, url_int(request.args.get("officer")) or 0)
        if officer is not None:
            return WorkScope(officer_id=officer.id), officer
    return WorkScope(officer_id=current_user.id), None


@bp.route("")
def index():
    """我的工作: overdue and upcoming follow-ups, deadlines in the next 60 days, companies not visited for too long."""
    on = today()
    scope, subject = _subject()
    overdue, upcoming, later = open_follow_ups(scope, current_user, on)
    stale, stale_total = stale_companies(scope, current_user, on)
    if scope.district_id:
        deadlines = upcoming_deadlines(None, on, DEADLINE_DAYS, area_ids=[scope.district_id])
    else:
        # Only companies the reader may open: an officer can be left assigned to one outside their areas.
        deadlines = upcoming_deadlines(scope.officer_id, on, DEADLINE_DAYS, area_ids=area_ids(current_user))
    # Follow-ups due within UPCOMING_DAYS are in their own lists above; later ones only here.
    deadlines = [d for d in deadlines if d.kind != FOLLOW_UP_DUE or d.due_on > on + timedelta(days=UPCOMING_DAYS)]
    return render_template(
        "work/index.html", on=on, subject=subject, scope=scope, overdue=overdue, upcoming=upcoming, later=later,
        stale=stale, stale_total=stale_total, deadlines=deadlines, deadline_days=DEADLINE_DAYS,
        officers=_officers() if current_user.is_admin else [], districts=all_areas(DISTRICT) if current_user.is_admin else [],
    )


@bp.route("/team")
@admin_required
def team():
    """Every officer's and district's workload side by side, each row opening their My work."""
    officers, districts = team_summary(current_user, today(), _officers(), all_areas(DISTRICT))
    return render_template("work/team.html", officers=officers, districts=districts)
