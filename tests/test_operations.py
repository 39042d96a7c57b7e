"""Operations: health endpoint, backup and restore (issue 8 §4)."""
from sqlalchemy import func, select

from config import TestingConfig
from crm import create_app
from crm.extensions import db
from crm.models import Company


def test_healthz_200_with_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_healthz_503_without_a_database(tmp_path):
    missing = f"sqlite:///{tmp_path / 'no-such-dir' / 'ladder.sqlite'}"
    app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": missing}))
    assert app.test_client().get("/healthz").status_code == 503


def test_a_backup_to_a_place_that_cannot_be_written_is_one_line_not_a_traceback(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(args=["db", "backup", str(blocker / "ladder.backup")])  # its folder would be a file
    assert result.exit_code == 1 and "无法备份到" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_backup_and_restore_round_trip(make, runner, tmp_path):
    kept = make.company(name="备份前的企业有限公司")
    target = tmp_path / "ladder.backup"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    make.company(name="备份后新增的企业有限公司")
    db.session.delete(db.session.get(Company, kept.id))
    db.session.commit()
    db.session.remove()

    assert runner.invoke(args=["db", "restore", str(target)]).exit_code != 0  # needs --yes
    result = runner.invoke(args=["db", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    names = set(db.session.scalars(select(Company.name)))
    assert names == {"备份前的企业有限公司"}
    assert db.session.scalar(select(func.count()).select_from(Company)) == 1


def test_restore_of_a_missing_file_fails_with_one_line(runner, tmp_path):
    result = runner.invoke(args=["db", "restore", str(tmp_path / "nope.backup"), "--yes"])
    assert result.exit_code != 0 and "备份文件不存在" in result.output


def test_json_logs_one_object_per_request(app, database_url, capsys):
    import json

    json_app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, "LOG_FORMAT": "json"}))
    json_app.test_client().get("/healthz")
    line = [entry for entry in capsys.readouterr().err.splitlines() if entry.startswith("{")][-1]
    entry = json.loads(line)
    assert entry["path"] == "/healthz" and entry["status"] == 200 and entry["message"] == "request"
