"""Changing rule parameters: stored as overrides of crm.settings.DEFAULTS, every change audit-logged."""
import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from crm.audit import record
from crm.extensions import db
from crm.ladder.service import rederive_gazelle_windows
from crm.models import Setting
from crm.settings import DEFAULTS, get_setting, set_setting


def _same(old: Any, new: Any) -> bool:
    """Equal, counting amounts and rates stored as strings by value ("0.20" is "0.2")."""
    if isinstance(old, str) and isinstance(new, str):
        try:
            return Decimal(old) == Decimal(new)
        except InvalidOperation:
            pass
    return old == new


def _changes(key: str, old: Any, new: Any) -> dict[str, list]:
    if isinstance(old, dict) and isinstance(new, dict):
        return {f"{key}.{k}": [old.get(k), new.get(k)] for k in sorted(set(old) | set(new))
                if not _same(old.get(k), new.get(k))}
    return {} if _same(old, new) else {key: [old, new]}


def _after_change(key: str, old: Any, new: Any) -> None:
    """A new 瞪羚 validity changes the window of recognitions already recorded (DOMAIN §4)."""
    if key == "gazelle" and int(old["validity_years"]) != int(new["validity_years"]):
        rederive_gazelle_windows(int(new["validity_years"]))


def save_setting(key: str, value: Any) -> dict[str, list]:
    """Store `value` for `key`; returns what changed (nothing is written when nothing changed)."""
    old = get_setting(key)
    changes = _changes(key, old, value)
    if not changes:
        return {}
    set_setting(key, value)
    db.session.flush()  # the certification listener reads the setting back inside the next flush
    record("setting", None, None, "update", changes)
    _after_change(key, old, value)
    return changes


def restore_default(key: str) -> dict[str, list]:
    """Drop the override so the default (and any later change of it) applies again."""
    row = db.session.get(Setting, key)
    if row is None:
        return {}
    old, new = row.value, copy.deepcopy(DEFAULTS[key])
    db.session.delete(row)
    db.session.flush()
    changes = _changes(key, old, new)
    record("setting", None, None, "delete", changes)
    _after_change(key, old, new)
    return changes
