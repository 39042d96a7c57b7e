from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from crm.companies.forms import ChineseDateField
from crm.fields import YearField
from crm.ladder.standing import KIND_LABELS
from crm.rounds.service import STAGE_LABELS, round_problems


class RoundForm(FlaskForm):
    kind = SelectField(_l("资质类型"), choices=[(k, _l(v)) for k, v in KIND_LABELS.items()])
    year = YearField(_l("年度"), validators=[InputRequired(_l("请填写年度"))])
    name = StringField(_l("批次名称"), validators=[InputRequired(_l("请填写批次名称")), Length(max=120)])
    opens_on = ChineseDateField(_l("开始日期"))
    closes_on = ChineseDateField(_l("截止日期"))

    def validate(self, extra_validators=None):
        """The field checks, then the service's rules (closes_on ≥ opens_on, ...), so neither is written twice."""
        ok = super().validate(extra_validators)
        problems = round_problems(self.kind.data, self.year.data, self.name.data or "", self.opens_on.data,
                                  self.closes_on.data)
        for name, problem in problems.items():
            if not getattr(self, name).errors:
                getattr(self, name).errors.append(problem)
                ok = False
        return ok


class MoveForm(FlaskForm):
    """One stage change; the card's plain form sends `to` and `expected`, the rest is asked when needed."""

    to = SelectField(_l("移到"), choices=[(k, _l(v)) for k, v in STAGE_LABELS.items()])
    expected = HiddenField()
    reason = TextAreaField(_l("原因"), validators=[Length(max=500)])
    number = StringField(_l("证书编号 / 入库登记编号"), validators=[Length(max=60)])
    issued_on = ChineseDateField(_l("发证日期"))
    next = HiddenField()


class OpenApplicationForm(FlaskForm):
    company_id = IntegerField(validators=[InputRequired()])
    round_id = IntegerField(validators=[InputRequired()])
    next = HiddenField()
