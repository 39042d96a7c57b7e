"""`flask --app wsgi visits export` (INTERFACES.md): the visit ledger (走访台账) as .xlsx or .csv."""
import click

from crm.areas import resolve_area
from crm.audit import acting_as, record_export
from crm.cli import LadderGroup, fail
from crm.clock import today
from crm.extensions import db
from crm.normalize import InvalidValue, parse_date
from crm.transfer.spreadsheet import write_table
from crm.users.service import user_named
from crm.visits.service import LEDGER_COLUMNS, VisitFilter, ledger

visits_cli = LadderGroup("visits", help="走访记录")


def _date(value: str, option: str):
    try:
        day = parse_date(value, field=option)
    except InvalidValue as exc:
        fail(str(exc))
    if day is None:
        fail(f"{option} 不能为空")
    return day


@visits_cli.command("export")
@click.option("--from", "start", required=True, help="first visit date, e.g. 2024-01-01")
@click.option("--to", "end", required=True, help="last visit date (inclusive)")
@click.option("--out", "path", required=True, help="output file, .xlsx or .csv")
@click.option("--area", default=None, help="district code (old codes and names too) or park name")
@click.option("--officer", default=None, help="username of an officer who took part")
def export_command(start, end, path, area, officer):
    """Write the visit ledger for a period, optionally for one area and one officer."""
    f = VisitFilter(start=_date(start, "--from"), end=_date(end, "--to"))
    if f.start > f.end:
        fail(f"--from {f.start} 晚于 --to {f.end}")
    if not path.lower().endswith((".xlsx", ".csv")):
        fail(f"不支持的文件类型：{path}（请用 .xlsx 或 .csv）")
    if area is not None:  # an empty --area (an unset variable in a script) is a mistake, not the whole city
        found = resolve_area(area)
        if found is None:
            fail(f"未知区域：{area}（区县代码、名称或园区名称）")
        f.area_id = found.id
    if officer is not None:
        user = user_named(officer)
        if user is None:
            fail(f"未知用户：{officer}")
        f.officer_id = user.id
    rows = ledger(f, today())
    try:
        write_table(path, LEDGER_COLUMNS, rows, title="走访台账")
    except OSError as exc:
        fail(f"无法写入 {path}：{exc.strerror or exc}")
    with acting_as(None, "cli"):
        record_export("visits", path.lower().rsplit(".", 1)[1], len(rows), vars(f))
        db.session.commit()
    click.echo(f"wrote {len(rows)} visits to {path}")


commands = [visits_cli]
