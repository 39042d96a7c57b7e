"""`companies import` (INTERFACES.md). The `companies` group is shared with the eligibility command."""
from pathlib import Path

import click
from crm.cli import LadderGroup, fail
from crm.users.service import user_named

companies_cli = LadderGroup("companies", help="企业数据")


@companies_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option("--skip-invalid", is_flag=True, help="导入无误的行，报告其余的行")
@click.option("--as", "username", help="以该用户的身份和区域范围导入（记入修改记录）")
def import_command(path: Path, dry_run: bool, skip_invalid: bool, username: str | None):
    """Import a workbook (企业, 资质, 年度数据) or a one-sheet CSV (DOMAIN §8)."""
    from crm.transfer.importer import run_import
    from crm.transfer.reader import ImportRefused

    user = None
    if username:
        user = user_named(username)
        if user is None or not user.active:
            fail(f"未知或已停用的用户：{username}")
        if not user.can_edit:
            fail(f"用户 {username} 是只读用户，不能导入")
    try:
        result = run_import(path.read_bytes(), path.name, user, skip_invalid=skip_invalid, dry_run=dry_run)
    except ImportRefused as exc:
        fail(exc.reason)
    click.echo(result.summary_line())
    for problem in result.problems + result.warnings:
        click.echo(problem.line())
    if result.problems and (dry_run or not result.applied):  # a rejected row, or a sheet that cannot be read
        if not result.rejected:
            fail(f"{len(result.problems)} 处错误，未写入任何数据")
        fail(f"{result.rejected} 行有错误；试运行（--dry-run），未写入任何数据" if dry_run and skip_invalid else
             f"{result.rejected} 行有错误，未写入任何数据（可用 --skip-invalid 只导入无误的行）")
    if result.rejected and not any(s.created or s.updated for s in result.sheets):  # --skip-invalid, the rest as stored
        fail(f"{result.rejected} 行有错误，其余行与已有数据相同，未写入任何数据")


commands = [companies_cli]
