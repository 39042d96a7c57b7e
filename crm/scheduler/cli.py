"""`flask scheduler run`: the scheduler in the foreground (INTERFACES.md); one per deployment."""
import logging
import signal
import sys

import click
from flask import current_app

from crm.cli import LadderGroup, fail

scheduler_cli = LadderGroup("scheduler", help="定时任务")


@scheduler_cli.command("run")
def run_command():
    """Run the scheduler in the foreground: daily reminders at LADDER_REMINDER_TIME (LADDER_TIMEZONE),
    nightly housekeeping. Stops on SIGTERM or Ctrl-C after the job in progress finishes."""
    from crm.scheduler.service import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        scheduler = build_scheduler(current_app._get_current_object())
    except ValueError as exc:
        fail(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for job in scheduler.get_jobs():
        click.echo(f"scheduler: {job.id} ({job.name}) {job.trigger}", err=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)


commands = [scheduler_cli]
