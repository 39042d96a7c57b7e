"""Database backup and restore: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(url.database)


def _pg_args(url: URL) -> list[str]:
    """libpq connection options; the password goes through PGPASSWORD, never the command line."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return args


def _run(cmd: list[str], url: URL) -> None:
    tool = shutil.which(cmd[0])
    if tool is None:
        raise BackupError(f"找不到 {cmd[0]}：请安装 PostgreSQL 客户端（postgresql-client）")
    env = {"PGPASSWORD": url.password} if url.password else {}
    result = subprocess.run([tool, *cmd[1:]], capture_output=True, text=True, env={**os.environ, **env})
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} 失败：{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")


def backup(database_url: str, target: str | Path) -> Path:
    """Write a consistent copy of the live database to `target` (safe while Ladder runs)."""
    url, target = make_url(database_url), Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if url.get_backend_name() == "sqlite":
            with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(target) as dest:
                source.backup(dest)
            return target
    except (OSError, sqlite3.Error) as exc:  # a folder that cannot be made, a file that cannot be written, a lock
        raise BackupError(f"无法备份到 {target}：{getattr(exc, 'strerror', None) or exc}") from exc
    if url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *_pg_args(url)], url)
        return target
    raise BackupError(f"不支持的数据库：{url.get_backend_name()}")


def restore(database_url: str, source: str | Path) -> None:
    """Replace the database's contents with the backup at `source`."""
    url, source = make_url(database_url), Path(source)
    if not source.is_file():
        raise BackupError(f"备份文件不存在：{source}")
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(source) as src, sqlite3.connect(_sqlite_path(url)) as dest:
            src.backup(dest)
        return
    if url.get_backend_name() == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(url), str(source)], url)
        return
    raise BackupError(f"不支持的数据库：{url.get_backend_name()}")
