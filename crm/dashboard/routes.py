"""The leaders' dashboard (home page for admins and viewers), its drill-down lists and the 月报 export.

The selection lives in the URL (?year=&as_of=&scope=&metric=) so a link can be shared; everything is
limited to the areas the user may see.
"""
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, select

from crm.access import area_ids, company_scope
from crm.areas import all_areas
from crm.audit import record_export
from crm.clock import today
from crm.dashboard.service import (
    RISKS, annual_report_due, board, board_counts, company_list, list_condition, list_label, month_ends,
    monthly_trend,
)
from crm.downloads import attachment
from crm.extensions import db
from crm.figures_cache import remembered
from crm.i18n import translated
from crm.models import Area, Company
from crm.models.target import METRICS
from crm.normalize import InvalidValue, parse_date
from crm.targets.service import METRIC_LABELS, area_condition, default_as_of, progress
from crm.transfer.spreadsheet import Column, table_bytes

bp = Blueprint("dashboard", __name__)


@dataclass(frozen=True)
class Selection:
    year: int
    as_of: date
    scope: Area | None  # the headline's area; None: everything the user may see (city-wide for admins)
    metric: str

    def args(self, **changes) -> dict:
        """URL parameters of this selection, with changes: for links that keep the selection."""
        args = {"year": self.year, "as_of": self.as_of.isoformat(), "scope": self.scope.key if self.scope else "",
                "metric": self.metric}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in ("", None)}


def visible_areas() -> list[Area]:
    """The areas the user may see: all for unrestricted users, else their own (in the usual order)."""
    areas = all_areas()
    ids = area_ids(current_user)
    return areas if ids is None else [a for a in areas if a.id in ids]


def _scope_where(area: Area | None = None):
    """The user's area limit (None when unrestricted), narrowed to one area if given."""
    conditions = [company_scope(current_user)] if area_ids(current_user) is not None else []
    if area is not None:
        conditions.append(area_condition(area))
    return and_(*conditions) if conditions else None


def _year_and_as_of(say: bool = True) -> tuple[int, date]:
    """The year and as-of date asked for. A year that cannot be shown is replaced by this one, and an as-of date that
    cannot be read or is outside the year by the year's default; the page says so (a shared link must not pass for
    the figures it asked for)."""
    now = today()
    asked_year, asked_as_of = (request.args.get(n, "").strip()[:20] for n in ("year", "as_of"))
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= now.year + 1:
        if asked_year and say:
            flash(_("无法显示 %(y)s 年的进度（可选 2000–%(last)s 年），已显示 %(now)s 年。", y=asked_year,
                    last=now.year + 1, now=now.year), "error")
        year = now.year
    try:
        as_of = parse_date(asked_as_of, field="截至日期")
    except InvalidValue:
        as_of = None
    if as_of is None or as_of.year != year:  # e.g. the year picked anew on the page, the old date kept beside it
        if asked_as_of and say:
            flash(_("截至日期“%(d)s”无法识别或不在 %(y)s 年内，已显示截至 %(default)s。", d=asked_as_of, y=year,
                    default=default_as_of(year, now).isoformat()), "warning")
        as_of = default_as_of(year, now)
    return year, as_of


def _selection(areas: list[Area]) -> Selection:
    year, as_of = _year_and_as_of()
    by_key = {a.key: a for a in areas}
    scope = by_key.get(request.args.get("scope", ""))
    if scope is None and area_ids(current_user) is not None and areas:
        scope = areas[0]  # a user limited to areas has no city-wide view
    metric = request.args.get("metric", "")
    return Selection(year, as_of, scope, metric if metric in METRICS else METRICS[0])


@bp.route("/dashboard")
def index():
    areas = visible_areas()
    sel = _selection(areas)
    scope_where = _scope_where(sel.scope)
    scope_id = sel.scope.id if sel.scope else None

    def figures():
        return (board_counts(sel.year, sel.as_of, _scope_where()),
                monthly_trend(sel.metric, sel.year, sel.as_of, scope_where),
                {key: company_list(RISKS[key](sel.year, sel.as_of), scope_where) for key in RISKS})

    limit = area_ids(current_user)
    counts, trend, risks = remembered(
        "dashboard", (limit and sorted(limit), sel.year, sel.as_of, scope_id, sel.metric), figures)
    data = board(sel.year, sel.as_of, areas, counts)
    return render_template(
        "dashboard/index.html", sel=sel, areas=areas, board=data, scope_id=scope_id, trend=trend, risks=risks,
        chart=_chart_data(sel, data, trend, scope_id), metrics=METRICS, metric_labels=translated(METRIC_LABELS),
        list_label=list_label, city_allowed=area_ids(current_user) is None,
        annual_report_due=annual_report_due(sel.year),
        years=sorted({*range(today().year - 6, today().year + 2), sel.year}, reverse=True),
    )


