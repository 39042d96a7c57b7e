"""How an audited change reads on a page: fields named as the forms that edit them name them, areas and officers
by name, yes/no, lists, certification kinds, statuses and roles in words (the audit log keeps column names and
values). Used by the company timeline, the edit form's conflict notice, a visit's corrections and the 操作日志."""
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
from crm.reminders.forms import KIND_LABELS as REMINDER_KIND_LABELS, AnnualReportForm
from crm.rounds.forms import RoundForm
from crm.targets.service import METRIC_LABELS
from crm.users.forms import ROLE_CHOICES, UserForm
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
# A user's record: the user form's fields (its longer hints left out), their language and reminders turned off.
FIELD_LABELS |= {name: UserForm.__dict__[name].args[0] for name in ("username", "display_name", "email", "role", "active")}
FIELD_LABELS |= {"areas": _l("负责区域"), "password": _l("密码"), "locale": _l("界面语言"),
                 "reminder_opt_out": _l("不接收的提醒"), "source": _l("来源")}  # a certification's
# Records whose columns share a name with another's: a round's name is not a company's (企业名称).
ENTITY_FIELDS = {
    "round": {name: RoundForm.__dict__[name].args[0] for name in ("kind", "year", "name", "opens_on", "closes_on")},
    "annual_report": {name: AnnualReportForm.__dict__[name].args[0] for name in ("year", "filed_on")},
    "target": {"metric": _l("指标"), "value": _l("目标值"), "area_id": _l("区域（空为全市）")},
}
VALUE_LABELS = {"kind": KIND_LABELS, "metric": METRIC_LABELS, "status": {"valid": N_("有效"), "revoked": N_("已撤销")},
                "visit_kind": VISIT_KIND_LABELS, "role": dict(ROLE_CHOICES), "reminder_opt_out": REMINDER_KIND_LABELS,
                "locale": {"zh": "中文", "en": "English"},
                "password": {"已重置": N_("已重置"), "已修改": N_("已修改")},
                "source": {"manual": N_("手工录入"), "application": N_("申报通过"), "import": N_("导入")}}  # that it changed, by an admin or its owner
EMPTY_LABELS = {"areas": _l("不限（全市）"), "reminder_opt_out": _l("无")}  # what an empty list means there
NAMED_BY_ID = {"district_id": Area, "park_id": Area, "area_id": Area, "officer_id": User, "owner_id": User}  # by name, not by id
HIDDEN = {"id", "company_id",  # what a row belongs to, not what was changed in it
          "name_sort"}  # the name's sort key, which entries recorded before crm.audit skipped it still hold

Change = tuple[str, str, str]  # field, old, new


def described(change_sets: Iterable[dict | None], labels: dict | None = None,
              entities: Iterable[str] | None = None) -> list[tuple[Change, ...]]:
    """Each change set ({column: [old, new]}) as (field, old, new) lines; the areas and officers named in all of
    them are looked up together (at most one query each). A line whose two sides read the same is left out,
    as is, for a new row, a field left empty. `labels` names fields the forms do not (a rule setting's);
    `entities`, the kind of record of each set, names fields as that record's form does (ENTITY_FIELDS)."""
    change_sets = [c or {} for c in change_sets]
    labels = FIELD_LABELS | (labels or {})
    names = _names_of_ids(change_sets)
    out = []
    for changes, entity in zip(change_sets, entities or [None] * len(change_sets)):
        own = labels | ENTITY_FIELDS[entity] if entity in ENTITY_FIELDS else labels
        lines = []
        for key, (old, new) in changes.items():
            before, after = _shown(key, old, names), _shown(key, new, names)
            if key in HIDDEN or before == after or (old is None and (new == "" or new is False)):
                continue
            lines.append((str(own.get(key, key)), before, after))
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
    if isinstance(value, list):
        return "、".join(_shown(key, v, names) for v in value) or str(EMPTY_LABELS.get(key, "—"))
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if key in NAMED_BY_ID:
        return names.get((NAMED_BY_ID[key], value), f"#{value}")
    if key in VALUE_LABELS and value in VALUE_LABELS[key]:
        return str(gettext(VALUE_LABELS[key][value]))  # a form's choice labels are lazy
    return str(value)
