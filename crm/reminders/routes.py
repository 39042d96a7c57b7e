"""Deadlines page, reminder preferences, the admins' outbox page, and the 年报 panel on the company page."""
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from crm import clock, jobs
from crm.access import admin_required, area_ids, area_or_404, editor_required, get_company_or_404
from crm.admin.service import save_setting
from crm.areas import all_areas
from crm.companies.panels import company_page, register_panel
from crm.companies.routes import officer_choices
from crm.companies.service import claim_company
from crm.extensions import db
from crm.i18n import translated
from crm.models import AnnualReport, JobRun, ReminderDigest
from crm.models.area import DISTRICT, PARK
from crm.models.reminder import FAILED, PENDING, SENDING, SENT
from crm.normalize import url_int
from crm.reminders import outbox, service
from crm.reminders.deadlines import upcoming_deadlines
from crm.reminders.engine import KIND_ORDER
from crm.reminders.forms import KIND_LABELS, AnnualReportForm, LeadTimesForm, PreferencesForm
from crm.scheduler.service import reminder_trigger

bp = Blueprint("reminders", __name__)
PERIODS = (30, 60, 90, 180, 365)
DEADLINES_PER_PAGE = 100
STATUSES = (PENDING, SENDING, SENT, FAILED)
REPORT_FORM = "report"  # field prefix: the company page has other forms with a `year` field


@dataclass(frozen=True)
class ListPage:
    """A page of a list computed in Python, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


@bp.route("/deadlines")
def deadlines():
    """Deadlines by week: an officer's own by default; admins and viewers see all, with filters. Every
    list is limited to the user's areas."""
    allowed = area_ids(current_user)
    officer_arg = request.args.get("officer", "me" if current_user.role == "officer" else "")
    officer_id = current_user.id if officer_arg == "me" else url_int(officer_arg)
    # The list is the area's, not narrowed to the user's.
    area = area_or_404(url_int(request.args.get("area")), own_only=True)
    days = url_int(request.args.get("days")) if url_int(request.args.get("days")) in PERIODS else 60
    kind = request.args.get("kind", "") if request.args.get("kind") in KIND_ORDER else ""
    on = clock.today()
    found = upcoming_deadlines(officer_id, on, days, [area] if area is not None else allowed)
    if kind:
        found = [d for d in found if d.kind == kind]
    page_number = max(url_int(request.args.get("page")) or 1, 1)
    page = ListPage(found[(page_number - 1) * DEADLINES_PER_PAGE: page_number * DEADLINES_PER_PAGE],
                    page_number, DEADLINES_PER_PAGE, len(found))
    officers = officer_choices()
    areas = [a for a in all_areas(DISTRICT) + all_areas(PARK) if allowed is None or a.id in allowed]
    return render_template(
        "reminders/deadlines.html", page=page,
        weeks=[(w, w + timedelta(days=6), list(ds)) for w, ds in groupby(page.items, key=lambda d: _week(d.due_on))],
        on=on, this_week=_week(on), officers=officers, officer_names=dict(officers), areas=areas,
        officer_arg=officer_arg, area=area, days=days, kind=kind, periods=PERIODS, kind_labels=KIND_LABELS,
    )


@bp.route("/reminders/preferences", methods=["GET", "POST"])
def preferences():
    form = PreferencesForm()
    form.kinds.choices = [(k, KIND_LABELS[k]) for k in KIND_ORDER]
    if form.validate_on_submit():
        current_user.reminder_opt_out = [k for k in KIND_ORDER if k not in form.kinds.data]
        db.session.commit()
        flash(_("提醒设置已保存。"), "success")
        return redirect(url_for("reminders.preferences"))
    if request.method == "GET":
        form.kinds.data = [k for k in KIND_ORDER if k not in (current_user.reminder_opt_out or [])]
    return render_template("reminders/preferences.html", form=form)


