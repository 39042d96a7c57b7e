"""Scheduled and command-line jobs leave a JobRun row: when they ran, whether they finished, what they did.

The admin's reminders page reads these rows to show that the 08:30 run happened.
"""
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from crm.clock import utcnow
from crm.extensions import db
from crm.models import JobRun


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
