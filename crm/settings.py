"""Configurable rule parameters (DOMAIN marks them **configurable**).

Defaults live here; an admin's change is a row in `setting` that overrides the default, so a policy
change never needs a code change.
"""
from typing import Any

from crm.extensions import db
from crm.i18n import N_
from crm.models.setting import Setting

DEFAULTS: dict[str, Any] = {
    # DOMAIN §4 — 瞪羚 rule (defaults as in Guangzhou Huangpu)
    "gazelle": {"require_hnte": True, "min_base_revenue": "1000", "min_cagr": "0.20", "years": 3, "validity_years": 3},
    # DOMAIN §6 — reminder lead times in days before the due date
    "reminder_leads": {
        "hnte_expiry": [180, 90, 30, 7],
        "hnte_annual_report": [30, 14, 3],
        "tech_sme_renewal": [30, 7, 1],
        "round_deadline": [14, 7, 1],
        "follow_up_due": [3, 0],
    },
    # issue 4 — "not visited for too long" thresholds in days; optional per-standing keys
    # ("gazelle", "hnte", "tech_sme", "incubating", "none") replace "default" — see crm/work/service.py
    "visit_staleness": {"pooled": 90, "default": 180},
}

LABELS = {
    "gazelle": N_("瞪羚企业认定参数"),
    "reminder_leads": N_("提醒提前天数"),
    "visit_staleness": N_("走访超期天数"),
}


def get_setting(key: str) -> Any:
    row = db.session.get(Setting, key)
    return row.value if row is not None else DEFAULTS[key]


def set_setting(key: str, value: Any) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value, label=LABELS.get(key, "")))
    else:
        row.value = value
