from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from crm.access import admin_required, area_or_404, company_scope, editor_required, get_company_or_404, usable_areas
from crm.admin.service import save_setting
from crm.areas import all_areas
from crm.audit import record_export
from crm.auth.service import safe_next
from crm.changes import described
from crm.clock import today
from crm.companies.panels import register_panel
from crm.companies.service import CompanyFilter, company_query
from crm.downloads import attachment
from crm.extensions import db
from crm.i18n import translated
from crm.models import AuditLog, Company, FollowUp, FollowUpEvent, NeedCategory, User, Visit
from crm.models.area import DISTRICT, PARK
from crm.normalize import InvalidValue, parse_date, url_int
from crm.rounds.service import STAGE_LABELS
from crm.settings import get_setting
from crm.transfer.spreadsheet import table_bytes
from crm.visits import timeline
from crm.visits.forms import (CategoryForm, DoneForm, FollowUpForm, ReassignForm, RescheduleForm, StalenessForm,
                              VisitCorrectionForm, VisitForm)
from crm.visits.service import (ANY_NEED, FOLLOW_UP_COLUMNS, KIND_LABELS, LEDGER_COLUMNS, VISIT_DETAILS, CategoryError,
                                FollowUpError, VisitConflict, VisitFilter, active_categories, add_category,
                                add_follow_up, complete, correct_visit, editors_for, follow_up_row, is_overdue, ledger,
                                log_visit, may_correct, move_category, needs_matrix, overdue_clause, reassign,
                                reschedule, update_category, visit_fingerprint, visit_query, withdraw_visit)

bp = Blueprint("visits", __name__, url_prefix="/visits")
DEFAULT_DUE_DAYS = 7  # a new follow-up row proposes a due date a week after the visit


@bp.app_template_global()
def follow_up_overdue(follow_up: FollowUp) -> bool:
    return is_overdue(follow_up, today())


@bp.app_context_processor
def visit_labels():
    return {"VISIT_KIND_LABELS": KIND_LABELS}


# --- logging a visit ------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@editor_required
def new():
    company_id = url_int(request.args.get("company"))
    if company_id is None:
        return pick_company()
    company = get_company_or_404(company_id)
    officers = editors_for(company)
    form = VisitForm()
    form.set_choices(officers, active_categories())
    form.founded_on = company.founded_on
    draft_key = f"visit-{current_user.id}-{company.id}"  # where the phone keeps what is typed here (drafts.js)
    if request.method == "GET":
        form.visited_on.data = today()
        form.officer_ids.data = [current_user.id]
        form.company_people.data = company.contact_name
        for row in form.follow_ups:
            row.form.owner_id.data = current_user.id
            row.form.due_on.data = today() + timedelta(days=DEFAULT_DUE_DAYS)
    elif form.validate_on_submit():
        draft = form.draft(company.id)
        _visit, recorded = log_visit(draft, current_user)
        if not recorded:
            flash(_("这次走访刚才已经记录，重复提交的未再保存。"), "success")
        elif draft.follow_ups:
            flash(ngettext("已记录走访，含 %(num)s 项跟进。", "已记录走访，含 %(num)s 项跟进。", len(draft.follow_ups)), "success")
        else:
            flash(_("已记录走访。"), "success")
        flash(draft_key, "draft-saved")
        return redirect(url_for("companies.show", company_id=company.id))  # the confirmation shows at the top
    return render_template("visits/new.html", form=form, company=company, draft_key=draft_key), \
        200 if request.method == "GET" else 422


def pick_company():
    """Which company? Mine first, then the rest the user may see, by name."""
    q = request.args.get("q", "").strip()[:100]
    stmt = company_query(current_user, CompanyFilter(q=q), today()).order_by(None).order_by(
        case((Company.officer_id == current_user.id, 0), else_=1), Company.name_sort, Company.id)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("visits/pick_company.html", page=page, q=q)


