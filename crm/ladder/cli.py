"""`companies eligibility` and `shortlist export` (INTERFACES.md)."""
import json
from pathlib import Path

import click
from sqlalchemy import select

from crm.cli import LadderGroup, YEAR, fail
from crm.extensions import db
from crm.models.certification import KINDS

companies_cli = LadderGroup("companies", help="企业")
shortlist_cli = LadderGroup("shortlist", help="申报名单")


@companies_cli.command("eligibility")
@click.argument("uscc")
@click.option("--year", type=YEAR, help="申报年度（默认今年）；数据取此前的会计年度")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（INTERFACES.md）")
def eligibility_command(uscc, year, as_json):
    """Eligibility checks for one company, judged on the date it would apply (today; 1 January of a YEAR to come,
    31 December of one gone)."""
    from crm.clock import today
    from crm.ladder.service import eligibility_json
    from crm.models import Company
    from crm.normalize import InvalidValue, normalize_uscc, validate_uscc

    code = normalize_uscc(uscc)
    company = db.session.scalar(select(Company).where(Company.uscc == code))
    if company is None:
        try:
            validate_uscc(uscc)
        except InvalidValue as exc:  # a typo, most likely: say what is wrong with the code itself
            fail(f"未找到统一社会信用代码为 {code or uscc} 的企业（{exc}）")
        fail(f"未找到统一社会信用代码为 {code or uscc} 的企业")
    out = eligibility_json(company, year or today().year, today())
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"{out['name']} {out['uscc']}  {out['year']} 年申报  当前梯次 {out['standing']}")
    for kind in KINDS:
        result = out[kind]
        click.echo(f"[{kind}] {'符合' if result['eligible'] else '不符合'}")
        for check in result["checks"]:
            click.echo(f"  {'✓' if check['result'] == 'pass' else '✗' if check['result'] == 'fail' else '？'} "
                       f"{check['message']}")


@shortlist_cli.command("export")
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--year", required=True, type=YEAR)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--area", default=None, help="区县代码、旧代码、名称或园区名称")
def shortlist_export_command(kind, year, out_path, area):
    """Write the shortlist for a round as .xlsx or .csv (by the extension of --out)."""
    from crm.areas import resolve_area
    from crm.audit import acting_as, record
    from crm.clock import today
    from crm.ladder.shortlist import ShortlistFilter, export

    if out_path.suffix.lower() not in (".xlsx", ".csv"):
        fail(f"不支持的文件类型 {out_path.suffix or '（无扩展名）'}：请用 .xlsx 或 .csv")
    found = resolve_area(area) if area is not None else None
    if area is not None and found is None:  # '' too: an empty --area is a mistake, not "the whole city"
        fail(f"未知区域：{area}（区县代码、名称或园区名称）")
    try:
        n = export(ShortlistFilter(kind=kind, year=year, area_id=found.id if found else None), out_path, today())
    except OSError as exc:
        fail(f"无法写入 {out_path}：{exc.strerror or exc}")
    with acting_as(None, "cli"):
        record("shortlist", None, None, "export", {"kind": kind, "year": year, "area_id": found.id if found else None,
                                                   "format": out_path.suffix.lower()[1:], "rows": n})
        db.session.commit()
    click.echo(f"wrote {n} companies to {out_path}")


commands = [companies_cli, shortlist_cli]
