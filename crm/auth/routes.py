from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required, login_user

from crm.audit import record
from crm.auth.forms import LoginForm, PasswordForm, PreferencesForm
from crm.auth.service import authenticate, is_throttled, safe_next, sign_in, sign_out
from crm.extensions import db

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = {"auth.login", "static", "main.healthz"}


def _throttled(username: str) -> bool:
    """Too many wrong passwords for this account lately, on the login page or the account page alike: says so."""
    if not is_throttled(username, request.remote_addr or ""):
        return False
    flash(_("登录失败次数过多，请 15 分钟后再试。"), "error")
    return True


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    if request.method == "GET" and "lang" in request.args:
        # The language switch for people not signed in yet; signing in keeps it as User.locale.
        if request.args["lang"] in current_app.config["LANGUAGES"]:
            session["lang"] = request.args["lang"]
        return redirect(url_for("auth.login", next=safe_next(request.args.get("next"))))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        if _throttled(username):
            return render_template("auth/login.html", form=form), 429
        user = authenticate(username, form.password.data, request.remote_addr or "")
        if user is None:
            flash(_("用户名或密码错误。"), "error")
            return render_template("auth/login.html", form=form), 200
        sign_in(user)  # INTERFACES.md: to the dashboard, or a safe same-site `next`
        picked = session.pop("lang", None)  # a language picked on this login page is the user's choice from now on
        if picked in current_app.config["LANGUAGES"] and picked != user.locale:
            user.locale = picked
            db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sign_out()
    flash("*", "draft-saved")  # a phone handed on keeps no visit notes (drafts.js forgets them all)
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    password_form = PasswordForm(prefix="pw")
    prefs_form = PreferencesForm(prefix="pref", locale=current_user.locale)
    if request.method == "POST" and "pw-new" in request.form:
        if password_form.validate_on_submit():
            if _throttled(current_user.username):
                return render_template("auth/account.html", password_form=password_form, prefs_form=prefs_form), 429
            if authenticate(current_user.username, password_form.current.data, request.remote_addr or "") is None:
                password_form.current.errors.append(_("当前密码不正确"))
            else:
                current_user.set_password(password_form.new.data)  # ends the user's other sessions
                record("user", current_user.id, None, "update", {"password": [None, "已修改"]})  # never the hash
                db.session.commit()
                login_user(current_user._get_current_object())  # keep this session, new session version
                flash(_("密码已修改，其他设备上的登录已失效。"), "success")
                return redirect(url_for("auth.account"))
    elif request.method == "POST" and prefs_form.validate_on_submit():
        current_user.locale = prefs_form.locale.data
        db.session.commit()
        with force_locale(current_user.locale):  # read after the redirect, in the language just chosen
            flash(_("已保存。"), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", password_form=password_form, prefs_form=prefs_form)