def _visit_or_404(visit_id: int, deleted_is_said: bool = False) -> Visit:
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id).options(*VISIT_DETAILS))
    if visit is None:
        _deleted_already(visit_id) if deleted_is_said else abort(404)
    get_company_or_404(visit.company_id)
    return visit


@bp.route("/<int:visit_id>")
def show(visit_id: int):
    visit = _visit_or_404(visit_id)
    corrections = db.session.scalars(select(AuditLog).where(
        AuditLog.company_id == visit.company_id, AuditLog.entity == "visit", AuditLog.entity_id == visit.id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).options(joinedload(AuditLog.user))).all()
    return render_template("visits/show.html", visit=visit, may_correct=may_correct(visit, current_user),
                           corrections=list(zip(corrections, described(c.changes for c in corrections))))


def _deleted_already(visit_id: int) -> None:
    """A correction or a delete sent for a visit deleted meanwhile (by a colleague, or by a first tap): said with
    who deleted it, on its company's page; a visit never there is a 404."""
    gone = db.session.scalar(select(AuditLog).where(AuditLog.entity == "visit", AuditLog.entity_id == visit_id,
                                                    AuditLog.action == "delete"))
    if gone is None or request.method != "POST":
        abort(404)
    get_company_or_404(gone.company_id)
    who = gone.user.label if gone.user else _("其他用户")
    flash(_("这条走访记录已被 %(who)s 删除，刚才的修改没有保存。", who=who) if request.endpoint == "visits.edit"
          else _("这条走访记录已被 %(who)s 删除。", who=who), "error")
    abort(redirect(url_for("companies.show", company_id=gone.company_id)))


def _correctable_or_403(visit_id: int) -> Visit:
    visit = _visit_or_404(visit_id, deleted_is_said=True)
    if not may_correct(visit, current_user):
        abort(403)
    return visit


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(visit_id: int):
    """Correct a saved visit (a typo, the wrong day or kind, someone left out); the change is in the audit trail."""
    visit = _correctable_or_403(visit_id)
    form = VisitCorrectionForm(data={
        "visited_on": visit.visited_on, "kind": visit.kind, "summary": visit.summary,
        "need_ids": [n.id for n in visit.needs], "needs_detail": visit.needs_detail,
        "officer_ids": [u.id for u in visit.officers], "company_people": visit.company_people,
        "loaded": visit_fingerprint(visit)})
    # Who took part and what was raised stay choosable when since deactivated or retired from the lists.
    officers, categories = editors_for(visit.company), active_categories()
    form.set_choices(officers + [u for u in visit.officers if u not in officers],
                     categories + [n for n in visit.needs if n not in categories])
    form.founded_on = visit.company.founded_on
    form.first_due = min((f.due_on for f in visit.follow_ups), default=None)
    conflicted, conflict = False, None
    if form.validate_on_submit():
        try:
            changes = correct_visit(visit.id, form.draft(visit.company_id), form.loaded.data, current_user)
            flash(_("已保存对走访记录的修改。") if changes else _("走访记录没有变化。"), "success")
            return redirect(url_for("visits.show", visit_id=visit.id))
        except VisitConflict as exc:
            conflicted, conflict = True, exc.latest
            form.loaded.data = visit_fingerprint(visit)  # resubmitting now overwrites, knowingly
        except LookupError:  # deleted between reading it and saving
            _deleted_already(visit.id)
    status = 200 if request.method == "GET" else (409 if conflicted else 422)
    lines = described([conflict.changes])[0] if conflict else ()
    return render_template("visits/edit.html", form=form, visit=visit, conflicted=conflicted, conflict=conflict,
                           conflict_lines=lines), status


@bp.route("/<int:visit_id>/delete", methods=["POST"])
@editor_required
def delete(visit_id: int):
    visit = _correctable_or_403(visit_id)
    company_id = visit.company_id
    kept = withdraw_visit(visit.id, company_id, current_user)
    if kept is None:  # deleted by someone else a moment ago
        _deleted_already(visit.id)
    if kept:
        flash(ngettext("已删除走访记录；它的 %(num)s 项跟进事项仍在企业名下，可分别完成或改派。",
                       "已删除走访记录；它的 %(num)s 项跟进事项仍在企业名下，可分别完成或改派。", kept), "success")
    else:
        flash(_("已删除走访记录。"), "success")
    return redirect(url_for("companies.show", company_id=company_id))


