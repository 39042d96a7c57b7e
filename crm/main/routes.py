from flask import Blueprint, redirect, url_for
from sqlalchemy import text

from crm.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return redirect(url_for("companies.index"))


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}, 200
    except Exception:  # noqa: BLE001 — any database failure means unhealthy
        db.session.rollback()
        return {"status": "database unavailable"}, 503
