from flask import Blueprint, current_app, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from crm.extensions import db

bp = Blueprint("main", __name__)
# Each role's home page, falling back to the company list.
HOME = {"officer": "work.index", "admin": "dashboard.index", "viewer": "dashboard.index"}


@bp.route("/")
def index():
    endpoint = HOME.get(current_user.role)
    if endpoint not in current_app.view_functions:
        endpoint = "companies.index"
    return redirect(url_for(endpoint))


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}, 200
    except Exception:  # noqa: BLE001 — any database failure means unhealthy
        db.session.rollback()
        return {"status": "database unavailable"}, 503