# --- lists, ledger export, needs analysis ---------------------------------------------------------

def _date_arg(args, name: str, say: bool) -> date | None:
    try:
        return parse_date(args.get(name, ""))
    except InvalidValue:
        if say:
            flash(_("无法识别的日期：%(v)s", v=args.get(name)), "error")
        return None


FILTER_ARGS = ("from", "to", "area", "officer", "kind", "need", "company")


def _company_arg(args) -> int | None:
    """The company a list is filtered on; one outside the user's areas is a 404."""
    company_id = url_int(args.get("company"))
    return get_company_or_404(company_id).id if company_id else None


def visit_filter(args, say_unread_dates: bool = True) -> VisitFilter:
    need = args.get("need", "")
    return VisitFilter(
        start=_date_arg(args, "from", say_unread_dates), end=_date_arg(args, "to", say_unread_dates),
        area_id=area_or_404(url_int(args.get("area"))),
        officer_id=url_int(args.get("officer")), kind=args.get("kind") if args.get("kind") in KIND_LABELS else None,
        need=ANY_NEED if need == ANY_NEED else url_int(need),
        company_id=_company_arg(args),
    )


def _officers() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role.in_(("admin", "officer")))
                                   .order_by(User.display_name, User.username)))


def _filter_choices() -> dict:
    return {
        "districts": usable_areas(current_user, all_areas(DISTRICT)),
        "parks": usable_areas(current_user, all_areas(PARK)), "officers": _officers(),
        "categories": db.session.scalars(select(NeedCategory).order_by(NeedCategory.sort, NeedCategory.id)).all(),
    }


