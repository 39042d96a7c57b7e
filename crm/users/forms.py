from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from crm.fields import CheckboxesField, email_address

ROLE_CHOICES = [("officer", _l("包联干部")), ("viewer", _l("领导（只读）")), ("admin", _l("管理员"))]


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[InputRequired(_l("请填写用户名")), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[Length(max=64)])
    email = EmailField(_l("邮箱"), validators=[InputRequired(_l("请填写邮箱")), Length(max=254), email_address])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES)
    areas = CheckboxesField(_l("负责区域（不选则不限）"), coerce=int)
    password = PasswordField(_l("密码（新建必填；修改时留空则不变）"), validators=[Optional(), Length(min=8, message=_l("密码至少 8 位"))])
    active = BooleanField(_l("启用"), default=True)
