"""On PostgreSQL: no demo seeding, admin commands provision access, standalone workers apply."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from psycopg import sql

from .support import Demo, Launcher, all_users, audiences_path, wait_settled

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_launcher(postgres_url: str, tmp_path: Path) -> Iterator[Launcher]:
    """A launcher on a fresh schema of the test database, dropped afterwards."""
    schema = f"acceptance_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    parts = urlsplit(postgres_url)
    query = [*parse_qsl(parts.query), ("options", f"-c search_path={schema}")]
    url = parts._replace(query=urlencode(query, quote_via=quote)).geturl()
    launcher = Launcher(tmp_path, url)
    try:
        yield launcher
    finally:
        launcher.kill_all()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_serve_and_two_workers_on_postgresql(postgres_launcher: Launcher) -> None:
    """serve seeds nothing; keys made with the CLI work; two workers share the queue."""
    launcher = postgres_launcher
    server = launcher.serve()
    assert "token" not in server.stdout
    account = launcher.admin("accounts", "create", "--name", "pg", "--feature", "custom-audiences")
    app = launcher.admin("apps", "create", "--account", account["id"], "--name", "pg")
    key = launcher.admin("api-keys", "create", "--app", app["id"], "--name", "pg")
    demo = Demo(app["id"], key["token"], "")
    workers = [launcher.worker(), launcher.worker()]

    with server.client(demo.token) as client:
        vendors = [f"pg-{n}" for n in range(4)]
        for n, vendor_id in enumerate(vendors):
            created = client.post(
                audiences_path(demo.app_id),
                json={"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}},
            )
            assert created.status_code == 201, created.text
            ids = [f"{vendor_id}-{i:05d}" for i in range(5_000 * (n + 1))]
            users_path = audiences_path(demo.app_id, f"/{vendor_id}/users")
            added = client.post(users_path, json={"add": ids})
            assert added.status_code == 202, added.text
        for n, vendor_id in enumerate(vendors):
            path = audiences_path(demo.app_id, f"/{vendor_id}")
            assert wait_settled(client, path)["user_count"] == 5_000 * (n + 1)
            users = list(all_users(client, path + "/users"))
            assert users == [f"{vendor_id}-{i:05d}" for i in range(5_000 * (n + 1))]

    for worker in workers:
        worker.signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait() == 0
        assert "Traceback" not in worker.stderr
