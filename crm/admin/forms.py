"""One form per setting key: typed fields in, the stored value (as in crm.settings.DEFAULTS) out."""
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from crm.fields import MoneyField
from crm.normalize import to_halfwidth
from crm.reminders.forms import LeadTimesForm
from crm.settings import DEFAULTS
from crm.visits.forms import StalenessForm


def _plain(number: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 20.00 → '20', 1E+1 → '10'."""
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(text: str) -> Decimal:
    try:
        number = Decimal(to_halfwidth(text or "").strip().rstrip("%％").strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():  # "NaN" and "Infinity" are Decimals too
        raise ValidationError(_l("请填写百分数，例如 20 表示 20%"))
    return number


class GazelleForm(FlaskForm):
    """瞪羚 rule (DOMAIN §4)."""
    require_hnte = SelectField(_l("须持有有效高企证书"), choices=[("1", _l("是")), ("0", _l("否"))])
    min_base_revenue = MoneyField(_l("基期营业收入下限（万元）"), validators=[InputRequired(_l("请填写基期营业收入下限"))])
    min_cagr = StringField(_l("营业收入年均复合增长率下限（%）"), validators=[InputRequired(_l("请填写增长率下限"))])
    years = IntegerField(_l("考察会计年度数"), validators=[
        InputRequired(_l("请填写考察年度数")), NumberRange(2, 10, _l("考察年度数应在 2 到 10 之间"))])
    validity_years = IntegerField(_l("认定有效期（年，含认定当年）"), validators=[
        InputRequired(_l("请填写有效期")), NumberRange(1, 10, _l("有效期应在 1 到 10 年之间"))])

    def validate_min_base_revenue(self, field):
        if field.data is not None and field.data < 0:
            raise ValidationError(_l("金额不能为负数"))

    def validate_min_cagr(self, field):
        if not 0 <= _percent(field.data) <= 1000:
            raise ValidationError(_l("增长率下限应在 0% 到 1000% 之间"))

    @staticmethod
    def data_for(value: dict) -> dict:
        return {"require_hnte": "1" if value["require_hnte"] else "0", "min_base_revenue": value["min_base_revenue"],
                "min_cagr": _plain(Decimal(str(value["min_cagr"])) * 100), "years": value["years"],
                "validity_years": value["validity_years"]}

    def value(self) -> dict:
        return {"require_hnte": self.require_hnte.data == "1", "min_base_revenue": _plain(self.min_base_revenue.data),
                "min_cagr": _plain(_percent(self.min_cagr.data) / 100), "years": self.years.data,
                "validity_years": self.validity_years.data}


def _same_shape(value: Any, default: Any) -> bool:
    if isinstance(default, dict):
        return isinstance(value, dict) and set(value) == set(default) and all(
            _same_shape(value[k], default[k]) for k in default)
    if isinstance(default, list):
        return isinstance(value, list) and (not default or all(_same_shape(v, default[0]) for v in value))
    return type(value) is type(default)


class JsonForm(FlaskForm):
    """A setting without a dedicated form (added by another capability): its JSON, in the default's shape."""
    json = TextAreaField(_l("取值（JSON）"), validators=[InputRequired(_l("请填写取值"))])
    key = ""

    @staticmethod
    def data_for(value: Any) -> dict:
        return {"json": json.dumps(value, ensure_ascii=False)}

    def validate_json(self, field):
        try:
            value = json.loads(field.data)
        except ValueError:
            raise ValidationError(_l("不是有效的 JSON")) from None
        if not _same_shape(value, DEFAULTS[self.key]):
            raise ValidationError(_l("结构须与默认值一致"))

    def value(self) -> Any:
        return json.loads(self.json.data)


# The reminders and visits pages edit their settings with these same forms: one set of rules per setting.
EDITORS = {"gazelle": GazelleForm, "reminder_leads": LeadTimesForm, "visit_staleness": StalenessForm}


def form_for(key: str, value: Any, formdata=None) -> FlaskForm:
    """The form of `key`, filled from posted data when given, else from the stored value."""
    cls = EDITORS.get(key) or type(f"JsonForm_{key}", (JsonForm,), {"key": key})
    if formdata is not None:
        return cls(formdata=formdata, prefix=key)
    return cls(formdata=None, prefix=key, data=cls.data_for(value))