@bp.route("/")
def index():
    f = visit_filter(request.args)
    page = db.paginate(visit_query(f, current_user).options(*VISIT_DETAILS),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    company = get_company_or_404(f.company_id) if f.company_id else None
    kept = {k: v for k, v in request.args.items() if k in FILTER_ARGS and k not in ("from", "to")}
    periods = [(label, url_for("visits.index", **kept, **{"from": start.isoformat(), "to": end.isoformat()}),
                (f.start, f.end) == (start, end)) for label, start, end in _periods(today())]
    return render_template("visits/index.html", page=page, f=f, company=company, periods=periods, **_filter_choices())


def _periods(on: date) -> list[tuple[str, date, date]]:
    """The periods a ledger is asked for most: this month, last month, this year (to today)."""
    first = on.replace(day=1)
    last_month_ends = first - timedelta(days=1)
    return [(_("本月"), first, on), (_("上月"), last_month_ends.replace(day=1), last_month_ends),
            (_("今年"), date(on.year, 1, 1), on)]


@bp.route("/export", methods=["POST"])
def export():
    """The 走访台账 for the filters on the visit list, limited to the user's areas. A period it cannot read, or one
    ending before it starts, goes back to the list with the reason rather than into a file of the wrong visits."""
    f = visit_filter(request.form, say_unread_dates=False)  # the list, where it goes back to, says it
    unread = any((request.form.get(n) or "").strip() and d is None for n, d in (("from", f.start), ("to", f.end)))
    if unread or (f.start and f.end and f.start > f.end):
        if not unread:
            flash(_("开始日期 %(start)s 晚于结束日期 %(end)s", start=f.start.isoformat(), end=f.end.isoformat()), "error")
        return redirect(url_for("visits.index", **{k: v for k, v in request.form.items() if k in FILTER_ARGS}))
    fmt = "csv" if request.form.get("format") == "csv" else "xlsx"
    rows = ledger(f, today(), current_user)
    data, mime = table_bytes(fmt, LEDGER_COLUMNS, rows, title="走访台账")
    record_export("visits", fmt, len(rows), vars(f))
    db.session.commit()
    span = "_".join(d.isoformat() for d in (f.start, f.end) if d) or today().isoformat()
    return attachment(data, mime, f"走访台账_{span}.{fmt}", f"visits_{span}.{fmt}")


@bp.route("/needs")
def needs():
    """诉求分析: visits raising each need, by category × district, over a period (this year by default)."""
    on = today()
    f = visit_filter(request.args)
    if "from" not in request.args and "to" not in request.args:
        f.start, f.end = date(on.year, 1, 1), on
    # Each number links to its visits: the period and the other filters the counts were made with go along.
    kept = {"from": f.start and f.start.isoformat(), "to": f.end and f.end.isoformat(), "officer": f.officer_id,
            "kind": f.kind, "company": f.company_id}
    return render_template("visits/needs.html", m=needs_matrix(f, current_user), f=f,
                           kept={k: v for k, v in kept.items() if v})


# --- follow-ups -----------------------------------------------------------------------------------

FOLLOW_UP_STATUSES = ("open", "overdue", "done", "all")


@bp.route("/follow-ups/new", methods=["GET", "POST"])
@editor_required
def follow_up_new():
    """A follow-up for a company without logging a visit (a call, a task from the section head)."""
    company = get_company_or_404(url_int(request.args.get("company")) or 0)
    form = FollowUpForm()
    form.owner_id.choices = [(u.id, u.label) for u in editors_for(company)]
    if request.method == "GET":
        owners = {value for value, _label in form.owner_id.choices}
        form.owner_id.data = current_user.id if current_user.id in owners else company.officer_id
        form.due_on.data = today() + timedelta(days=DEFAULT_DUE_DAYS)
    elif form.validate_on_submit():
        _follow_up, recorded = add_follow_up(company.id, form.draft(), current_user)
        flash(_("已添加跟进事项。") if recorded else _("这项跟进刚才已经添加，重复提交的未再保存。"), "success")
        return redirect(url_for("companies.show", company_id=company.id))
    return render_template("visits/follow_up_new.html", form=form, company=company), \
        200 if request.method == "GET" else 422


def _follow_up_query(on: date) -> tuple[Select, str, str, int | None]:
    """The follow-ups the list's filters choose, within the user's areas: (query, status, owner, company id)."""
    status = request.args.get("status") if request.args.get("status") in FOLLOW_UP_STATUSES else "open"
    owner = request.args.get("owner", "me" if current_user.can_edit and not current_user.is_admin else "")
    stmt = (select(FollowUp).join(FollowUp.company).where(company_scope(current_user))
            .options(contains_eager(FollowUp.company), joinedload(FollowUp.owner)))
    if owner == "me":
        stmt = stmt.where(FollowUp.owner_id == current_user.id)
    elif url_int(owner) is not None:
        stmt = stmt.where(FollowUp.owner_id == url_int(owner))
    company_id = _company_arg(request.args)
    if company_id:
        stmt = stmt.where(FollowUp.company_id == company_id)
    if status == "open":
        stmt = stmt.where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_on, FollowUp.id)
    elif status == "overdue":
        stmt = stmt.where(overdue_clause(on)).order_by(FollowUp.due_on, FollowUp.id)
    elif status == "done":
        stmt = stmt.where(FollowUp.done_at.is_not(None)).order_by(FollowUp.done_at.desc(), FollowUp.id.desc())
    else:
        stmt = stmt.order_by(FollowUp.due_on.desc(), FollowUp.id.desc())
    return stmt, status, owner, company_id


@bp.route("/follow-ups/")
def follow_ups():
    stmt, status, owner, company_id = _follow_up_query(today())
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    # What the export takes; an owner chosen as nobody in particular ("") too, or the export falls back to "me".
    chosen = {"status": status, "owner": owner, "company": company_id}
    return render_template("visits/follow_ups.html", page=page, status=status, owner=owner, officers=_officers(),
                           chosen={k: v for k, v in chosen.items() if v or k == "owner"})


