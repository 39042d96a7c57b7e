"""`flask reminders run [--today DATE]` (INTERFACES.md)."""
from datetime import date

import click

from crm.cli import LadderGroup, fail

EARLIEST = date(2000, 1, 1)  # no reminder is kept from before; a year 1 would overflow the lead-day arithmetic
LATEST = date(2100, 12, 31)  # a day ahead rehearses it (INTERFACES); 9999 would overflow it the other way

reminders_cli = LadderGroup("reminders", help="到期提醒")


@reminders_cli.command("run")
@click.option("--today", "today_text", metavar="DATE", help="the day to compute reminders for (default: today)")
def run_command(today_text):
    """Compute the reminders due on that day and send the digests; safe to run again the same day.

    Prints `sent N e-mails, M items; failed K`. Exits 0 when every e-mail was accepted. Exits 1 with a one-line
    reason on stderr when K e-mails could not be sent (kept, and retried by the next run; refusals are also
    shown on the admin page with the server's reply), so cron sees the mail server down, or when the run itself
    could not be done (a bad date, the database unavailable).
    """
    from crm.clock import today
    from crm.normalize import InvalidValue, parse_date
    from crm.reminders.service import run_reminders

    try:
        day = today() if today_text is None else parse_date(today_text)
    except InvalidValue as exc:
        fail(f"--today: {exc}")
    if day is None:
        fail("--today 不能为空（不填此项即为今天）")
    if day < EARLIEST:
        fail(f"--today {day.isoformat()} 太早：只能补发 {EARLIEST.year} 年以来的提醒")
    if day > LATEST:
        fail(f"--today {day.isoformat()} 太晚：最晚为 {LATEST.isoformat()}")
    try:
        result = run_reminders(day)
    except Exception as exc:  # noqa: BLE001 — the one-line reason is the contract
        fail(f"reminders run failed: {type(exc).__name__}: {exc}".splitlines()[0])
    click.echo(result.line)
    if result.failed:
        fail(f"{result.failed} 封邮件未能发送，已保留，下次运行时重试（原因见“提醒邮件”页）")


commands = [reminders_cli]
