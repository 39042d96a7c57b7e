import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from crm.companies.forms import ChineseDateField, not_in_future
from crm.fields import CheckboxesField, YearField
from crm.normalize import to_halfwidth
from crm.reminders.engine import KIND_ORDER

MAX_LEAD_DAYS = 3650
KIND_LABELS = {
    "hnte_expiry": _l("高企证书到期"),
    "hnte_annual_report": _l("高企年报"),
    "tech_sme_renewal": _l("科小评价入库"),
    "round_deadline": _l("申报批次截止"),
    "follow_up_due": _l("跟进事项到期"),
}


class AnnualReportForm(FlaskForm):
    year = YearField(_l("报表年度"), validators=[InputRequired(_l("请填写报表年度")), NumberRange(2000, 2100, _l("年度不正确"))])
    filed_on = ChineseDateField(_l("填报日期"), validators=[InputRequired(_l("请填写填报日期")), not_in_future])


class PreferencesForm(FlaskForm):
    kinds = CheckboxesField(_l("接收以下提醒"))


def parse_leads(text: str) -> list[int]:
    """'180, 90，30、7' (full-width digits too) → [180, 90, 30, 7]; blank → [] (the kind is off).
    ValueError with the reason."""
    parts = [p for p in re.split(r"[,，、;；\s]+", to_halfwidth(text or "").strip()) if p]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(_l("请填写以逗号分隔的天数，例如 30, 7, 1"))
    days = sorted({int(p) for p in parts}, reverse=True)
    if any(d > MAX_LEAD_DAYS for d in days):
        raise ValueError(_l("提前天数不能超过 %(n)s 天", n=MAX_LEAD_DAYS))
    return days


class LeadsField(StringField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        try:
            self.data = parse_leads(self.data or "")
        except ValueError as exc:
            self.data = None
            self.raw_error = str(exc)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(str(d) for d in self.data or [])

    def pre_validate(self, form):
        if getattr(self, "raw_error", None):
            raise ValidationError(self.raw_error)


class LeadTimesForm(FlaskForm):
    """One field per reminder kind (DOMAIN §6 lead days, configurable)."""

    hnte_expiry = LeadsField(KIND_LABELS["hnte_expiry"])
    hnte_annual_report = LeadsField(KIND_LABELS["hnte_annual_report"])
    tech_sme_renewal = LeadsField(KIND_LABELS["tech_sme_renewal"])
    round_deadline = LeadsField(KIND_LABELS["round_deadline"])
    follow_up_due = LeadsField(KIND_LABELS["follow_up_due"])

    @staticmethod
    def data_for(value: dict) -> dict:
        return dict(value)

    def value(self) -> dict[str, list[int]]:
        """The `reminder_leads` setting: lead days per kind, largest first; a kind left blank is off."""
        return {kind: getattr(self, kind).data for kind in KIND_ORDER}