@bp.route("/follow-ups/export")
def follow_ups_export():
    """The 跟进事项台账 of the list's filters, as .xlsx or .csv: follow-ups with a visit or without."""
    on = today()
    stmt, status, owner, company_id = _follow_up_query(on)
    follow_ups = db.session.scalars(stmt.options(joinedload(FollowUp.visit).load_only(Visit.visited_on))
                                    .options(contains_eager(FollowUp.company).joinedload(Company.district)))
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    rows = [follow_up_row(f, on) for f in follow_ups]
    data, mime = table_bytes(fmt, FOLLOW_UP_COLUMNS, rows, title="跟进事项台账")
    owner_id = current_user.id if owner == "me" else url_int(owner)
    record_export("follow_ups", fmt, len(rows), {"state": status, "owner_id": owner_id, "company_id": company_id})
    db.session.commit()  # the download is in the 操作日志, like every export
    return attachment(data, mime, f"跟进事项台账_{on.isoformat()}.{fmt}", f"follow-ups_{on.isoformat()}.{fmt}")


def _follow_up_or_404(follow_up_id: int) -> FollowUp:
    follow_up = db.session.get(FollowUp, follow_up_id, options=[selectinload(FollowUp.events).joinedload(FollowUpEvent.by)])
    if follow_up is None:
        abort(404)
    get_company_or_404(follow_up.company_id)
    return follow_up


def _follow_up_page(follow_up: FollowUp, done=None, owner=None, due=None, status: int = 200):
    owner = owner or ReassignForm()
    owner.owner_id.choices = [(u.id, u.label) for u in editors_for(follow_up.company)]
    if owner.owner_id.data is None:
        owner.owner_id.data = follow_up.owner_id
    return render_template(
        "visits/follow_up.html", follow_up=follow_up, done_form=done or DoneForm(), owner_form=owner,
        due_form=due or RescheduleForm(due_on=follow_up.due_on),
    ), status


@bp.route("/follow-ups/<int:follow_up_id>")
def follow_up(follow_up_id: int):
    return _follow_up_page(_follow_up_or_404(follow_up_id))


def _changed(follow_up: FollowUp, message: str):
    flash(message, "success")
    return redirect(safe_next(request.form.get("next")) or url_for("visits.follow_up", follow_up_id=follow_up.id))


def _apply(follow_up: FollowUp, form, field: str, change, message):
    """Validate `form`, apply `change` (a service function raising FollowUpError), commit once, and redirect;
    or show the follow-up page again with the error at `field`."""
    if form.validate_on_submit():
        try:
            change()
            db.session.commit()
            return _changed(follow_up, message())
        except FollowUpError as exc:
            getattr(form, field).errors.append(str(exc))
            if follow_up.done_at is not None:  # a done follow-up's page has no forms to show the reason beside
                flash(str(exc), "error")
    kind = {"note": "done", "owner_id": "owner", "due_on": "due"}[field]
    return _follow_up_page(follow_up, status=422, **{kind: form})