def _chart_data(sel: Selection, data, trend: dict, scope_id: int | None) -> dict:
    """What dashboard.js draws, with the drill-down link of every point."""
    scope_key = sel.scope.key if sel.scope else ""

    def link(year: int, as_of: date, area: str = scope_key) -> str:
        return url_for("dashboard.companies", list=sel.metric, year=year, as_of=as_of.isoformat(), area=area or None)

    months = [_("%(m)s月", m=m) for m in range(1, 13)]
    figures = data.by_gap(sel.metric)  # the same order as the table under the chart
    return {
        "metric": _(METRIC_LABELS[sel.metric]),
        "trend": {
            "months": months,
            "series": [
                {"name": _("%(y)s年", y=sel.year), "values": [v for _d, v in trend["this_year"]],
                 "links": [link(sel.year, d) for d, _v in trend["this_year"]]},
                {"name": _("%(y)s年", y=sel.year - 1), "values": [v for _d, v in trend["last_year"]],
                 "links": [link(sel.year - 1, d) for d, _v in trend["last_year"]]},
            ],
            # the whole year's pace, on to the target in December: where we must get to, not only where we are
            "pace": [data.pace(sel.metric, scope_id, d) for d in month_ends(sel.year, date(sel.year, 12, 31))],
            "pace_name": _("进度要求"),
        },
        "areas": {
            "names": [area.name for area, _f in figures],
            "actual": [f.actual for _a, f in figures],
            "target": [f.target for _a, f in figures],
            "links": [link(sel.year, sel.as_of, area.key) for area, _f in figures],
            "actual_name": _("实际"), "target_name": _("目标"),
        },
    }


def _area_or_404(key: str, areas: list[Area]) -> Area | None:
    if not key:
        return None
    area = next((a for a in areas if a.key == key), None)
    if area is None:
        abort(404)
    return area


@bp.route("/dashboard/companies")
def companies():
    """The companies behind one number: the same condition as the count, limited to the user's areas."""
    key = request.args.get("list", "")
    label = list_label(key)
    if label is None:
        abort(404)
    year, as_of = _year_and_as_of()
    area = _area_or_404(request.args.get("area", ""), visible_areas())
    stmt = select(Company).where(company_scope(current_user), list_condition(key, year, as_of))
    if area is not None:
        stmt = stmt.where(area_condition(area))
    page = db.paginate(stmt.order_by(Company.name_sort, Company.id), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    back = url_for("dashboard.index", year=year, as_of=as_of.isoformat(), scope=area.key if area else None,
                   metric=key if key in METRICS else None)  # to the view the number was on
    return render_template("dashboard/companies.html", page=page, label=label, area=area, year=year, as_of=as_of,
                           key=key, back=back)


@bp.route("/dashboard/report.xlsx")
def report():
    """月报: every metric (actual, target, completion) for the city and each area, as of the chosen date."""
    year, as_of = _year_and_as_of(say=False)  # a file says its year in its name and title; a notice would linger
    areas = visible_areas()
    result = progress(year, as_of, areas, _scope_where())
    scopes = [(_("全市"), result["metrics"])] if area_ids(current_user) is None else []
    scopes += [(area.name, result["areas"][area.key]) for area in areas]
    columns = [Column(_("区域"), 16)]
    for m in METRICS:
        columns += [Column(_(METRIC_LABELS[m]), 12), Column(_("目标"), 8), Column(_("完成率"), 9, "0.0%")]
    rows = []
    for name, figures in scopes:
        row = [name]
        for m in METRICS:
            actual, target = figures[m]["actual"], figures[m]["target"]
            row += [actual, target, actual / target if target else None]
        rows.append(row)
    # the sheet says its date itself: a file forwarded and renamed still tells what day it counts
    content, mime = table_bytes("xlsx", columns, rows, title=_("%(y)s年月报（截至%(d)s）", y=year, d=as_of.isoformat()))
    record_export("report", "xlsx", len(rows), {"year": year, "as_of": as_of})
    db.session.commit()  # the download is in the 操作日志, like every export
    return attachment(content, mime, _("%(y)s年月报_截至%(d)s", y=year, d=as_of.isoformat()) + ".xlsx",
                      f"report-{year}-{as_of.isoformat()}.xlsx")
