"""serve and worker refuse bad configuration on one line, before showing any credentials."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from custom_audiences.store import open_store

from .support import Cli, assert_one_line_error

CLI = str(Path(sys.executable).with_name("custom-audiences"))


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOM_AUDIENCES_")}
    clean["CUSTOM_AUDIENCES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    return subprocess.run(
        [CLI, *args], env=clean | env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_serve_with_a_malformed_rate_limit_fails_before_seeding(tmp_path: Path) -> None:
    """A bad rate limit stops serve with one line, and no demo token is spent on it."""
    done = run_cli(tmp_path, "serve", "--port", "1", CUSTOM_AUDIENCES_RATE_LIMIT="lots")
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: invalid configuration: ")
    # Nothing was seeded, so the first good start will still show the credentials.
    store = open_store(f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        assert not store.has_accounts()
    finally:
        store.close()


def test_worker_with_an_unusable_database_fails_on_one_line(tmp_path: Path) -> None:
    """worker on an unsupported database URL exits non-zero with a single error line."""
    done = run_cli(tmp_path, "worker", CUSTOM_AUDIENCES_DATABASE_URL="mysql://x/y")
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: cannot open the database mysql://x/y")


def test_admin_command_with_a_malformed_setting_fails_on_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-numeric replace interval is reported as invalid configuration."""
    monkeypatch.setenv("CUSTOM_AUDIENCES_REPLACE_INTERVAL_SECONDS", "soon")
    assert_one_line_error(cli("accounts", "create", "--name", "A"), "invalid configuration")


def test_serve_on_a_busy_port_fails_before_seeding(tmp_path: Path) -> None:
    """When the port is taken serve exits non-zero and shows no credentials, so none are lost."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run_cli(tmp_path, "serve", "--port", port)
    assert done.returncode != 0
    assert "token" not in done.stdout
    assert "Address already in use" in done.stderr
    store = open_store(f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        assert not store.has_accounts()
    finally:
        store.close()


def test_worker_with_a_non_positive_lease_fails_on_one_line(tmp_path: Path) -> None:
    """--lease-seconds 0 is refused before the worker starts."""
    done = run_cli(tmp_path, "worker", "--lease-seconds", "0")
    assert done.returncode == 1
    assert done.stderr == "error: --lease-seconds must be a positive number of seconds\n"
