"""Rounds (申报批次), their kanban boards and the applications moving across them."""
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from crm import wants_json
from crm.access import admin_required, area_or_404, editor_required, get_company_or_404, usable_areas
from crm.areas import all_areas
from crm.auth.service import safe_next
from crm.clock import today, utcnow
from crm.companies.panels import register_panel
from crm.companies.service import CompanyFilter, company_query
from crm.extensions import db
from crm.i18n import N_, translated
from crm.models import Application, Round
from crm.models.ladder import STAGES
from crm.normalize import url_int
from crm.rounds.forms import MoveForm, OpenApplicationForm, RoundForm
from crm.rounds.service import (
    NEEDS_REASON, STAGE_LABELS, TRANSITIONS, ApplicationError, BoardFilter, RoundError, StaleMove, application_in_scope,
    applying_among, board_columns, board_officers, card_of, company_applications, days_in_stage, move_application,
    open_application, reopen_application, round_status, rounds_open_to, rounds_query, save_round, stage_counts, stage_query,
)

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
ROUND_STATUS_LABELS = {"upcoming": N_("未开始"), "open": N_("申报中"), "closed": N_("已截止")}


def duration(seconds: int | None) -> str:
    """Time spent in a stage, as people say it: 3 天, 5 小时, 不足 1 小时."""
    if seconds is None:
        return ""
    if seconds >= 86400:
        return ngettext("%(num)s 天", "%(num)s 天", seconds // 86400)
    if seconds >= 3600:
        return ngettext("%(num)s 小时", "%(num)s 小时", seconds // 3600)
    return _("不足 1 小时")


TEMPLATE_GLOBALS = {
    "STAGE_LABELS": translated(STAGE_LABELS), "TRANSITIONS": TRANSITIONS, "NEEDS_REASON": NEEDS_REASON,
    "ROUND_STATUS_LABELS": translated(ROUND_STATUS_LABELS), "days_in_stage": days_in_stage,
    "round_status": round_status,
}
for name, value in TEMPLATE_GLOBALS.items():  # also used by the company-page panel, outside this blueprint
    bp.add_app_template_global(value, name)
bp.add_app_template_filter(duration, "duration")


# ---- rounds -------------------------------------------------------------------------------------------

@bp.route("/")
def index():
    page = db.paginate(rounds_query(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    counts = stage_counts(current_user, [r.id for r in page.items])
    return render_template("rounds/index.html", page=page, counts=counts, on=today(), stages=STAGES)


def _save(round_: Round, form: RoundForm):
    try:
        save_round(round_, form.kind.data, form.year.data, form.name.data, form.opens_on.data, form.closes_on.data)
    except RoundError as exc:
        db.session.rollback()
        form.kind.errors.append(str(exc))
        return None
    db.session.commit()
    flash(_("已保存批次“%(name)s”。", name=round_.name), "success")
    return redirect(url_for("rounds.board", round_id=round_.id))


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = RoundForm()
    if request.method == "GET":  # a link may ask for next year's round of a kind (?year=2027&kind=tech_sme)
        asked = url_int(request.args.get("year"))
        form.year.data = asked if asked and 2000 <= asked <= 2100 else today().year
        if request.args.get("kind") in dict(form.kind.choices):
            form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        done = _save(Round(), form)
        if done:
            return done
    return render_template("rounds/form.html", form=form, round=None), 200 if request.method == "GET" else 422


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = RoundForm(obj=round_)
    if form.validate_on_submit():
        done = _save(round_, form)
        if done:
            return done
    return render_template("rounds/form.html", form=form, round=round_), 200 if request.method == "GET" else 422


# ---- the board ----------------------------------------------------------------------------------------

def _board_filter() -> BoardFilter:
    return BoardFilter(area_id=area_or_404(url_int(request.args.get("area"))),
                       officer_id=url_int(request.args.get("officer")))


@bp.route("/<int:round_id>")
def board(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    f = _board_filter()
    return render_template(
        "rounds/board.html", round=round_, f=f, columns=board_columns(current_user, round_.id, f),
        areas=usable_areas(current_user, all_areas()), officers=board_officers(round_.id, current_user), now=utcnow(),
        on=today(),
        back=request.full_path.rstrip("?"),
    )


@bp.route("/<int:round_id>/stages/<stage>")
def stage(round_id: int, stage: str):
    """One board column in full, paged, for rounds too large for the board's cap."""
    round_ = db.get_or_404(Round, round_id)
    if stage not in STAGES:
        abort(404)
    f = _board_filter()
    page = db.paginate(stage_query(current_user, round_.id, stage, f), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("rounds/stage.html", round=round_, stage=stage, page=page, cards=map(card_of, page.items),
                           f=f, now=utcnow(), back=request.full_path.rstrip("?"))


# ---- applications -------------------------------------------------------------------------------------

@bp.route("/<int:round_id>/applications/new")
@editor_required
def new_application(round_id: int):
    """Find a company (within the user's areas) to open an application for in this round."""
    round_ = db.get_or_404(Round, round_id)
    q = request.args.get("q", "").strip()[:100]
    companies, busy = [], set()
    if q:
        companies = list(db.session.scalars(company_query(current_user, CompanyFilter(q=q), today()).limit(20)))
        busy = applying_among([c.id for c in companies], round_.kind, round_.year)
    return render_template("rounds/new_application.html", round=round_, q=q, companies=companies, busy=busy)


@bp.route("/applications", methods=["POST"])
@editor_required
def open_application_view():
    form = OpenApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    company = get_company_or_404(form.company_id.data)
    round_ = db.get_or_404(Round, form.round_id.data)
    if _committed(lambda: open_application(company, round_, by=current_user, now=utcnow(), on=today())):
        flash(_("已为“%(company)s”新建“%(round)s”申报。", company=company.name, round=round_.name), "success")
    return redirect(safe_next(form.next.data) or url_for("rounds.board", round_id=round_.id))


def _application_or_404(application_id: int) -> Application:
    """The application, if the reader may see its company; else 404 as for any object outside their areas."""
    application = application_in_scope(current_user, application_id)
    if application is None:
        abort(404)
    return application


def _committed(work: Callable[[], object]) -> bool:
    """Do `work` and commit; an ApplicationError is rolled back and said on the next page."""
    try:
        work()
        db.session.commit()
    except ApplicationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    return True


@bp.route("/applications/<int:application_id>/move", methods=["POST"])
@editor_required
def move(application_id: int):
    """Move a card: JSON for the board's script (card moved in place), a redirect or a form page otherwise."""
    application = _application_or_404(application_id)
    form = MoveForm()
    back = safe_next(form.next.data) or url_for("rounds.board", round_id=application.round_id)
    if not form.validate_on_submit():  # a missing or stale CSRF token never gets here (crm.error_response)
        return _move_failed(application, form, next(iter(form.errors.values()))[0], 422)
    try:
        move_application(
            application, form.to.data, by=current_user, now=utcnow(), on=today(), reason=form.reason.data,
            number=form.number.data, issued_on=form.issued_on.data, expected_from=form.expected.data or None,
        )
        db.session.commit()
    except ApplicationError as exc:
        db.session.rollback()
        return _move_failed(application, form, str(exc), 409 if isinstance(exc, StaleMove) else 422)
    if wants_json():
        card = render_template("rounds/_card.html", app=card_of(application), now=utcnow(), back=back)
        return jsonify(ok=True, id=application.id, stage=application.stage, card=card)
    flash(_("已将“%(company)s”移到“%(stage)s”。", company=application.company.name,
            stage=_(STAGE_LABELS[application.stage])), "success")
    return redirect(back)


@bp.route("/applications/<int:application_id>/reopen", methods=["POST"])
@admin_required
def reopen(application_id: int):
    """An admin takes back a result recorded by mistake (crm.rounds.service.reopen_application)."""
    application = _application_or_404(application_id)
    if _committed(lambda: reopen_application(application, by=current_user, now=utcnow())):
        flash(_("已撤回“%(company)s”的申报结果，申报回到“%(stage)s”。", company=application.company.name,
                stage=_(STAGE_LABELS[application.stage])), "success")
    return redirect(url_for("companies.show", company_id=application.company_id) + "#applications")


def _move_failed(application: Application, form: MoveForm, error: str, status: int):
    if wants_json():
        return jsonify(ok=False, error=error), status
    form.expected.data = application.stage
    form.next.data = safe_next(form.next.data) or url_for("rounds.board", round_id=application.round_id)
    return render_template("rounds/move.html", app=application, form=form, error=error, back=form.next.data), status


# ---- the company page panel ---------------------------------------------------------------------------

def _company_panel(company, on) -> dict:
    applications = company_applications(company.id)
    return {
        "applications": applications, "now": utcnow(),
        "rounds": rounds_open_to(company, applications, on) if current_user.can_edit else [],
    }


register_panel(order=30, template="rounds/_company_panel.html", context=_company_panel)
