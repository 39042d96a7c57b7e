"""Ladder: a CRM for the 达州市科学技术局's high-tech and tech-SME campaigns."""
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, render_template, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ConfigError, config_from_env
from crm.extensions import babel, cache, csrf, db, login_manager, migrate
from crm.i18n import N_
from crm.logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent

# CSP without outside sources: government intranets have no internet, and nothing may load from one.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(config_class: type[Config] | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.from_object(config_class or config_from_env())
    if not app.config.get("SECRET_KEY"):
        raise ConfigError("生产环境必须设置 SECRET_KEY（会话签名密钥）")
    check_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        ZoneInfo(app.config["LADDER_TIMEZONE"])
    except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        raise ConfigError(f"LADDER_TIMEZONE 不是有效的时区：“{app.config['LADDER_TIMEZONE']}”（如 Asia/Shanghai）") from None
    Path(app.instance_path).mkdir(exist_ok=True)
    if app.config["LADDER_PROXIES"]:
        # The client's address and scheme as the proxies in front pass them on (login throttling, request logs,
        # external URLs); only the last LADDER_PROXIES hops are believed, so a client cannot make up its address.
        proxies = app.config["LADDER_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite as an embedded production database: WAL, enforced foreign keys, wait on locks."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def _select_locale() -> str | None:
    """The signed-in user's preference, else the language picked on the login page; None (the default,
    Chinese) outside a request, so the CLI and scheduled jobs speak Chinese."""
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return session.get("lang") if session.get("lang") in languages else "zh"


def register_extensions(app: Flask) -> None:
    import crm.audit  # noqa: F401  (registers the audit listeners)
    import crm.figures_cache  # noqa: F401  (registers the data-version listeners)
    import crm.ladder.standing  # noqa: F401  (registers the validity-window listener)
    import crm.models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        from crm.auth.service import session_user

        return session_user(user_id)


def check_database_url(url: str) -> None:
    """Ladder runs on SQLite and PostgreSQL (psycopg 3): any other DATABASE_URL is one line, not a traceback from
    deep inside SQLAlchemy when the first command or page opens the database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expected = "DATABASE_URL 应为 sqlite:///文件路径 或 postgresql://用户@主机/数据库"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{expected}，实际的值无法识别") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{expected}，实际为“{shown}”")
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        raise ConfigError(f"{expected}（PostgreSQL 用已安装的 psycopg 驱动），“{shown}”的驱动未安装") from None


def capability_modules(name: str):
    """Each capability package's `name` module (routes, cli), in a stable order."""
    import importlib
    import pkgutil

    import crm

    for info in sorted(pkgutil.iter_modules(crm.__path__), key=lambda i: i.name):
        if info.ispkg and importlib.util.find_spec(f"crm.{info.name}.{name}") is not None:
            yield importlib.import_module(f"crm.{info.name}.{name}")


def register_blueprints(app: Flask) -> None:
    """Every capability package with a routes.py contributes its blueprint `bp`."""
    for module in capability_modules("routes"):
        app.register_blueprint(module.bp)

    @app.before_request
    def require_login():
        """Every page needs login except login itself and static files."""
        from flask import flash, redirect, url_for
        from flask_babel import gettext

        from crm.auth.routes import PUBLIC_ENDPOINTS
        from crm.auth.service import safe_next

        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if current_user.is_authenticated:
            return None
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if request.endpoint == "auth.logout":  # signed out already: nothing was being saved
            return redirect(url_for("auth.login"))
        # A form sent after the sign-in expired was not saved: said so, and the way back is the page the form was
        # on (the address it was sent to takes only POST).
        flash(gettext("登录已过期，刚才提交的内容没有保存：请重新登录后再填写一次。"), "error")
        return redirect(url_for("auth.login", next=safe_next(request.referrer)))


ERROR_MESSAGES = {
    400: N_("请求无效，请返回重试。"), 403: N_("您没有权限进行此操作。"), 404: N_("页面不存在，或您无权查看。"),
    405: N_("不支持此操作方式。"), 413: N_("上传的文件太大。"), 500: N_("服务器出错了，已记录，请稍后再试。"),
}


def wants_json() -> bool:
    """The request comes from a page's script asking for JSON (the board's moves), not from a form."""
    return request.accept_mimetypes.best == "application/json"


def error_response(code: int, message: str | None = None):
    """The error page, or {"ok": false, "error": …} for a script that asked for JSON."""
    from flask import jsonify
    from flask_babel import gettext

    message = message or gettext(ERROR_MESSAGES.get(code, N_("出错了。")))
    if wants_json():
        return jsonify(ok=False, error=message), code
    return render_template("errors/error.html", code=code, message=message), code


def register_errorhandlers(app: Flask) -> None:
    from flask_babel import gettext
    from flask_wtf.csrf import CSRFError

    def handler(error):
        code = getattr(error, "code", 500)
        if code == 500:
            db.session.rollback()
        return error_response(code)

    def expired_form(_error):
        """The form's CSRF token is missing or out of date: most often a page left open past the session. Reloading
        this answer would post the same stale form again, so a form's reader is told what to do instead."""
        if wants_json():  # the board's script: a reload of the board gives a fresh token
            return error_response(400, gettext("页面已过期，请刷新后再试。"))
        return error_response(400, gettext("页面已过期（打开太久或已退出登录），刚才提交的内容没有保存。"
                                           "请返回上一页，复制已填写的内容后刷新该页，再重新提交。"))

    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, handler)
    app.register_error_handler(CSRFError, expired_form)

    def out_of_range(_error):
        """A number in the URL too large for the database (?page=99999999999999999999): a bad request, not a crash."""
        db.session.rollback()
        return error_response(400)

    # SQLite refuses to bind the integer (OverflowError); PostgreSQL reports it (DataError).
    for error in (OverflowError, DataError):
        app.register_error_handler(error, out_of_range)

    @app.before_request
    def refuse_nul_characters():
        """Nothing anyone types holds a NUL character, and PostgreSQL cannot store one (SQLite would): a value
        pasted from a broken source is refused, quoted (never a password), before anything is written or looked up."""
        for source in (request.args, request.form):
            for key, value in source.items(multi=True):
                if "\x00" in key or "\x00" in value:  # the text typed names the field better than its key
                    typed = (value if "\x00" in value else key).replace("\x00", "")
                    if "password" in key or not typed.strip():  # a password is never shown back
                        return error_response(400, gettext("提交的内容中含有不可见的空字符（NUL），没有保存：请返回删去后重新提交。"))
                    return error_response(400, gettext("“%(text)s”中含有不可见的空字符（NUL），没有保存：请返回删去后重新提交。",
                                                       text=typed[:30] + ("…" if len(typed) > 30 else "")))
        return None


def register_commands(app: Flask) -> None:
    from crm.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from crm import clock
    from crm.audit import source_label
    from crm.i18n import bound_gettext, translate, translated
    from crm.ladder.standing import KIND_LABELS, RUNG_LABELS
    from crm.navigation import nav_items, page_url, url_template

    app.jinja_env.globals.update(
        today=clock.today, local_time=clock.local, KIND_LABELS=translated(KIND_LABELS),
        RUNG_LABELS=translated(RUNG_LABELS),
        nav_items=nav_items, page_url=page_url, url_template=url_template, get_locale=get_locale,
        source_label=source_label,
    )
    app.jinja_env.filters["translate"] = translate
    app.context_processor(bound_gettext)
