from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from crm.fields import ChineseDateField, CountField, MoneyField, YearField, email_address, not_in_future
from crm.i18n import N_
from crm.ladder.standing import KIND_LABELS, certification_problems
from crm.normalize import MAX_INT, InvalidValue

HNTE_FIELDS = (N_("电子信息"), N_("生物与新医药"), N_("航空航天"), N_("新材料"), N_("高技术服务"), N_("新能源与节能"),
               N_("资源与环境"), N_("先进制造与自动化"))
TRISTATE = [("", _l("未知")), ("1", _l("是")), ("0", _l("否"))]


def tristate_choice(value) -> str:
    """Model value (None/True/False) or posted text to the choice key."""
    if value in (None, "", "None"):
        return ""
    return "1" if value in (True, "1", "True") else "0"


def tristate(value: str | None) -> bool | None:
    return None if value in (None, "", "None") else value in ("1", "True", True)


class CompanyForm(FlaskForm):
    uscc = StringField(_l("统一社会信用代码"), validators=[InputRequired(_l("请填写统一社会信用代码"))])
    confirm_bad_check = BooleanField(_l("确认校验位不符的代码（仅管理员）"))
    name = StringField(_l("企业名称"), validators=[InputRequired(_l("请填写企业名称")), Length(max=200)])
    district_id = SelectField(_l("所属区县"), coerce=int, validators=[InputRequired(_l("请选择所属区县"))])
    park_id = SelectField(_l("所在园区"), coerce=int)
    industry = StringField(_l("产业领域"), validators=[Length(max=100)])
    founded_on = ChineseDateField(_l("成立日期"), validators=[not_in_future])
    contact_name = StringField(_l("联系人"), validators=[Length(max=60)])
    contact_phone = StringField(_l("联系电话"), validators=[Length(max=40)])
    contact_email = StringField(_l("联系邮箱"), validators=[Optional(), email_address, Length(max=254)])
    officer_id = SelectField(_l("包联干部"), coerce=int)
    tech_field = SelectField(_l("技术领域（高企八大领域）"), choices=[("", _l("未填写"))] + [(f, _l(f)) for f in HNTE_FIELDS],
                             coerce=lambda v: v or "")
    restricted_industry = SelectField(_l("属于限制或淘汰类产业"), choices=TRISTATE, coerce=tristate_choice)
    integrity_ok = SelectField(_l("近两年无重大事故、严重失信等"), choices=TRISTATE, coerce=tristate_choice)
    no_major_accident = SelectField(_l("申报前一年无重大安全、质量事故或严重环境违法"), choices=TRISTATE, coerce=tristate_choice)
    national_award = SelectField(_l("近五年获国家科技奖（前三完成单位）"), choices=TRISTATE, coerce=tristate_choice)
    provincial_rd_institution = SelectField(_l("拥有省部级以上研发机构"), choices=TRISTATE, coerce=tristate_choice)
    led_standard = SelectField(_l("近五年主导制定国际、国家或行业标准"), choices=TRISTATE, coerce=tristate_choice)
    notes = TextAreaField(_l("备注"), validators=[Length(max=2000)])
    version = HiddenField()

    TRISTATE_FIELDS = ("restricted_industry", "integrity_ok", "no_major_accident", "national_award",
                       "provincial_rd_institution", "led_standard")


class CertificationForm(FlaskForm):
    kind = SelectField(_l("资质类型"), choices=[(k, _l(v)) for k, v in KIND_LABELS.items()])
    number = StringField(_l("编号（入库登记编号或证书编号）"), validators=[Length(max=60)])
    year = YearField(_l("年度"), validators=[Optional(), NumberRange(2000, 2100, _l("年度不正确"))])
    issued_on = ChineseDateField(_l("发证日期"), validators=[not_in_future])
    expires_on = ChineseDateField(_l("有效期至"))
    founded_on: date | None = None  # the company's, set by the page: nothing is issued before it was founded

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        kind, year, issued_on = self.kind.data, self.year.data, self.issued_on.data
        if kind == "hnte" and not issued_on and not self.issued_on.errors:  # typed, unreadable
            self.issued_on.errors.append(_l("高新技术企业证书需填写发证日期"))
            ok = False
        if kind in ("tech_sme", "gazelle") and not year and not self.year.errors:
            self.year.errors.append(_l("科技型中小企业和瞪羚企业需填写年度"))
            ok = False
        problems = certification_problems(kind, year, issued_on, self.expires_on.data, self.founded_on)
        if kind == "tech_sme" and year and issued_on and issued_on.year != year:
            problems.setdefault("issued_on", InvalidValue(N_("科技型中小企业的发证日期应在登记年度 %(y)s 年内"), y=year))
        for name, problem in problems.items():
            if not getattr(self, name).errors:
                getattr(self, name).errors.append(problem.in_readers_language())
                ok = False
        return ok


# A count: blank, or a whole number from 0 to what the database column holds.
COUNT = [Optional(), NumberRange(min=0, message=_l("不能为负数")), NumberRange(max=MAX_INT, message=_l("数值过大"))]


class FiguresForm(FlaskForm):
    loaded = HiddenField()  # the year's figures as the page showed them (figures_stamp): a save meanwhile conflicts
    year = YearField(_l("年度"), validators=[InputRequired(_l("请填写年度")), NumberRange(2000, 2100)])
    employees = CountField(_l("职工总数"), validators=COUNT)
    tech_staff = CountField(_l("科技人员数"), validators=COUNT)
    revenue = MoneyField(_l("营业收入（万元）"))
    rd_expense = MoneyField(_l("研发费用（万元）"))
    rd_domestic = MoneyField(_l("境内研发费用（万元）"))
    total_cost = MoneyField(_l("成本费用总额（万元）"))
    total_assets = MoneyField(_l("资产总额（万元）"))
    net_assets = MoneyField(_l("净资产（万元）"))
    high_tech_revenue = MoneyField(_l("高新技术产品收入（万元）"))
    ip_class1 = CountField(_l("Ⅰ类知识产权数"), validators=COUNT)
    ip_class2 = CountField(_l("Ⅱ类知识产权数"), validators=COUNT)
    est_ip_other = CountField(_l("估计：知识产权其他得分（≤22）"), validators=[Optional(), NumberRange(0, 22)])
    est_conversion = CountField(_l("估计：科技成果转化能力（≤30）"), validators=[Optional(), NumberRange(0, 30)])
    est_rd_management = CountField(_l("估计：研究开发组织管理水平（≤20）"), validators=[Optional(), NumberRange(0, 20)])

    def validate_tech_staff(self, field):
        if field.data is not None and self.employees.data is not None and field.data > self.employees.data:
            raise ValidationError(_l("科技人员数不能大于职工总数"))
