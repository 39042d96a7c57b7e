from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from crm.fields import YearField
from crm.ladder.standing import KIND_LABELS


class PoolForm(FlaskForm):
    kind = SelectField(_l("资质类型"), choices=[(k, _l(v)) for k, v in KIND_LABELS.items()])
    year = YearField(_l("年度"), validators=[InputRequired(_l("请填写年度")), NumberRange(2000, 2100, _l("年度不正确"))])
    name = StringField(_l("名称"), validators=[InputRequired(_l("请填写培育库名称")), Length(max=120)])
