"""`targets set` and `targets progress` (INTERFACES.md)."""
import json

import click

from crm.areas import all_areas, resolve_area
from crm.audit import acting_as
from crm.cli import LadderGroup, YEAR, fail
from crm.clock import today
from crm.extensions import db
from crm.models.target import METRICS
from crm.normalize import InvalidValue, parse_date
from crm.targets.service import METRIC_LABELS, TargetError, default_as_of, progress, set_target

targets_cli = LadderGroup("targets", help="目标与进度")


@targets_cli.command("set")
@click.option("--year", type=YEAR, required=True)
@click.option("--metric", required=True, help=", ".join(METRICS))
@click.option("--value", type=int, required=True)
@click.option("--scope", default=None, help="district code, old code, name, or park name; city-wide if omitted")
def set_command(year, metric, value, scope):
    """Set a target (city-wide without --scope)."""
    area = None
    if scope is not None:
        area = resolve_area(scope)
        if area is None:
            fail(f"未知区域：{scope}（区县代码、区县名称或园区名称）")
    try:
        with acting_as(None, "cli"):
            set_target(year, metric, area, value)
            db.session.commit()
    except TargetError as exc:
        fail(str(exc))
    click.echo(f"target {year} {metric} {area.name if area else '全市'} = {value}")


@targets_cli.command("progress")
@click.option("--year", type=YEAR, required=True)
@click.option("--as-of", "as_of_text", default=None, help="date (default 31 Dec of YEAR, or today if earlier)")
@click.option("--json", "as_json", is_flag=True, help="print the INTERFACES.md JSON")
def progress_command(year, as_of_text, as_json):
    """Progress against the year's targets, city-wide and for every district and park."""
    if not as_of_text:  # DOMAIN §5: 31 December, or today if earlier — today for a year still to come
        as_of = default_as_of(year, today())
    else:
        try:
            as_of = parse_date(as_of_text, field="--as-of")
        except InvalidValue as exc:
            fail(str(exc))
        if as_of is None or as_of.year != year:  # a typo of the year, most likely
            fail(f"--as-of {as_of_text} 不在 {year} 年内")
    areas = all_areas()
    result = progress(year, as_of, areas)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    names = {a.key: a.name for a in areas}
    click.echo(f"{year} 截至 {result['as_of']}")
    for scope, figures in [("全市", result["metrics"]), *((names[k], v) for k, v in result["areas"].items())]:
        cells = "  ".join(f"{METRIC_LABELS[m]} {f['actual']}/{'—' if f['target'] is None else f['target']}"
                          for m, f in figures.items())
        click.echo(f"{scope}: {cells}")


commands = [targets_cli]
