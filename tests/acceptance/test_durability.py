"""Accepted mutations survive SIGKILL and SIGTERM; a standalone worker applies and stops cleanly."""

from __future__ import annotations

import signal
import sqlite3
from typing import Any

import httpx
import msgspec

from .support import Demo, Launcher, all_users, audiences_path, read_demo, wait_settled

LARGE = 500_000


def distinct_ids(count: int, prefix: str) -> list[str]:
    """Unsorted, distinct identifiers (multiplying by an odd constant permutes mod 2**40)."""
    return [f"{prefix}{(i * 2654435761) % 2**40:010x}" for i in range(count)]


def create_audience(client: httpx.Client, demo: Demo, vendor_id: str) -> str:
    response = client.post(
        audiences_path(demo.app_id),
        json={"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}},
    )
    assert response.status_code == 201, response.text
    return audiences_path(demo.app_id, f"/{vendor_id}")


def post_add(client: httpx.Client, path: str, ids: list[str]) -> httpx.Response:
    body = msgspec.json.encode({"add": ids})
    return client.post(path + "/users", content=body, headers={"Content-Type": "application/json"})


def assert_applied_once(client: httpx.Client, path: str, ids: list[str]) -> dict[str, Any]:
    audience = wait_settled(client, path)
    assert audience["status"] == "ready"
    assert audience["user_count"] == len(ids)
    assert audience["last_job_result"] == {
        "processed_count": len(ids),
        "skipped_count": 0,
        "error_count": 0,
    }
    assert list(all_users(client, path + "/users")) == sorted(ids)
    return audience


def job_states(launcher: Launcher) -> list[str]:
    path = launcher.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM jobs ORDER BY id")]


def test_sigkill_right_after_202_loses_nothing_and_applies_once(launcher: Launcher) -> None:
    """A ~8 MB add killed at its 202 is applied exactly once after restart, membership exact."""
    server = launcher.serve()
    demo = read_demo(server.stdout)
    ids = distinct_ids(LARGE, "k")
    with server.client(demo.token) as client:
        path = create_audience(client, demo, "killed")
        accepted = post_add(client, path, ids)
        server.kill()  # SIGKILL the moment the 202 is in hand
    assert accepted.status_code == 202, accepted.text
    assert int(accepted.request.headers["Content-Length"]) > 7_000_000

    restarted = launcher.serve()
    with restarted.client(demo.token) as client:
        assert_applied_once(client, path, ids)
    assert job_states(launcher) == ["done"]


def test_sigterm_stops_cleanly_without_losing_an_accepted_job(launcher: Launcher) -> None:
    """SIGTERM right after a 202: exit status 0, no traceback, the job completes after restart."""
    server = launcher.serve()
    demo = read_demo(server.stdout)
    ids = distinct_ids(200_000, "t")
    with server.client(demo.token) as client:
        path = create_audience(client, demo, "terminated")
        accepted = post_add(client, path, ids)
        server.signal(signal.SIGTERM)
    assert accepted.status_code == 202, accepted.text
    assert server.wait() == 0
    assert "Traceback" not in server.stderr

    restarted = launcher.serve()
    with restarted.client(demo.token) as client:
        assert_applied_once(client, path, ids)
    assert job_states(launcher) == ["done"]


def test_standalone_worker_applies_jobs_and_stops_on_sigint(launcher: Launcher) -> None:
    """With the embedded worker off, `worker` applies accepted jobs and exits 0 on SIGINT."""
    server = launcher.serve(CUSTOM_AUDIENCES_EMBEDDED_WORKER="0")
    demo = read_demo(server.stdout)
    ids = ["b", "a", "c"]
    with server.client(demo.token) as client:
        path = create_audience(client, demo, "standalone")
        assert post_add(client, path, ids).status_code == 202
        worker = launcher.worker()
        assert_applied_once(client, path, ids)
    worker.signal(signal.SIGINT)
    assert worker.wait() == 0
    assert "Traceback" not in worker.stderr
