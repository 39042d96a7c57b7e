"""CLI contract (INTERFACES.md): users create, demo seed; exit codes and one-line errors."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Certification, Company, User


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


def test_users_create_errors_exit_non_zero_with_one_line(runner):
    runner.invoke(args=["users", "create", "dup", "--role", "admin", "--email", "d@x.cn", "--password", "long-enough-1"])
    for args, reason in [
        (["users", "create", "dup", "--role", "admin", "--email", "d@x.cn", "--password", "long-enough-1"], "已存在"),
        (["users", "create", "x", "--role", "officer", "--email", "d@x.cn", "--password", "short"], "至少 8 位"),
        (["users", "create", "y", "--role", "officer", "--email", "d@x.cn", "--password", "long-enough-1", "--area", "火星"], "未知区域"),
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


def test_users_create_takes_several_areas_after_one_flag(runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "viewer", "--email", "w@x.cn", "--password",
                                 "long-enough-1", "--area", "511702", "511725", "达州东部经开区"])
    assert result.exit_code == 0, result.output
    assert sorted(a.name for a in db.session.scalar(select(User)).areas) == ["渠县", "达州东部经开区", "通川区"]
