"""Configuration classes: the only place that reads the environment (see INTERFACES.md)."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


class ConfigError(SystemExit):
    """A setting Ladder cannot run with: the command or the web worker stops with this one line on stderr
    (INTERFACES.md), not a traceback."""

    def __init__(self, message: str):
        super().__init__(f"配置错误：{message}")


def _bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int, least: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or int(value) < least:
        raise ConfigError(f"{name} 应为不小于 {least} 的整数，实际为“{value}”")
    return int(value)


def with_driver(url: str) -> str:
    """postgres://… and postgresql://… as operators write them, with the driver Ladder installs (psycopg 3);
    SQLAlchemy would otherwise look for psycopg2."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = with_driver(os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'ladder.sqlite'}"
    ))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A sign-in lasts a working day, then the user signs in again (crm/auth/service.py).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("LADDER_SESSION_HOURS", 12, least=1))
    # How many proxies in front of the app set X-Forwarded-For/-Proto (1 behind deploy/nginx.conf); 0 trusts none.
    LADDER_PROXIES = _int("LADDER_PROXIES", 0)
    MAX_CONTENT_LENGTH = _int("LADDER_MAX_UPLOAD_MB", 20, least=1) * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # officers keep forms open for a whole visit
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("LADDER_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh": "中文", "en": "English"}
    LADDER_TIMEZONE = os.environ.get("LADDER_TIMEZONE", "Asia/Shanghai")
    LADDER_REMINDER_TIME = os.environ.get("LADDER_REMINDER_TIME", "08:30")
    LADDER_BASE_URL = os.environ.get("LADDER_BASE_URL", "http://127.0.0.1:5000")
    LOGIN_MAX_FAILURES = 5  # for one username from one address
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30  # for any usernames from one address (one password tried on many)
    LOGIN_WINDOW_MINUTES = 15
    PAGE_SIZE = 50
    LOG_FORMAT = os.environ.get("LADDER_LOG_FORMAT", "text")  # text | json
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "ladder@localhost")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # The dashboard's figures, shared by the web workers; entries go stale by data version (crm/figures_cache.py).
    CACHE_TYPE = "FileSystemCache"
    CACHE_DIR = str(BASE_DIR / "instance" / "cache")
    CACHE_DEFAULT_TIMEOUT = 600
    CACHE_THRESHOLD = 2000


class DevelopmentConfig(Config):
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = with_driver(os.environ.get("DATABASE_URL", "sqlite://"))
    LOGIN_MAX_FAILURES = 5
    CACHE_TYPE = "SimpleCache"  # per process: parallel test runs must not share entries


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    LOG_FORMAT = os.environ.get("LADDER_LOG_FORMAT", "json")


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_from_env() -> type[Config]:
    name = os.environ.get("LADDER_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"LADDER_ENV 应为 {'、'.join(CONFIGS)} 之一，实际为“{name}”")
    return CONFIGS[name]