@bp.route("/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@editor_required
def follow_up_done(follow_up_id: int):
    follow_up = _follow_up_or_404(follow_up_id)
    form = DoneForm()
    return _apply(follow_up, form, "note", lambda: complete(follow_up, current_user, form.note.data or ""),
                  lambda: _("已标记完成：%(t)s", t=follow_up.title))


@bp.route("/follow-ups/<int:follow_up_id>/owner", methods=["POST"])
@editor_required
def follow_up_owner(follow_up_id: int):
    follow_up = _follow_up_or_404(follow_up_id)
    form = ReassignForm()
    form.owner_id.choices = [(u.id, u.label) for u in editors_for(follow_up.company)]
    return _apply(follow_up, form, "owner_id",
                  lambda: reassign(follow_up, current_user, db.session.get(User, form.owner_id.data)),
                  lambda: _("已改派给 %(n)s。", n=follow_up.owner.label))


@bp.route("/follow-ups/<int:follow_up_id>/due", methods=["POST"])
@editor_required
def follow_up_due(follow_up_id: int):
    follow_up = _follow_up_or_404(follow_up_id)
    form = RescheduleForm()
    return _apply(follow_up, form, "due_on",
                  lambda: reschedule(follow_up, current_user, form.due_on.data, form.reason.data or ""),
                  lambda: _("期限已改为 %(d)s。", d=follow_up.due_on.isoformat()))


# --- settings (admin) -----------------------------------------------------------------------------

def _settings_page(add_form=None, staleness_form=None, status: int = 200):
    if staleness_form is None:
        staleness_form = StalenessForm(prefix="stale", data=get_setting("visit_staleness"))
    categories = db.session.scalars(select(NeedCategory).order_by(NeedCategory.sort, NeedCategory.id)).all()
    return render_template("visits/settings.html", categories=categories, add_form=add_form or CategoryForm(prefix="add"),
                           staleness_form=staleness_form), status


@bp.route("/settings")
@admin_required
def settings():
    return _settings_page()


@bp.route("/settings/categories", methods=["POST"])
@admin_required
def category_add():
    form = CategoryForm(prefix="add")
    if form.validate_on_submit():
        try:
            category = add_category(form.name.data)
            db.session.commit()
            flash(_("已添加诉求类别“%(n)s”。", n=category.name), "success")
            return redirect(url_for("visits.settings"))
        except CategoryError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
    return _settings_page(add_form=form, status=422)


@bp.route("/settings/categories/<int:category_id>", methods=["POST"])
@admin_required
def category_edit(category_id: int):
    category = db.get_or_404(NeedCategory, category_id)
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            update_category(category, form.name.data, form.active.data)
            db.session.commit()
            flash(_("已保存。"), "success")
        except CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    else:
        flash("；".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("visits.settings"))


@bp.route("/settings/categories/<int:category_id>/move", methods=["POST"])
@admin_required
def category_move(category_id: int):
    move_category(db.get_or_404(NeedCategory, category_id), -1 if request.form.get("step") == "up" else 1)
    db.session.commit()
    return redirect(url_for("visits.settings"))


@bp.route("/settings/staleness", methods=["POST"])
@admin_required
def staleness_save():
    form = StalenessForm(prefix="stale")
    if form.validate_on_submit():
        save_setting("visit_staleness", form.value())
        db.session.commit()
        flash(_("已保存走访超期天数。"), "success")
        return redirect(url_for("visits.settings"))
    return _settings_page(staleness_form=form, status=422)


# --- company-page panels --------------------------------------------------------------------------

# Built once, run with parameters: SQLAlchemy would build and hash it again on every page view.
LAST_VISIT = select(func.max(Visit.visited_on)).where(Visit.company_id == bindparam("company_id"))
OPEN_FOLLOW_UPS = (select(FollowUp).where(FollowUp.company_id == bindparam("company_id"), FollowUp.done_at.is_(None))
                   .order_by(FollowUp.due_on, FollowUp.id).options(joinedload(FollowUp.owner)))


def _company_visits_panel(company: Company, on: date) -> dict:
    last = db.session.scalar(LAST_VISIT, {"company_id": company.id})
    open_items = db.session.scalars(OPEN_FOLLOW_UPS, {"company_id": company.id}).all()
    return {"last_visit": last, "days_since": (on - last).days if last else None, "open_follow_ups": open_items}


def _timeline_panel(company: Company, on: date) -> dict:
    kind = request.args.get("tl") if request.args.get("tl") in timeline.KINDS else None
    page = max(url_int(request.args.get("tl_page")) or 1, 1)
    entries, more = timeline.company_timeline(company, kind, page)
    return {"position": "bottom", "entries": entries, "more": more, "kind": kind, "page": page,
            "kinds": timeline.KINDS, "stages": translated(STAGE_LABELS)}


register_panel(order=20, template="visits/_company_panel.html", context=_company_visits_panel)
register_panel(order=80, template="visits/_timeline_panel.html", context=_timeline_panel)