@bp.route("/reminders/admin")
@admin_required
def admin():
    status = request.args.get("status", "") if request.args.get("status") in STATUSES else ""
    stmt = select(ReminderDigest).options(joinedload(ReminderDigest.recipient)).order_by(ReminderDigest.id.desc())
    if status:
        stmt = stmt.where(ReminderDigest.status == status)
    digests = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    last_run = db.session.scalar(select(JobRun).where(JobRun.job == service.JOB)
                                 .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
    now = clock.now()
    next_run = reminder_trigger(current_app.config).get_next_fire_time(None, now)
    # More than a day and a bit without a run: the scheduler process is probably not running.
    overdue = last_run is None or clock.local(last_run.started_at) < now - timedelta(hours=26)
    leads_form = LeadTimesForm(data={k: list(v) for k, v in service.lead_times().items()})
    return render_template(
        "reminders/admin.html", digests=digests, item_counts=service.item_counts([d.id for d in digests.items]),
        counts=service.digest_counts(), status=status, statuses=STATUSES, runs=service.recent_runs(),
        last_run=last_run, next_run=next_run, overdue=overdue, leads_form=leads_form, kind_labels=KIND_LABELS,
        describe_run=jobs.describe, job_labels=translated(jobs.JOB_LABELS),
    )


@bp.route("/reminders/admin/test-email", methods=["POST"])
@admin_required
def test_email():
    outbox.enqueue_test(current_user, clock.today())
    db.session.commit()
    flash(_("测试邮件已加入发送队列，将由下一次提醒任务发出（每天 %(time)s，或运行 flask reminders run）。",
            time=current_app.config["LADDER_REMINDER_TIME"]), "success")
    return redirect(url_for("reminders.admin"))


@bp.route("/reminders/admin/leads", methods=["POST"])
@admin_required
def leads():
    form = LeadTimesForm()
    if form.validate_on_submit():
        save_setting("reminder_leads", form.value())
        db.session.commit()
        flash(_("提醒提前天数已保存。"), "success")
    else:
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}：{error}", "error")
    return redirect(url_for("reminders.admin"))


# --- 高企年报 on the company page (DOMAIN §3.3) ---------------------------------------------------------

# Built once, run with parameters: SQLAlchemy would build and hash it again on every page view.
COMPANY_REPORTS = select(AnnualReport).where(AnnualReport.company_id == bindparam("company_id"))


def _reports(company_id: int) -> list[AnnualReport]:
    return list(db.session.scalars(COMPANY_REPORTS, {"company_id": company_id}))


def _annual_report_panel(company, on: date) -> dict:
    status = service.report_status(company.certifications, _reports(company.id), on)
    unfiled = [y.year for y in status.years if not y.filed and y.year < on.year]  # a year over, not the current
    form = g.get("annual_report_form") or AnnualReportForm(  # the one just posted, when it was not saved
        formdata=None, prefix=REPORT_FORM, data={"year": unfiled[-1] if unfiled else on.year - 1, "filed_on": on})
    return {"position": "bottom", "status": status, "form": form}


register_panel(order=40, template="reminders/_annual_reports_panel.html", context=_annual_report_panel)


@bp.route("/companies/<int:company_id>/annual-reports", methods=["POST"])
@editor_required
def file_annual_report(company_id: int):
    company = get_company_or_404(company_id)
    form = AnnualReportForm(prefix=REPORT_FORM)
    if form.validate_on_submit() and not _report_refused(form, company):
        claim_company(company.id)  # filed twice at once: the second updates the first's record
        service.record_annual_report(company.id, form.year.data, form.filed_on.data)
        db.session.commit()
        flash(_("已记录 %(year)s 年度高企发展情况报表。", year=form.year.data), "success")
        return redirect(url_for("companies.show", company_id=company.id))  # the message shows at the top
    g.annual_report_form = form
    return company_page(company, unsaved_at="#annual-reports"), 422


def _report_refused(form: AnnualReportForm, company) -> bool:
    problem = service.report_problem(company.certifications, form.year.data, form.filed_on.data, clock.today())
    if problem is not None:
        getattr(form, problem[0]).errors.append(problem[1].in_readers_language())
    return problem is not None


@bp.route("/companies/<int:company_id>/annual-reports/<int:year>/delete", methods=["POST"])
@editor_required
def delete_annual_report(company_id: int, year: int):
    company = get_company_or_404(company_id)
    report = db.session.scalar(select(AnnualReport).where(AnnualReport.company_id == company.id,
                                                          AnnualReport.year == year))
    if report is None:
        abort(404)
    db.session.delete(report)
    db.session.commit()
    flash(_("已撤销 %(year)s 年度年报的填报记录。", year=year), "success")
    return redirect(url_for("companies.show", company_id=company.id))
