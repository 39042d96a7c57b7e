from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, and_, exists, or_, select

from crm.access import admin_required, can_see, company_scope, editor_required, get_company_or_404, usable_areas
from crm.areas import all_areas
from crm.changes import described
from crm.clock import today
from crm.companies.panels import company_page
from crm.companies.forms import CertificationForm, CompanyForm, FiguresForm, tristate
from crm.companies.service import CompanyFilter, EditConflict, assign_officer, check_uscc, claim_company, \
    company_query, first_issued_on, founding_problem, latest_change, save_company
from crm.extensions import db
from crm.ladder.queries import standings_for
from crm.ladder.standing import RUNGS
from crm.models import Certification, Company, CompanyYear, User
from crm.models.area import DISTRICT, PARK
from crm.models.certification import REVOKED, same_certification
from crm.normalize import InvalidValue, normalize_code, url_int

bp = Blueprint("companies", __name__, url_prefix="/companies")


def officer_choices(with_inactive: bool = False) -> list[tuple[int, str]]:
    """Who may be assigned companies; the list filter also offers anyone else still holding some (deactivated, or
    made a viewer), to hand theirs over."""
    return [(u.id, officer_label(u)) for u in _officers(with_inactive)]


def _officers(with_inactive: bool) -> list[User]:
    may = and_(User.role.in_(("admin", "officer")), User.active.is_(True))
    stmt = select(User).order_by(User.active.desc(), User.username)
    return list(db.session.scalars(stmt.where(or_(may, exists().where(Company.officer_id == User.id))
                                              if with_inactive else may)))


def officer_label(user: User) -> str:
    """An officer's name, and why they no longer take companies if they do not."""
    if user.takes_companies:
        return user.label
    return _("%(name)s（已停用）", name=user.label) if not user.active else _("%(name)s（只读用户）", name=user.label)


