"""Faults: the database fills up, turns read-only or goes away; SIGTERM arrives under load.

Whatever the fault, a request gets an answer, and a failing one is 503 SERVICE_UNAVAILABLE
in the error envelope (never a 500, never internals); every accepted mutation is applied,
once, when the database is back.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from .crashing import open_connection, read_status
from .fault_tools import ext4_image, fill, small_tmpfs, throwaway_cluster, wait_for
from .support import Demo, Launcher, Server, all_users, audiences_path, read_demo, wait_settled
from .test_durability import assert_applied_once, create_audience, distinct_ids, post_add

#: Short leases and polls, so that recoveries take seconds; no worker inside serve.
FAST = {
    "CUSTOM_AUDIENCES_WORKER_LEASE_SECONDS": "2",
    "CUSTOM_AUDIENCES_WORKER_POLL_SECONDS": "0.2",
    "CUSTOM_AUDIENCES_EMBEDDED_WORKER": "0",
}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"].isdigit()
    # Nothing internal: no driver, engine, path or exception text.
    for word in ("sqlite", "postgres", "psycopg", "audiences.db", "error:", "traceback"):
        assert word not in response.text.lower(), response.text


def assert_served_or_unavailable(response: httpx.Response) -> None:
    if response.status_code != 200:
        assert_unavailable(response)


def sqlite_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read without writing anything (no checkpoint either)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return connection.execute(sql).fetchall()


def integrity(database: Path) -> list[tuple[Any, ...]]:
    return sqlite_rows(database, "PRAGMA integrity_check")


def job_state(database: Path) -> str | None:
    rows = sqlite_rows(database, "SELECT state FROM jobs ORDER BY id DESC LIMIT 1")
    return str(rows[0][0]) if rows else None


@pytest.fixture
def disk_launcher(tmp_path: Path) -> Iterator[Launcher]:
    """Processes on a database in a 64 MiB tmpfs, killed before it is unmounted."""
    with small_tmpfs(tmp_path / "disk", "64m") as disk:
        launcher = Launcher(tmp_path, f"sqlite:///{disk / 'audiences.db'}", dict(FAST))
        try:
            yield launcher
        finally:
            launcher.kill_all()


def test_a_full_disk_answers_503_and_the_job_in_hand_finishes_once_space_is_back(
    disk_launcher: Launcher,
) -> None:
    """Disk full: a large add is 503; an accepted add waits, job in hand, and then completes."""
    launcher = disk_launcher
    database = Path(launcher.database_url.removeprefix("sqlite:///"))
    disk = database.parent
    server = launcher.serve()
    demo = read_demo(server.stdout)
    ids = distinct_ids(300_000, "f")
    with server.client(demo.token) as client:
        accepted = create_audience(client, demo, "full-a")
        refused = create_audience(client, demo, "full-b")
        # The request path: a ~10 MB add that cannot be recorded.
        filler = fill(disk, leave=64 * 1024)
        assert_unavailable(post_add(client, refused, distinct_ids(700_000, "g")))
        assert client.get(refused).json()["custom_audience"]["status"] == "ready"
        assert_served_or_unavailable(client.get("/healthz"))
        filler.unlink()

        # The apply path: freeze the worker between claiming the job and writing its
        # members, fill the disk, and let it go on: the apply runs out of space.
        assert post_add(client, accepted, ids).status_code == 202
        worker = launcher.worker()
        wait_for(lambda: job_state(database) == "running", "the job to be claimed")
        worker.signal(signal.SIGSTOP)
        assert job_state(database) == "running"
        filler = fill(disk, leave=64 * 1024)
        worker.signal(signal.SIGCONT)
        wait_for(lambda: "worker.apply_store_unavailable" in worker.stderr, "a failed apply")
        assert "disk is full" in worker.stderr
        assert client.get(accepted).json()["custom_audience"]["status"] == "processing"

        filler.unlink()
        assert_applied_once(client, accepted, ids)
        assert client.get(refused).json()["custom_audience"]["user_count"] == 0
        assert post_add(client, refused, ["after"]).status_code == 202
        assert wait_settled(client, refused)["user_count"] == 1
    assert "worker.job_failed" not in worker.stderr
    assert "api.internal_error" not in server.stderr
    assert integrity(database) == [("ok",)]


def test_a_filesystem_turned_read_only_answers_503_and_loses_no_accepted_job(
    tmp_path: Path,
) -> None:
    """Read-only (forced by the kernel): writes 503, reads 200 or 503; after repair, all there."""
    with ext4_image(tmp_path / "ro") as fs:
        database = fs.mountpoint / "audiences.db"
        launcher = Launcher(tmp_path, f"sqlite:///{database}", dict(FAST))
        try:
            server = launcher.serve()
            demo = read_demo(server.stdout)
            ids = distinct_ids(50_000, "r")
            with server.client(demo.token) as client:
                accepted = create_audience(client, demo, "ro-a")
                refused = create_audience(client, demo, "ro-b")
                assert post_add(client, accepted, ids).status_code == 202
                fs.force_read_only()
                assert_unavailable(post_add(client, refused, ["x"]))
                assert_unavailable(client.delete(refused + "/users/clear"))
                body = {"custom_audience": {"vendor_id": "ro-c", "name": "c"}}
                assert_unavailable(client.post(audiences_path(demo.app_id), json=body))
                for path in (accepted, accepted + "/users", audiences_path(demo.app_id)):
                    assert_served_or_unavailable(client.get(path))
                assert_served_or_unavailable(client.get("/healthz"))
            # A worker started now waits for the database, and stops cleanly.
            worker = launcher.worker()
            wait_for(lambda: "readonly database" in worker.stderr, "the worker to back off")
            for process in (worker, server):
                process.signal(signal.SIGTERM)
                assert process.wait() == 0
                assert "Traceback" not in process.stderr
            assert "api.internal_error" not in server.stderr

            fs.repair()
            server = launcher.serve(CUSTOM_AUDIENCES_EMBEDDED_WORKER="1")
            with server.client(demo.token) as client:
                assert_applied_once(client, accepted, ids)
                assert client.get(refused).json()["custom_audience"]["last_job_result"] is None
            server.kill()
            assert integrity(database) == [("ok",)]
        finally:
            launcher.kill_all()


def pg_job_state(url: str) -> str | None:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT state FROM jobs ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def provision(launcher: Launcher) -> Demo:
    account = launcher.admin("accounts", "create", "--name", "f", "--feature", "custom-audiences")
    app = launcher.admin("apps", "create", "--account", account["id"], "--name", "f")
    key = launcher.admin("api-keys", "create", "--app", app["id"], "--name", "f")
    return Demo(app["id"], key["token"], "")


@pytest.mark.postgres
def test_postgres_stopped_and_started_again(tmp_path: Path) -> None:
    """PG down: 503s, the apply in flight waits; PG back: no stale connection, the job completes."""
    with throwaway_cluster() as cluster:
        launcher = Launcher(tmp_path, cluster.url, dict(FAST))
        try:
            demo = provision(launcher)
            server = launcher.serve()
            worker = launcher.worker()
            ids = distinct_ids(300_000, "p")
            with server.client(demo.token) as client:
                accepted = create_audience(client, demo, "pg-a")
                other = create_audience(client, demo, "pg-b")
                # Fill the server's pool with connections that the outage will break.
                with ThreadPoolExecutor(16) as pool:
                    list(pool.map(lambda _: client.get(other + "/users").status_code, range(64)))
                assert post_add(client, accepted, ids).status_code == 202
                wait_for(lambda: pg_job_state(cluster.url) == "running", "the job to start")
                cluster.stop()
                for response in (
                    client.get(accepted),
                    post_add(client, other, ["x"]),
                    client.get("/healthz"),
                ):
                    assert_unavailable(response)
                wait_for(lambda: "apply_store_unavailable" in worker.stderr, "a failed apply")

                cluster.start()
                # Every request succeeds at once: no stale pooled connection is handed out.
                statuses = Counter(client.get(other).status_code for _ in range(30))
                assert statuses == {200: 30}, statuses
                assert_applied_once(client, accepted, ids)
                assert client.get(other).json()["custom_audience"]["user_count"] == 0
            assert "worker.job_failed" not in worker.stderr
            assert "api.internal_error" not in server.stderr
        finally:
            launcher.kill_all()


def half_sent_mutations(server: Server, demo: Demo, paths: list[str]) -> list[tuple[Any, bytes]]:
    """Open one request per audience and send its head and half its body."""
    started = []
    for n, path in enumerate(paths):
        body = ('{"add": ["' + '", "'.join(distinct_ids(50_000, f"s{n}-")) + '"]}').encode()
        head = (
            f"POST {path}/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {demo.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock = open_connection(server.base_url)
        sock.sendall(head + body[: len(body) // 2])
        started.append((sock, body[len(body) // 2 :]))
    return started


def test_sigterm_under_load_completes_requests_in_flight(launcher: Launcher) -> None:
    """SIGTERM with requests half-uploaded and others streaming: all those in flight get
    their answer, exit 0, and every 202 is applied after restart."""
    server = launcher.serve(CUSTOM_AUDIENCES_EMBEDDED_WORKER="1")
    demo = read_demo(server.stdout)
    with server.client(demo.token) as client:
        paths = [create_audience(client, demo, f"term-{n}") for n in range(6)]
    stop = threading.Event()
    outcomes: Counter[int | str] = Counter()

    def reads() -> None:
        with server.client(demo.token) as reader:
            while not stop.is_set():
                try:
                    outcomes[reader.get(paths[0]).status_code] += 1
                except httpx.TransportError:
                    outcomes["refused"] += 1  # the listening socket is closed: expected

    readers = [threading.Thread(target=reads) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        in_flight = half_sent_mutations(server, demo, paths)
        server.signal(signal.SIGTERM)
        for sock, rest in in_flight:
            with closing(sock):
                sock.sendall(rest)
                assert read_status(sock)[0] == 202
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert server.wait() == 0
    assert set(outcomes) <= {200, "refused"}, outcomes
    assert outcomes[200] > 0
    assert "Traceback" not in server.stderr

    restarted = launcher.serve(CUSTOM_AUDIENCES_EMBEDDED_WORKER="1")
    with restarted.client(demo.token) as client:
        for n, path in enumerate(paths):
            assert wait_settled(client, path)["user_count"] == 50_000
            users = list(all_users(client, path + "/users"))
            assert users == sorted(distinct_ids(50_000, f"s{n}-"))
