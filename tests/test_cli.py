"""CLI contract (INTERFACES.md): users create, demo seed; exit codes and one-line errors."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Certification, Company, User

ROOT = Path(__file__).resolve().parent.parent


def test_users_create_with_areas(runner):
    result = runner.invoke(args=["users", "create", "zhang", "--role", "officer", "--email", "z@kjj.dazhou.local",
                                 "--password", "long-enough-1", "--area", "511702", "--area", "达州高新区"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "zhang"))
    assert sorted(a.name for a in user.areas) == ["达州高新区", "通川区"]
    assert user.check_password("long-enough-1")


def test_users_create_old_district_code_means_dachuan(runner):
    runner.invoke(args=["users", "create", "li", "--role", "viewer", "--email", "l@x.cn", "--password", "long-enough-1",
                        "--area", "511721"])
    assert [a.name for a in db.session.scalar(select(User)).areas] == ["达川区"]


def test_users_create_with_one_district_named_twice_gives_it_once(runner):
    result = runner.invoke(args=["users", "create", "k6", "--role", "viewer", "--email", "k6@x.cn", "--password",
                                 "long-enough-1", "--area", "511703", "--area", "511721", "--area", "达川区"])
    assert result.exit_code == 0, result.output
    assert [a.name for a in db.session.scalar(select(User)).areas] == ["达川区"]


def test_usage_errors_are_one_line_on_stderr(runner, tmp_path):
    """INTERFACES.md: every failure is non-zero with a one-line reason — click's own usage errors too."""
    for args, reason in [
        (["shortlist", "export", "--kind", "foo", "--year", "2024", "--out", str(tmp_path / "x.csv")], "--kind"),
        (["companies", "import", str(tmp_path / "nonexistent.xlsx")], "nonexistent.xlsx"),
        (["users", "create", "dave", "--role", "boss", "--email", "d@x.cn", "--password", "long-enough-1"], "--role"),
        (["targets", "set", "--year", "2023", "--metric", "hnte_valid", "--value", "1.5"], "--value"),
        (["rounds", "create", "--kind", "hnte"], "--year"),
        (["db", "backup"], "PATH"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert len(result.stderr.strip().splitlines()) == 1 and reason in result.stderr, (args, result.stderr)


def test_users_create_errors_exit_non_zero_with_one_line(runner):
    runner.invoke(args=["users", "create", "dup", "--role", "admin", "--email", "d@x.cn", "--password", "long-enough-1"])
    for args, reason in [
        (["users", "create", "dup", "--role", "admin", "--email", "d@x.cn", "--password", "long-enough-1"], "已存在"),
        (["users", "create", "x", "--role", "officer", "--email", "d@x.cn", "--password", "short"], "至少 8 位"),
        (["users", "create", "y", "--role", "officer", "--email", "d@x.cn", "--password", "long-enough-1", "--area", "火星"], "未知区域"),
        (["users", "create", "z", "--role", "officer", "--email", "bad", "--password", "long-enough-1"], "邮箱格式不正确"),
        (["users", "create", "王 五", "--role", "officer", "--email", "w@x.cn", "--password", "long-enough-1"], "空格"),
        (["users", "create", "w" * 65, "--role", "officer", "--email", "w@x.cn", "--password", "long-enough-1"],
         "不能超过 64 个字符"),  # PostgreSQL would refuse it, SQLite would store it: refused alike
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and reason in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_demo_seed_is_realistic_and_idempotent(runner):
    result = runner.invoke(args=["demo", "seed", "--companies", "60"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 60
    districts = db.session.scalar(select(func.count(func.distinct(Company.district_id))))
    assert districts == 7
    kinds = set(db.session.scalars(select(Certification.kind).distinct()))
    assert {"tech_sme", "hnte"} <= kinds
    roles = sorted(db.session.scalars(select(User.role)))
    assert roles.count("officer") == 4 and roles.count("admin") == 1 and roles.count("viewer") == 1
    again = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in again.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 60


def test_demo_seed_after_an_operator_made_the_admin_and_a_round_uses_them(runner):
    from crm.clock import today
    from crm.models import Application, Round

    year = today().year
    assert runner.invoke(args=["users", "create", "Admin", "--role", "admin", "--email", "a@x.cn", "--password",
                               "long-enough-1"]).exit_code == 0
    assert runner.invoke(args=["rounds", "create", "--kind", "tech_sme", "--year", str(year), "--name",
                               f"{year}年科技型中小企业评价", "--opens", f"{year}-06-30", "--closes", f"{year}-09-30"]
                         ).exit_code == 0
    result = runner.invoke(args=["demo", "seed", "--companies", "60"])
    assert result.exit_code == 0, result.output
    assert "log in as Admin (the password it was created with)" in result.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) == 1
    assert db.session.scalar(select(func.count()).select_from(Round)) == 2
    assert db.session.scalar(select(func.count()).select_from(Application))


def test_demo_seed_refused_halfway_writes_nothing_and_says_why_on_one_line(runner, monkeypatch):
    from crm.rounds import demo as rounds_demo
    from crm.rounds.service import RoundError

    def refused(rng):
        raise RoundError("批次不能创建")

    monkeypatch.setattr(rounds_demo, "seed", refused)
    result = runner.invoke(args=["demo", "seed", "--companies", "20"])
    assert result.exit_code == 1 and result.output.strip().splitlines() == ["Error: 演示数据未载入：批次不能创建"]
    assert db.session.scalar(select(func.count()).select_from(Company)) == 0  # a second run starts afresh
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_takes_several_areas_after_one_flag(runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "viewer", "--email", "w@x.cn", "--password",
                                 "long-enough-1", "--area", "511702", "511725", "达州东部经开区"])
    assert result.exit_code == 0, result.output
    assert sorted(a.name for a in db.session.scalar(select(User)).areas) == ["渠县", "达州东部经开区", "通川区"]


def test_a_database_without_the_schema_is_one_line_not_a_traceback(tmp_path):
    """As an operator meets it: a fresh SQLite file, `db upgrade` not run yet."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}", "LADDER_ENV": "development"}
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "targets", "progress", "--year", "2024",
                          "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and "db upgrade" in run.stderr and "no such table" in run.stderr
    (tmp_path / "notes.sqlite").write_text("not a database")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'notes.sqlite'}"
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "targets", "progress", "--year", "2024"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stderr.strip().splitlines() == ["Error: 数据库错误：file is not a database"]


def test_db_upgrade_on_an_unusable_database_is_one_line_not_a_traceback(tmp_path):
    """Flask-Migrate's own `db upgrade` keeps the contract too: a path that cannot be opened, a server not there."""
    for url in (f"sqlite:///{tmp_path / 'no-such-dir' / 'ladder.sqlite'}", "postgresql://postgres@127.0.0.1:1/x"):
        env = {**os.environ, "DATABASE_URL": url, "LADDER_ENV": "development"}
        run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 1, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("Error: 数据库不可用："), run.stderr


def test_a_postgresql_url_as_operators_write_it_gets_the_installed_driver():
    from config import with_driver

    assert with_driver("postgresql://u:p@db:5432/ladder") == "postgresql+psycopg://u:p@db:5432/ladder"
    assert with_driver("postgres://db/ladder") == "postgresql+psycopg://db/ladder"
    assert with_driver("postgresql+psycopg://db/ladder") == "postgresql+psycopg://db/ladder"
    assert with_driver("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_empty_filters_and_days_are_mistakes_not_everything_or_today(runner, tmp_path, make):
    """An unset variable in a cron script: `--area ""` must not export the whole city."""
    out = str(tmp_path / "v.csv")
    for args, reason in [
        (["visits", "export", "--from", "2024-01-01", "--to", "2024-12-31", "--out", out, "--area", ""], "未知区域"),
        (["visits", "export", "--from", "2024-01-01", "--to", "2024-12-31", "--out", out, "--officer", ""], "未知用户"),
        (["reminders", "run", "--today", ""], "--today 不能为空"),
        (["reminders", "run", "--today", "0001-01-01"], "太早"),
        (["reminders", "run", "--today", "9999-12-31"], "太晚"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and reason in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1


def test_year_options_read_as_operators_type_them(runner):
    for year in ("2024", "２０２４", "2024年", "2024年度"):
        result = runner.invoke(args=["targets", "set", "--year", year, "--metric", "hnte_valid", "--value", "250"])
        assert result.exit_code == 0, (year, result.output)
    bad = runner.invoke(args=["targets", "progress", "--year", "1999", "--json"])
    assert bad.exit_code != 0 and len(bad.output.strip().splitlines()) == 1 and "2000" in bad.output


@pytest.mark.parametrize("setting, reason", [
    ({"LADDER_TIMEZONE": "Mars/Base"}, "LADDER_TIMEZONE 不是有效的时区"),
    ({"MAIL_PORT": "²"}, "MAIL_PORT 应为不小于 0 的整数"),
    ({"LADDER_SESSION_HOURS": "0"}, "LADDER_SESSION_HOURS 应为不小于 1 的整数"),
    ({"LADDER_ENV": "production", "SECRET_KEY": ""}, "生产环境必须设置 SECRET_KEY"),
    ({"LADDER_ENV": "prod"}, "LADDER_ENV 应为 development、testing、production 之一"),
    ({"DATABASE_URL": "postgres//ladder@db/ladder"}, "DATABASE_URL 应为 sqlite:///文件路径 或 postgresql://"),
    ({"DATABASE_URL": "mysql://ladder:secret@db/ladder"}, "实际为“mysql://ladder:***@db/ladder”"),  # never the password
    ({"DATABASE_URL": "postgresql+psycopg2://ladder@db/ladder"}, "的驱动未安装"),
])
def test_a_setting_ladder_cannot_run_with_is_one_line_not_a_traceback(tmp_path, setting, reason):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "LADDER_ENV": "development", **setting}
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "targets", "progress", "--year", "2024",
                          "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and run.stderr.startswith("配置错误：")
    assert reason in run.stderr and "secret" not in run.stderr
