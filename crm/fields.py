"""Form fields and validators for values as Chinese users type them (DOMAIN §7)."""
import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crm.clock import today
from crm.normalize import InvalidValue, is_blank, parse_date, parse_int, parse_money, parse_year

# Syntax only: intranet mail domains (e.g. kjj.dazhou.local) are legitimate here.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*$")


def email_address(form, field):
    if field.data and not EMAIL.match(field.data.strip()):
        raise ValidationError(_l("邮箱格式不正确"))


class ParsedField(StringField):
    """Text parsed by one of crm.normalize's parsers; what was typed is shown back with the parser's reason."""

    parser = staticmethod(lambda raw: raw)

    def parse(self, raw: str):
        return self.parser(raw)

    def process_formdata(self, valuelist):
        if valuelist and is_blank(valuelist[0]):  # spaces or a zero-width space: nothing typed, to InputRequired too
            self.raw_data = valuelist = [""]
        super().process_formdata(valuelist)
        self.raw_error = None
        try:
            self.data = self.parse(self.data) if self.data else None
        except InvalidValue as exc:
            self.data, self.raw_error = None, exc.in_readers_language()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.show(self.data)

    @staticmethod
    def show(value) -> str:
        return str(value)

    def pre_validate(self, form):
        if getattr(self, "raw_error", None):  # the reason, and not also what a range check makes of no value
            raise StopValidation(self.raw_error)


class ChineseDateField(ParsedField):
    """A date typed as Chinese users write it: 2021-03-05, 2021/3/5, 2021年3月5日, 20210305, 全角 digits."""

    parser = staticmethod(parse_date)
    show = staticmethod(lambda value: value.isoformat())


class MoneyField(ParsedField):
    """An amount in 万元: '1,234.5', '１２３', '12万元', '50000元' (DOMAIN §7)."""

    parser = staticmethod(parse_money)


def not_in_future(form, field):
    if field.data and field.data > today():
        raise ValidationError(_l("日期不能晚于今天"))


def not_in_past(form, field):
    if field.data and field.data < today():
        raise ValidationError(_l("日期不能早于今天"))


class CheckboxesField(SelectMultipleField):
    """A multiple choice as a list of checkboxes: a plain click on a multi-select drops the other choices."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CountField(ParsedField):
    """A whole number as the import reads it (DOMAIN §7–8): '1,200', '１２', '12.0'; not 12.5 nor a negative."""

    def parse(self, raw: str):
        return parse_int(raw, field=str(self.label.text))


class YearField(ParsedField):
    """A year as the import reads it: 2026, '2026年', '2026年度', '２０２６'."""

    def parse(self, raw: str):
        return parse_year(raw, field=str(self.label.text))
