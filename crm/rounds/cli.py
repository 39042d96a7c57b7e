"""`flask --app wsgi rounds create ...` (INTERFACES.md)."""
import click

from crm.audit import acting_as
from crm.cli import LadderGroup, fail
from crm.extensions import db
from crm.models import Round
from crm.models.certification import KINDS
from crm.normalize import InvalidValue, parse_date, parse_year
from crm.rounds.service import RoundError, save_round

rounds_cli = LadderGroup("rounds", help="申报批次")


@rounds_cli.command("create")
@click.option("--kind", required=True, help="|".join(KINDS))
@click.option("--year", required=True)
@click.option("--name", required=True)
@click.option("--opens", required=True, help="开始日期，如 2025-06-30 或 2025年6月30日")
@click.option("--closes", required=True, help="截止日期")
def create_command(kind, year, name, opens, closes):
    """Open a certification round (申报批次); bad input exits 1 with the reason (not click's usage error)."""
    try:
        year = parse_year(year)
        opens_on = parse_date(opens, field="开始日期")
        closes_on = parse_date(closes, field="截止日期")
        with acting_as(None, "cli"):
            round_ = save_round(Round(), kind, year, name, opens_on, closes_on)
            db.session.commit()
    except (InvalidValue, RoundError) as exc:
        db.session.rollback()
        fail(str(exc))
    click.echo(f"created round {round_.id}: {round_.kind} {round_.year} {round_.name} "
               f"{round_.opens_on.isoformat()} ~ {round_.closes_on.isoformat()}")


commands = [rounds_cli]
