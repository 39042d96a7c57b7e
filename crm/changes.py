"""How an audited change reads on a page: fields named as the forms that edit them name them, areas and officers
by name, yes/no and certification kinds and statuses in words (the audit log keeps column names and values).
Used by the company timeline and by the edit form's conflict notice."""
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from crm.companies.forms import CertificationForm, CompanyForm, FiguresForm
from crm.extensions import db
from crm.i18n import N_
from crm.ladder.standing import KIND_LABELS
from crm.models import Area, User
from crm.visits.forms import VisitFields
from crm.visits.service import KIND_LABELS as VISIT_KIND_LABELS

FIELD_LABELS = {name: field.args[0] for form in (FiguresForm, CertificationForm, CompanyForm)
                for name, field in vars(form).items() if isinstance(field, UnboundField) and field.args}
FIELD_LABELS |= {"status": _l("状态"), "uscc_check_waived": FIELD_LABELS.pop("confirm_bad_check")}
# A corrected visit's record (crm.visits.service.visit_record): its kind, people and needs under names of their own.
VISIT_FIELDS = {"visited_on": "visited_on", "visit_kind": "kind", "officers": "officer_ids",
                "company_people": "company_people", "summary": "summary", "needs": "need_ids",
                "needs_detail": "needs_detail"}  # the audit's key: the form's field
FIELD_LABELS |= {key: getattr(VisitFields, name).args[0] for key, name in VISIT_FIELDS.items()}
VALUE_LABELS = {"kind": KIND_LABELS, "status": {"valid": N_("有效"), "revoked": N_("已撤销")},
                "visit_kind": VISIT_KIND_LABELS}
NAMED_BY_ID = {"district_id": Area, "park_id": Area, "officer_id": User}  # shown by name, not by id
HIDDEN = {"id", "company_id",  # what a row belongs to, not what was changed in it
          "name_sort"}  # the name's sort key, which entries recorded before crm.audit skipped it still hold

Change = tuple[str, str, str]  # field, old, new


def described(change_sets: Iterable[dict | None]) -> list[tuple[Change, ...]]:
    """Each change set ({column: [old, new]}) as (field, old, new) lines; the areas and officers named in all of
    them are looked up together (at most one query each). A line whose two sides read the same is left out,
    as is, for a new row, a field left empty."""
    change_sets = [c or {} for c in change_sets]
    names = _names_of_ids(change_sets)
    out = []
    for changes in change_sets:
        lines = []
        for key, (old, new) in changes.items():
            before, after = _shown(key, old, names), _shown(key, new, names)
            if key in HIDDEN or before == after or (old is None and new in ("", False)):
                continue
            lines.append((str(FIELD_LABELS.get(key, key)), before, after))
        out.append(tuple(lines))
    return out


def _names_of_ids(change_sets: list[dict]) -> dict[tuple[type, Any], str]:
    wanted = {(NAMED_BY_ID[k], v) for changes in change_sets for k, pair in changes.items() if k in NAMED_BY_ID
              for v in pair if v is not None}
    names = {}
    for model, column in ((Area, Area.name), (User, User.label)):
        ids = {i for m, i in wanted if m is model}
        if ids:
            rows = db.session.execute(select(model.id, column).where(model.id.in_(ids)))
            names |= {(model, i): name for i, name in rows}
    return names


def _shown(key: str, value: Any, names: dict[tuple[type, Any], str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if key in NAMED_BY_ID:
        return names.get((NAMED_BY_ID[key], value), f"#{value}")
    if key in VALUE_LABELS and value in VALUE_LABELS[key]:
        return gettext(VALUE_LABELS[key][value])
    return str(value)
