"""Scheduled and command-line jobs leave a JobRun row: when they ran, whether they finished, what they did.

The admin's reminders page reads these rows to show that the 08:30 run happened. A job records what it did as
a JSON object, which describe() words in the reader's language; a failure records its reason as text.
"""
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext

from crm.clock import utcnow
from crm.extensions import db
from crm.i18n import N_
from crm.models import JobRun

JOB_LABELS = {"reminders": N_("到期提醒"), "housekeeping": N_("夜间维护"), "snapshot": N_("进度快照")}
# Each job's result in words, filled from the object it records.
RESULT_MESSAGES = {
    "reminders": N_("发出 %(sent)s 封邮件、%(items)s 项提醒，未能发出 %(failed)s 封；%(day)s 新增 %(queued)s 项"),
    "housekeeping": N_("清理一天前的登录失败记录 %(purged)s 条，更新查询统计"),
    "snapshot": N_("保存 %(year)s 年目标进度（截至 %(as_of)s）"),
}


def describe(run: JobRun) -> str:
    """What the run did in the reader's language; a failure's reason (or an older free-text result) as recorded."""
    try:
        data = json.loads(run.result or "")
    except ValueError:
        return run.result or ""
    if not isinstance(data, dict) or run.job not in RESULT_MESSAGES:
        return run.result
    try:
        return gettext(RESULT_MESSAGES[run.job], **data)
    except KeyError:  # written by an older version with other fields
        return run.result


@contextmanager
def recorded(job: str) -> Iterator[JobRun]:
    """Record one run of `job`: the block sets `result` (and `ok`, default True); an exception marks the
    run failed with its reason and propagates."""
    run = JobRun(job=job, started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    try:
        yield run
    except BaseException as exc:
        db.session.rollback()
        run.ok, run.result = False, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:2000]
        run.finished_at = utcnow()
        db.session.commit()
        raise
    run.finished_at = utcnow()
    if run.ok is None:
        run.ok = True
    db.session.commit()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a bulk job (an import, the reminders run) without the cyclic garbage collector.

    Such a job allocates hundreds of thousands of short-lived objects (rows, cells, parameter dicts) that
    reference counting frees by itself; the allocations alone set off full collections, each walking the
    whole heap, which took half the import's time at 20,000 companies. Collection resumes afterwards and
    finds any cycle made meanwhile. Nested or concurrent jobs leave the collector to the first one."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
