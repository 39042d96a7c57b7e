"""Command-line interface (INTERFACES.md): `flask --app wsgi <group> <command>`.

Each capability contributes its own click group; failures exit non-zero with a one-line reason on stderr.
"""
import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

from crm.extensions import cache, db


class OneLineCommand(click.Command):
    """A usage error (a bad option value, a missing argument) or a database that cannot be used is one line on
    stderr like every other failure (INTERFACES.md), not click's usage text or a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None  # without a context click prints "Error: …" alone
            raise

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DatabaseError as exc:  # no server, no such database, no schema, a file that is no database
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            if not isinstance(exc, (OperationalError, ProgrammingError)):
                hint = "数据库错误"
            elif ctx.parent is not None and ctx.parent.info_name == "db":  # `db upgrade` itself: no schema hint
                hint = "数据库不可用"
            else:
                hint = "数据库不可用或尚未建表（先运行 flask --app wsgi db upgrade）"
            raise click.ClickException(f"{hint}：{reason}") from exc


class YearType(click.ParamType):
    """--year as operators type it: 2024, ２０２４, 2024年 or 2024年度, between 2000 and 2100."""

    name = "year"

    def convert(self, value, param, ctx):
        from crm.normalize import InvalidValue, parse_year

        try:
            year = value if isinstance(value, int) else parse_year(value, field=param.opts[0] if param else "年度")
        except InvalidValue as exc:
            self.fail(exc.reason, param, ctx)
        if year is None or not 2000 <= year <= 2100:
            self.fail(f"年度应在 2000 至 2100 之间：{value}", param, ctx)
        return year


YEAR = YearType()


class LadderGroup(AppGroup):
    """A command group whose commands report usage errors on one line."""

    command_class = OneLineCommand


users_cli = LadderGroup("users", help="用户管理")
demo_cli = LadderGroup("demo", help="演示数据")


def fail(message: str) -> None:
    """One line on stderr, exit 1 (INTERFACES.md)."""
    raise click.ClickException(message)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "viewer"]))
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--area", "areas", multiple=True, help="district code or park name; repeatable")
@click.option("--name", "display_name", default="")
@click.argument("more_areas", nargs=-1)
def create_user_command(username, role, email, password, areas, display_name, more_areas):
    """Create a user. `--area A B` and `--area A --area B` both limit the user to areas A and B."""
    areas = [*areas, *more_areas]
    from crm.audit import acting_as
    from crm.users.service import UserError, create_user

    try:
        with acting_as(None, "cli"):
            user = create_user(username, role, email, password, areas, display_name)
            db.session.commit()
    except UserError as exc:
        db.session.rollback()
        fail(str(exc))
    click.echo(f"created user {user.username} ({user.role})")


@demo_cli.command("seed")
@click.option("--companies", default=300, show_default=True)
def seed_command(companies):
    """Load the demo data set (idempotent: does nothing if companies exist)."""
    from crm.demo import seed

    try:
        click.echo(seed(companies))
    except ValueError as exc:  # a rule refusing demo data (UserError, RoundError…): nothing was written
        db.session.rollback()
        fail(f"演示数据未载入：{exc}")


@demo_cli.command("bench-data")
@click.option("--companies", default=20000, show_default=True)
def bench_data_command(companies):
    """Load the synthetic benchmark data set into an empty database (for load tests)."""
    from crm.bench_data import BENCH_PASSWORD, generate
    from crm.clock import today

    ids = generate(companies, today().year)
    click.echo(f"generated {companies} companies; log in as {ids['admin']} / {BENCH_PASSWORD}")


@click.command("backup", cls=OneLineCommand)
@click.argument("path")
def backup_command(path):
    """Back up the database to PATH (SQLite online backup; PostgreSQL pg_dump custom format)."""
    from flask import current_app

    from crm.backup import BackupError, backup

    try:
        click.echo(f"backed up to {backup(current_app.config['SQLALCHEMY_DATABASE_URI'], path)}")
    except BackupError as exc:
        fail(str(exc))


@click.command("restore", cls=OneLineCommand)
@click.argument("path")
@click.option("--yes", is_flag=True, help="confirm that the current data will be replaced")
def restore_command(path, yes):
    """Replace the database's contents with the backup at PATH."""
    from flask import current_app

    from crm.backup import BackupError, restore

    if not yes:
        fail("restore replaces all current data: add --yes to confirm")
    db.session.remove()
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except BackupError as exc:
        fail(str(exc))
    # The restored data version counts again from the backup's: figures cached for the data replaced would
    # otherwise come back under the same numbers (crm/figures_cache.py).
    cache.clear()
    click.echo(f"restored from {path}")


commands = [users_cli, demo_cli]


def register(app: Flask) -> None:
    """This module's groups and every capability's `crm/<capability>/cli.py` `commands`."""
    from crm import capability_modules

    from flask_migrate.cli import db as db_group  # `db backup` / `db restore` beside `db upgrade`

    db_group.add_command(backup_command)
    db_group.add_command(restore_command)
    for name, command in list(db_group.commands.items()):  # Flask-Migrate's own commands fail on one line too
        if not isinstance(command, OneLineCommand):
            db_group.commands[name] = OneLineCommand(name, params=command.params, callback=command.callback,
                                                     help=command.help, short_help=command.short_help)
    for group in commands + [g for module in capability_modules("cli") for g in module.commands]:
        existing = app.cli.commands.get(group.name)
        if existing is None:
            app.cli.add_command(group)
        else:  # several capabilities extend one group, e.g. `companies import` and `companies eligibility`
            for command in group.commands.values():
                existing.add_command(command)
