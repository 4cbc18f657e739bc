"""db upgrade, database URL errors, --help and ``python -m custom_audiences``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from custom_audiences.cli import build_app

from .support import Cli, assert_one_line_error


def test_db_upgrade_creates_the_schema_and_is_repeatable(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    """db upgrade creates the database file and can run again."""
    assert cli.json("db", "upgrade") == {"upgraded": True}
    assert (tmp_path / "cli.db").exists()
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    assert result.stdout == "Database schema is up to date.\n"


@pytest.mark.parametrize(
    "bad_url",
    [
        "mysql://root@127.0.0.1/audiences",
        "postgresql://postgres:s3cret@127.0.0.1:1/nowhere",
        "sqlite:////proc/no-such-dir/x.db",
    ],
)
def test_bad_database_url_is_a_one_line_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, bad_url: str
) -> None:
    """An unsupported, unreachable or unopenable database fails on one line, password hidden."""
    monkeypatch.setenv("CUSTOM_AUDIENCES_DATABASE_URL", bad_url)
    result = cli("accounts", "create", "--name", "A", "--json")
    assert_one_line_error(result, "database")
    assert "s3cret" not in result.stderr


def test_help_lists_every_command() -> None:
    """--help names the server, the worker and every admin group."""
    result = Cli()("--help")
    assert result.exit_code == 0
    for name in ("serve", "worker", "db", "accounts", "features", "apps", "api-keys"):
        assert name in result.stdout


def test_help_does_not_import_the_web_stack_or_the_database() -> None:
    """--help stays fast: uvicorn, litestar and sqlalchemy are only imported by commands."""
    code = (
        "import sys\n"
        "from custom_audiences.cli import main\n"
        "sys.argv = ['custom-audiences', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'uvicorn', 'litestar', 'sqlalchemy', 'alembic', 'psycopg'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    """python -m custom_audiences is the console script."""
    env = {**os.environ, "CUSTOM_AUDIENCES_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "custom_audiences", "db", "upgrade", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"upgraded": true}\n'


def test_sync_command_is_registered() -> None:
    """The sync command is part of the command tree."""
    assert "sync" in {command.name for command in build_app().registered_commands}
