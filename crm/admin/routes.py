"""Admin pages: the administration hub, the configurable rule parameters and the 操作日志."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm.access import admin_blueprint
from crm.admin.forms import form_for
from crm.admin.log import NOBODY, entity_labels, log_entries, log_filter, log_query
from crm.admin.service import restore_default, save_setting
from crm.extensions import db
from crm.i18n import translated
from crm.models import AuditLog, Setting, User
from crm.settings import DEFAULTS, LABELS, get_setting

bp = admin_blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
def index():
    """One entry in the top bar for everything only admins do."""
    from crm.navigation import admin_items

    return render_template("admin/index.html", items=admin_items())


def _page(forms: dict, status: int = 200):
    overridden = set(db.session.scalars(select(Setting.key)))
    history = db.session.scalars(select(AuditLog).where(AuditLog.entity == "setting")
                                 .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(20)).all()
    return render_template("admin/settings.html", forms=forms, labels=translated(LABELS), overridden=overridden,
                           defaults=DEFAULTS, history=history, field_labels=_setting_labels(forms)), status


def _setting_labels(forms: dict) -> dict[str, str]:
    """"gazelle.min_cagr" as the settings page names it: the section, then the field."""
    return {f"{key}.{f.short_name}": f"{_(LABELS[key]) if key in LABELS else key} · {f.label.text}"
            for key, form in forms.items() for f in form if f.type not in ("CSRFTokenField", "HiddenField")}


@bp.route("/settings")
def settings():
    return _page({key: form_for(key, get_setting(key)) for key in DEFAULTS})


@bp.route("/settings/<key>", methods=["POST"])
def save(key: str):
    if key not in DEFAULTS:
        abort(404)
    form = form_for(key, None, request.form)
    if not form.validate():
        forms = {k: form if k == key else form_for(k, get_setting(k)) for k in DEFAULTS}
        return _page(forms, 422)
    changes = save_setting(key, form.value())
    db.session.commit()
    flash(_("已保存“%(label)s”。", label=translated(LABELS).get(key, key)) if changes else _("没有改动。"), "success")
    return redirect(url_for("admin.settings") + f"#setting-{key}")


@bp.route("/settings/<key>/reset", methods=["POST"])
def reset(key: str):
    if key not in DEFAULTS:
        abort(404)
    restore_default(key)
    db.session.commit()
    flash(_("已恢复“%(label)s”的默认值。", label=translated(LABELS).get(key, key)), "success")
    return redirect(url_for("admin.settings") + f"#setting-{key}")


@bp.route("/log")
def log():
    """操作日志: every change and export in the audit trail, newest first; by who, by kind of record, by day, or
    one record's history (a user's edit page links to theirs)."""
    f, unread = log_filter(request.args)
    for value in unread:
        flash(_("无法识别的日期：%(v)s", v=value), "error")
    page = db.paginate(log_query(f), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    labels = _setting_labels({key: form_for(key, value) for key, value in DEFAULTS.items()})
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/log.html", f=f, page=page, entries=log_entries(page.items, labels), users=users,
                           entities=entity_labels(), nobody=NOBODY)
