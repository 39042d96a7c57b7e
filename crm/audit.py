"""Audit trail: every change to a company, its certifications, figures and 年报, a user, a target or a round is
recorded.

A session listener records changes made through the ORM, so no write path can forget it; bulk writes
that bypass the ORM (imports) call record() themselves.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.i18n import N_
from crm.models import AnnualReport, AuditLog, Certification, Company, CompanyYear, Round, Target, User

AUDITED = {Company: "company", Certification: "certification", CompanyYear: "figures", User: "user",
           AnnualReport: "annual_report", Target: "target", Round: "round"}
SKIPPED = {"updated_at", "version", "password_hash", "session_version", "created_at", "valid_from", "valid_until",
           "name_sort"}  # bookkeeping, or derived from what is recorded (the windows, the name's sort key)
SOURCE_LABELS = {"web": N_("网页"), "cli": N_("命令行"), "demo": N_("演示数据"), "system": N_("系统")}
_actor: ContextVar[tuple[int | None, str] | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(user_id: int | None, source: str):
    """Attribute changes in this block to `user_id` from `source` (CLI commands, imports, jobs)."""
    token = _actor.set((user_id, source))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> tuple[int | None, str]:
    actor = _actor.get()
    if actor is not None:
        return actor
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, "web"
    return None, "system"


def source_label(source: str) -> str:
    """Where a change came from, in the reader's language: 网页, 命令行, 导入 <file>…"""
    kind, _, name = source.partition(":")
    if kind == "import":
        return gettext("导入 %(file)s", file=name)
    return gettext(SOURCE_LABELS[source]) if source in SOURCE_LABELS else source


def plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _company_id(obj: Any) -> int | None:
    return obj.id if isinstance(obj, Company) else getattr(obj, "company_id", None)


def _changes(obj: Any, action: str) -> dict[str, list]:
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in SKIPPED:
            continue
        hist = state.attrs[attr.key].history
        if action == "update" and not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else getattr(obj, attr.key)
        if action == "delete":
            old, new = getattr(obj, attr.key), None
        if plain(old) != plain(new):
            changes[attr.key] = [plain(old), plain(new)]
    return changes


def record(entity: str, entity_id: int | None, company_id: int | None, action: str, changes: dict) -> AuditLog:
    user_id, source = current_actor()
    entry = AuditLog(user_id=user_id, source=source, entity=entity, entity_id=entity_id,
                     company_id=company_id, action=action, changes=changes)
    db.session.add(entry)
    return entry


def record_export(list_name: str, fmt: str, rows: int, chosen: dict[str, Any]) -> AuditLog:
    """Who exported which list (a key of crm.admin.log.LISTS), as what, how many rows, with which filter."""
    return record("export", None, None, "export", {
        "list": list_name, "format": fmt, "rows": rows,
        "filter": {k: plain(v) for k, v in chosen.items() if v not in (None, "")},
    })


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _ctx, _instances) -> None:
    pending = session.info.setdefault("audit_pending", [])
    for action, objs in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objs:
            entity = AUDITED.get(type(obj))
            if entity is None or (action == "update" and not session.is_modified(obj, include_collections=False)):
                continue
            changes = _changes(obj, action)
            if changes or action != "update":
                pending.append((obj, entity, action, changes, _company_id(obj) if action != "create" else None))


@event.listens_for(Session, "after_flush")
def _write(session: Session, _ctx) -> None:
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    user_id, source = current_actor()
    rows = [
        {"user_id": user_id, "source": source, "entity": entity, "entity_id": obj.id,
         "company_id": company_id or _company_id(obj), "action": action, "changes": changes}
        for obj, entity, action, changes, company_id in pending
    ]
    session.execute(AuditLog.__table__.insert(), rows)
