from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.access import admin_blueprint
from crm.areas import all_areas
from crm.audit import record
from crm.extensions import db
from crm.models import Area, User
from crm.users.forms import UserForm
from crm.users.service import UserError, check_change, create_user, deactivate, record_areas, stranded_companies

bp = admin_blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
def index():
    users = db.session.scalars(select(User).options(selectinload(User.areas)).order_by(User.role, User.username)).all()
    return render_template("users/index.html", users=users)


def _form(user: User | None = None) -> UserForm:
    form = UserForm(obj=user)
    form.areas.choices = [(a.id, a.name) for a in all_areas()]
    if user is not None and request.method == "GET":
        form.areas.data = [a.id for a in user.areas]
    return form


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _form()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("新建用户必须设置密码"))
        else:
            try:
                user = create_user(form.username.data, form.role.data, form.email.data, form.password.data,
                                   display_name=(form.display_name.data or "").strip())
                user.areas = [db.session.get(Area, i) for i in form.areas.data]
                record_areas(user, [])
                user.active = form.active.data
                db.session.commit()
                flash(_("已创建用户 %(name)s。", name=user.username), "success")
                return redirect(url_for("users.index"))
            except UserError as exc:
                db.session.rollback()
                form.username.errors.append(str(exc))
    return render_template("users/form.html", form=form, user=None), 200 if request.method == "GET" else 422


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _form(user)
    if form.validate_on_submit():
        try:
            check_change(user, form.role.data, form.active.data, current_user)
        except UserError as exc:
            form.active.errors.append(str(exc))
            return render_template("users/form.html", form=form, user=user), 422
        user.display_name = (form.display_name.data or "").strip()
        user.email = form.email.data.strip()
        user.role = form.role.data
        areas_before = [a.name for a in user.areas]
        user.areas = [db.session.get(Area, i) for i in form.areas.data]
        record_areas(user, areas_before)
        if form.password.data:
            user.set_password(form.password.data)
            record("user", user.id, None, "update", {"password": [None, "已重置"]})  # that it changed, never the hash
        if not form.active.data and user.active:
            deactivate(user)
        elif form.active.data:
            user.active = True
        db.session.commit()
        flash(_("已保存。"), "success")
        stranded = stranded_companies(user)
        if stranded:
            flash(_("%(name)s 仍包联 %(num)s 家其已不能处理的企业（已停用、改为只读，或不在其负责区域内）：请在企业列表按包联干部"
                    "“%(name)s”筛选，再用“分配包联干部”（或逐一、导入）移交。", name=user.label, num=stranded), "warning")
        return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user), 200 if request.method == "GET" else 422
