import re
from dataclasses import replace
from datetime import date

from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from crm.companies.forms import ChineseDateField, not_in_future
from crm.fields import not_in_past
from crm.visits.service import KIND_LABELS, FollowUpDraft, VisitDraft

KIND_CHOICES = [(key, _l(label)) for key, label in KIND_LABELS.items()]
CLIENT_TOKEN = re.compile(r"[0-9a-f]{32}")  # as drafts.js makes them; anything else is no token
BLANK_FOLLOW_UP_ROWS = 3  # shown without JavaScript; visits.js reveals and adds rows one at a time


class FollowUpRowForm(Form):
    """One follow-up row inside the visit form; a row without a title is ignored."""

    title = StringField(_l("事项"), validators=[Length(max=300, message=_l("不能超过 300 字"))])
    owner_id = SelectField(_l("负责人"), coerce=int, validate_choice=False)
    due_on = ChineseDateField(_l("期限"))

    @property
    def is_blank(self) -> bool:
        return not (self.title.data or "").strip()


class VisitFields(FlaskForm):
    """What a visit records; logged with its follow-ups (VisitForm) or corrected later (VisitCorrectionForm)."""

    visited_on = ChineseDateField(_l("走访日期"), validators=[InputRequired(_l("请填写走访日期")), not_in_future])
    kind = RadioField(_l("走访方式"), choices=KIND_CHOICES, default="onsite")
    summary = TextAreaField(_l("走访情况"), validators=[DataRequired(_l("请填写走访情况")), Length(max=5000)])
    need_ids = SelectMultipleField(_l("企业诉求"), coerce=int)
    needs_detail = TextAreaField(_l("诉求说明"), validators=[Length(max=2000)])
    officer_ids = SelectMultipleField(_l("走访干部"), coerce=int)
    company_people = StringField(_l("企业参与人员"), validators=[Length(max=200)])

    def set_choices(self, officers, categories) -> None:
        self.officer_ids.choices = [(u.id, u.label) for u in officers]
        self.need_ids.choices = [(c.id, c.name) for c in categories]

    founded_on: date | None = None  # the company's, set by the page: no visit before it existed

    def validate_visited_on(self, field):
        if field.data and self.founded_on and field.data < self.founded_on:
            raise ValidationError(gettext("走访日期不能早于企业成立日期（%(d)s）", d=self.founded_on.isoformat()))

    def validate_officer_ids(self, field):
        if not field.data:
            raise ValidationError(_l("请至少选择一名走访干部"))

    def draft(self, company_id: int) -> VisitDraft:
        return VisitDraft(
            company_id=company_id, visited_on=self.visited_on.data, kind=self.kind.data,
            officer_ids=list(self.officer_ids.data), company_people=self.company_people.data or "",
            summary=self.summary.data, needs_detail=self.needs_detail.data or "", need_ids=list(self.need_ids.data),
        )


class VisitForm(VisitFields):
    follow_ups = FieldList(FormField(FollowUpRowForm), min_entries=BLANK_FOLLOW_UP_ROWS)
    client_token = HiddenField()  # filled by drafts.js: the draft in the phone this visit is typed into

    def set_choices(self, officers, categories) -> None:
        super().set_choices(officers, categories)
        for row in self.follow_ups:
            row.form.owner_id.choices = self.officer_ids.choices

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        owners = {value for value, _label in self.officer_ids.choices}
        for row in self.follow_ups:
            entry = row.form
            if entry.is_blank:
                continue
            if entry.owner_id.data not in owners:
                entry.owner_id.errors.append(_l("请选择负责人"))
                ok = False
            if entry.due_on.data is None:
                if not entry.due_on.errors:
                    entry.due_on.errors.append(_l("请填写跟进期限"))
                ok = False
            elif self.visited_on.data and entry.due_on.data < self.visited_on.data:
                entry.due_on.errors.append(_l("跟进期限不能早于走访日期"))
                ok = False
        return ok

    def draft(self, company_id: int) -> VisitDraft:
        token = (self.client_token.data or "").strip()
        return replace(super().draft(company_id), client_token=token if CLIENT_TOKEN.fullmatch(token) else None,
                       follow_ups=[FollowUpDraft(r.form.title.data.strip(), r.form.owner_id.data, r.form.due_on.data)
                                   for r in self.follow_ups if not r.form.is_blank])


class VisitCorrectionForm(VisitFields):
    """A saved visit corrected by one who made it; its follow-ups keep their own history and are not edited here."""

    loaded = HiddenField()  # crm.visits.service.visit_fingerprint of the visit this form was filled from
    first_due: date | None = None  # the earliest due date of its follow-ups, set by the page

    def validate_visited_on(self, field):
        super().validate_visited_on(field)
        if field.data and self.first_due and field.data > self.first_due:  # as logging it refuses
            raise ValidationError(gettext("走访日期不能晚于它的跟进事项的期限（%(d)s）", d=self.first_due.isoformat()))


class FollowUpForm(FlaskForm):
    """A follow-up promised outside a logged visit: a call, a task handed down by the section head."""

    title = StringField(_l("事项"), validators=[DataRequired(_l("请填写跟进事项")),
                                                Length(max=300, message=_l("不能超过 300 字"))])
    owner_id = SelectField(_l("负责人"), coerce=int)
    due_on = ChineseDateField(_l("期限"), validators=[InputRequired(_l("请填写跟进期限")), not_in_past])

    def draft(self) -> FollowUpDraft:
        return FollowUpDraft(self.title.data.strip(), self.owner_id.data, self.due_on.data)


class DoneForm(FlaskForm):
    note = StringField(_l("完成情况（可选）"), validators=[Length(max=500)])


class ReassignForm(FlaskForm):
    owner_id = SelectField(_l("改派给"), coerce=int)


class RescheduleForm(FlaskForm):
    due_on = ChineseDateField(_l("新期限"), validators=[InputRequired(_l("请填写新的期限")), not_in_past])
    reason = StringField(_l("原因（可选）"), validators=[Length(max=500)])


class CategoryForm(FlaskForm):
    name = StringField(_l("类别名称"), validators=[InputRequired(_l("请填写类别名称")), Length(max=40)])
    active = BooleanField(_l("启用"), default=True)


class StalenessForm(FlaskForm):
    """Days without a visit before a company shows as 走访超期 (setting `visit_staleness`)."""

    pooled = IntegerField(_l("培育库企业（天）"), validators=[InputRequired(), NumberRange(1, 3650)])
    default = IntegerField(_l("其他企业（天）"), validators=[InputRequired(), NumberRange(1, 3650)])
    gazelle = IntegerField(_l("瞪羚企业（天，留空则同“其他企业”）"), validators=[Optional(), NumberRange(1, 3650)])
    hnte = IntegerField(_l("高新技术企业（天，留空则同“其他企业”）"), validators=[Optional(), NumberRange(1, 3650)])
    tech_sme = IntegerField(_l("科技型中小企业（天，留空则同“其他企业”）"), validators=[Optional(), NumberRange(1, 3650)])
    none = IntegerField(_l("无资质企业（天，留空则同“其他企业”）"), validators=[Optional(), NumberRange(1, 3650)])

    RUNG_FIELDS = ("gazelle", "hnte", "tech_sme", "none")

    @staticmethod
    def data_for(value: dict) -> dict:
        return dict(value)

    def value(self) -> dict:
        """The `visit_staleness` setting: pooled and default days, and the rungs given their own."""
        value = {"pooled": self.pooled.data, "default": self.default.data}
        value.update({r: getattr(self, r).data for r in self.RUNG_FIELDS if getattr(self, r).data is not None})
        return value