@bp.route("/")
def index():
    f = CompanyFilter.from_args(request.args)
    on = today()
    page = db.paginate(company_query(current_user, f, on), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    standings = standings_for([c.id for c in page.items], on)
    people = _officers(with_inactive=True)
    ticked = {url_int(i) for i in request.args.get("ticked", "").split(",")}
    return render_template(
        "companies/index.html", page=page, f=f, standings=standings, rungs=RUNGS,
        districts=usable_areas(current_user, all_areas(DISTRICT)), parks=usable_areas(current_user, all_areas(PARK)),
        officers=[(u.id, officer_label(u)) for u in people],
        assignable=[(u.id, u.label) for u in people if u.takes_companies] if current_user.is_admin else None,
        ticked=ticked,
    )


def _company_form(company: Company | None = None) -> CompanyForm:
    form = CompanyForm(obj=company)
    form.district_id.choices = [(a.id, a.name) for a in all_areas(DISTRICT)]
    form.park_id.choices = [(0, _("（无）"))] + [(a.id, a.name) for a in all_areas(PARK)]
    form.officer_id.choices = [(0, _("（未分配）"))] + officer_choices()
    current = company.officer if company is not None else None
    if current is not None and not current.takes_companies:  # kept by an unrelated edit, not silently unassigned
        form.officer_id.choices.append((current.id, officer_label(current)))
    if company is not None and request.method == "GET":
        form.version.data = str(company.version)
        form.park_id.data = company.park_id or 0
        form.officer_id.data = company.officer_id or 0
    return form


def _allowed_areas_ok(form: CompanyForm, company: Company | None) -> bool:
    """An officer limited to areas may only place companies inside them, and only assign them to an officer
    who may open them. An assignment left as it was is not judged again (the officer's areas may have changed
    since: the users page says so), so an unrelated edit still saves — nor one already waiting to be handed over
    when the company moves."""
    probe = Company(district_id=form.district_id.data, park_id=form.park_id.data or None)
    if not can_see(current_user, probe):
        form.district_id.errors.append(_("只能登记您负责区域内的企业"))
        return False
    chosen = form.officer_id.data if not form.officer_id.errors else None  # not one offered: said already
    officer = db.session.get(User, chosen) if chosen else None
    kept = company is not None and officer is not None and officer.id == company.officer_id
    if kept and ((probe.district_id, probe.park_id) == (company.district_id, company.park_id)
                 or not (officer.takes_companies and can_see(officer, company))):
        return True  # the assignment as it was; or one already waiting to be handed over, which a move cannot worsen
    if officer is not None and not can_see(officer, probe):
        form.officer_id.errors.append(_("%(name)s 不负责该企业所在的区县或园区", name=officer.label))
        return False
    return True


def _validated_values(form: CompanyForm, company: Company | None) -> dict | None:
    """The model values of a submitted form, or None with every error (form, area, code) shown at once."""
    if not form.is_submitted():
        return None
    valid = form.validate()
    valid = _allowed_areas_ok(form, company) and valid
    if company is not None and form.founded_on.data != company.founded_on and (  # unchanged: not judged again
            problem := founding_problem(form.founded_on.data, first_issued_on([company.id]).get(company.id))):
        form.founded_on.errors.append(problem.in_readers_language())
        valid = False
    values = _form_values(form, company)
    return values if valid else None


def _text(field) -> str:
    return (field.data or "").strip()


def _form_values(form: CompanyForm, company: Company | None) -> dict | None:
    try:
        code, waived = check_uscc(
            form.uscc.data, allow_bad_check=current_user.is_admin and form.confirm_bad_check.data,
            exclude_id=company.id if company else None,
        )
    except InvalidValue as exc:
        form.uscc.errors.append(exc.in_readers_language())
        return None
    values = {
        "uscc": code, "uscc_check_waived": waived, "name": _text(form.name),
        "district_id": form.district_id.data, "park_id": form.park_id.data or None,
        "industry": _text(form.industry), "founded_on": form.founded_on.data,
        "contact_name": _text(form.contact_name), "contact_phone": _text(form.contact_phone),
        "contact_email": _text(form.contact_email), "officer_id": form.officer_id.data or None,
        "tech_field": form.tech_field.data or None, "notes": form.notes.data or "",
    }
    values.update({name: tristate(getattr(form, name).data) for name in CompanyForm.TRISTATE_FIELDS})
    return values


LIST_ARGS = ("q", "district", "park", "standing", "officer", "sort")  # the list's filter, posted back by bulk actions


def ticked_or_filtered(form) -> tuple[Select | None, bool]:
    """The companies a bulk action on the list works on, and whether it is all its filter finds (`all`) rather
    than those ticked; None when nothing is ticked. A ticked company outside the user's areas is a 404."""
    if form.get("all") == "1":
        return company_query(current_user, CompanyFilter.from_args(form), today()).with_only_columns(Company.id), True
    ids = {i for i in map(url_int, form.getlist("company_ids")) if i}
    if not ids:
        return None, False
    chosen = select(Company.id).where(Company.id.in_(ids), company_scope(current_user))
    if len(db.session.scalars(chosen).all()) != len(ids):
        abort(404)  # not found, never hinted at
    return chosen, False


def back_to_list(form, keep_ticks: bool = False):
    """The company list as it was filtered when the bulk action was sent; with `keep_ticks`, its ticks too (an
    action refused for want of a choice, to be sent again)."""
    args = {k: v for k in LIST_ARGS if (v := form.get(k, "").strip())}
    if keep_ticks and (ids := [i for i in map(url_int, form.getlist("company_ids")) if i]):
        args["ticked"] = ",".join(map(str, ids[:current_app.config["PAGE_SIZE"]]))
    return redirect(url_for("companies.index", **args))


@bp.route("/assign", methods=["POST"])
@admin_required
def assign():
    """分配包联干部: hand the companies ticked on the list, or all its filter finds, to one officer."""
    chosen, _every = ticked_or_filtered(request.form)
    officer = db.session.get(User, url_int(request.form.get("officer_id")) or 0)
    if chosen is None:
        flash(_("请先勾选企业。"), "warning")
    elif officer is None or not officer.takes_companies:
        flash(_("请选择包联干部。"), "warning")
        return back_to_list(request.form, keep_ticks=True)
    else:
        done = assign_officer(chosen, officer)
        db.session.commit()
        flash(_("已将 %(n)s 家企业分配给 %(name)s。", n=done.assigned, name=officer.label), "success")
        if done.already:
            flash(_("%(n)s 家原已由其包联。", n=done.already), "info")
        if done.out_of_reach:
            flash(_("%(n)s 家不在 %(name)s 负责的区域内，未分配：请先在“用户”中调整其负责区域。", n=done.out_of_reach,
                    name=officer.label), "warning")
    return back_to_list(request.form)


@bp.route("/new", methods=["GET", "POST"])
@editor_required
def new():
    form = _company_form()
    if request.method == "GET" and current_user.role == "officer":
        form.officer_id.data = current_user.id
    values = _validated_values(form, None)
    if values is not None:
        try:
            company = save_company(Company(), values, None)
            flash(_("已登记企业 %(name)s。", name=company.name), "success")
            return redirect(url_for("companies.show", company_id=company.id))
        except InvalidValue as exc:
            form.uscc.errors.append(exc.in_readers_language())
    return render_template("companies/form.html", form=form, company=None), 200 if request.method == "GET" else 422


@bp.route("/<int:company_id>")
def show(company_id: int):
    return company_page(get_company_or_404(company_id))


@bp.route("/<int:company_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(company_id: int):
    company = get_company_or_404(company_id)
    form = _company_form(company)
    conflict = None
    values = _validated_values(form, company)
    if values is not None:
        try:
            loaded = url_int(form.version.data)
            save_company(company, values, loaded)
            flash(_("已保存。"), "success")
            return redirect(url_for("companies.show", company_id=company.id))
        except EditConflict as exc:
            conflict = exc.latest
            db.session.refresh(company)
            form.version.data = str(company.version)  # resubmitting now overwrites, knowingly
        except InvalidValue as exc:
            form.uscc.errors.append(exc.in_readers_language())
    status = 200 if request.method == "GET" else (409 if conflict else 422)
    lines = described([conflict.changes])[0] if conflict else ()
    return render_template("companies/form.html", form=form, company=company, conflict=conflict,
                           conflict_lines=lines), status


@bp.route("/<int:company_id>/certifications", methods=["POST"])
@editor_required
def add_certification(company_id: int):
    company = get_company_or_404(company_id)
    form = CertificationForm()
    form.founded_on = company.founded_on
    if form.validate_on_submit():
        claim_company(company.id)  # a double click or two officers at once: the second finds the first's row
        number, year, issued_on = normalize_code(_text(form.number)), form.year.data, form.issued_on.data
        if any(same_certification(c, number, year, issued_on) for c in db.session.scalars(
                select(Certification).where(Certification.company_id == company.id,
                                            Certification.kind == form.kind.data))):
            db.session.rollback()
            form.number.errors.append(_("该企业已登记这一资质（编号或年度相同），不能重复添加"))
        else:
            db.session.add(Certification(company=company, kind=form.kind.data, number=number, year=year,
                                         issued_on=issued_on, expires_on=form.expires_on.data, source="manual"))
            db.session.commit()
            flash(_("已添加资质。"), "success")
            return redirect(url_for("companies.show", company_id=company.id))
    return company_page(company, cert_form=form, unsaved_at="#certifications"), 422


@bp.route("/<int:company_id>/certifications/<int:cert_id>/revoke", methods=["POST"])
@editor_required
def revoke_certification(company_id: int, cert_id: int):
    company = get_company_or_404(company_id)
    cert = db.session.get(Certification, cert_id)
    if cert is None or cert.company_id != company.id:
        abort(404)
    cert.status = REVOKED
    db.session.commit()
    flash(_("资质已标记为撤销。"), "success")
    return redirect(url_for("companies.show", company_id=company.id))


@bp.route("/<int:company_id>/figures", methods=["GET", "POST"])
@editor_required
def figures(company_id: int):
    company = get_company_or_404(company_id)
    year = request.args.get("year", type=int)  # int() reads ２０２５ too
    if year is None or not 2000 <= year <= 2100:
        year = today().year - 1
    row = db.session.scalar(select(CompanyYear).where(CompanyYear.company_id == company.id, CompanyYear.year == year))
    form = FiguresForm(obj=row, year=year)
    if request.method == "GET":
        form.loaded.data = figures_stamp(year, row)
    conflicted, conflict = False, None
    if form.validate_on_submit():
        claim_company(company.id)  # a new year saved twice at once: the second updates the first's row
        row = db.session.scalar(  # as committed now, not as this request first read it
            select(CompanyYear).where(CompanyYear.company_id == company.id, CompanyYear.year == form.year.data)
            .execution_options(populate_existing=True))
        stamp = figures_stamp(form.year.data, row)
        if row is not None and form.loaded.data and form.loaded.data != stamp:  # saved since this page was opened
            db.session.rollback()
            conflicted, conflict = True, latest_change(company.id, "figures", row.id)
            form.loaded.data = stamp  # saving again now overwrites, knowingly
        else:
            row = row or CompanyYear(company_id=company.id, year=form.year.data)
            db.session.add(row)
            for name in CompanyYear.FIGURES:
                setattr(row, name, getattr(form, name).data)
            db.session.commit()
            flash(_("已保存 %(year)s 年度数据。", year=row.year), "success")
            return redirect(url_for("companies.show", company_id=company.id))
    status = 200 if request.method == "GET" else (409 if conflicted else 422)
    return render_template("companies/figures.html", form=form, company=company, conflicted=conflicted,
                           conflict=conflict), status


def figures_stamp(year: int, row: CompanyYear | None) -> str:
    """Which version of a year's figures a form was filled from: the year and when they were last saved."""
    return f"{year}:{row.updated_at.isoformat() if row is not None else ''}"
