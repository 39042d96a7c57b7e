"""Admin page: the year's targets for every metric, city-wide and for each district and park."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.access import admin_blueprint
from crm.areas import all_areas
from crm.clock import today
from crm.extensions import db
from crm.i18n import translated
from crm.models.target import METRICS
from crm.normalize import InvalidValue, parse_int
from crm.targets.forms import TargetsForm, cell_name
from crm.targets.service import METRIC_LABELS, set_target, targets_for

bp = admin_blueprint("targets", __name__, url_prefix="/targets")


@bp.route("/", methods=["GET", "POST"])
def index():
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        year = today().year
    scopes = [None, *all_areas()]
    form = TargetsForm()
    cells = {cell_name(area_id, metric): value for (metric, area_id), value in targets_for(year).items()}
    earlier = {cell_name(area_id, metric): value for (metric, area_id), value in targets_for(year - 1).items()}
    copied = request.method == "GET" and request.args.get("copy") == "1" and not cells
    if copied:  # last year's targets as a start, saved only when 保存 is pressed
        cells = earlier
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        cells = {name: value for name, value in request.form.items() if name.startswith("t-")}
        values = {}
        for area in scopes:
            for metric in METRICS:
                name = cell_name(area.id if area else None, metric)
                try:
                    values[(area, metric)] = parse_int(cells.get(name, ""), field=METRIC_LABELS[metric])
                except InvalidValue as exc:
                    errors[name] = exc.in_readers_language()
        if not errors:
            for (area, metric), value in values.items():
                set_target(year, metric, area, value)
            db.session.commit()
            flash(_("已保存 %(y)s 年目标。", y=year), "success")
            return redirect(url_for("targets.index", year=year))
    status = 422 if errors else 200
    return render_template("targets/index.html", form=form, year=year, scopes=scopes, metrics=METRICS,
                           metric_labels=translated(METRIC_LABELS), cells=cells, errors=errors,
                           cell_name=cell_name, copied=copied, may_copy=bool(earlier) and not cells), status
