"""Crash loops: processes SIGKILLed at random moments of random mutations, then restarted.

Each round sends a few mutations, SIGKILLs the server (on PostgreSQL, also or instead the
standalone worker) while the last one is being uploaded, answered or applied, and restarts
it on the same database. The next round first checks every audience against a model that
applies exactly the accepted mutations, once each and whole; a request that died before
its answer must be applied entirely or not at all, and the jobs table says which.

``CUSTOM_AUDIENCES_CRASH_ROUNDS`` (default 30), ``CUSTOM_AUDIENCES_CRASH_BIG_SHARE`` (the share
of near-10 MiB mutations, default 0.08) and ``CUSTOM_AUDIENCES_CRASH_SEED`` tune a run;
``make crash-loops`` is the long variant.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import pytest

from .crashing import REFUSED, Change, Workload, open_connection, read_status, request_bytes
from .crashing import AudienceModel as Model
from .support import Demo, Launcher, Process, Server, all_users, audiences_path, read_demo
from .support import wait_settled as settled

ROUNDS = int(os.environ.get("CUSTOM_AUDIENCES_CRASH_ROUNDS", "30"))
BIG_SHARE = float(os.environ.get("CUSTOM_AUDIENCES_CRASH_BIG_SHARE", "0.08"))
SEED = int(os.environ.get("CUSTOM_AUDIENCES_CRASH_SEED") or secrets.randbelow(2**32))
VENDORS = ("crash-a", "crash-b", "crash-c")
MOMENTS = ("mid_upload", "in_flight", "after_202", "mid_apply")
#: Short leases so that a job whose worker died is taken over within a second.
FAST_JOBS = {
    "CUSTOM_AUDIENCES_WORKER_LEASE_SECONDS": "1",
    "CUSTOM_AUDIENCES_WORKER_POLL_SECONDS": "0.2",
    "CUSTOM_AUDIENCES_REPLACE_INTERVAL_SECONDS": "4",
}
JOB_STATES = (
    "SELECT a.vendor_id, j.state, count(*) FROM jobs j JOIN audiences a ON a.pk = j.audience_pk"
    " GROUP BY a.vendor_id, j.state"
)
LATEST_JOB = "SELECT state FROM jobs ORDER BY id DESC LIMIT 1"
TIMEOUT = 120 + ROUNDS * 15

Query = Callable[[str], list[tuple[Any, ...]]]


class CrashLoop:
    """The model, the workload and the bookkeeping of one run; engines supply the processes."""

    def __init__(self, demo: Demo, query: Query) -> None:
        self.demo = demo
        self.query = query
        self.rng = random.Random(SEED)
        self.workload = Workload(self.rng, BIG_SHARE)
        self.models = {vendor: Model() for vendor in VENDORS}
        self.statuses: Counter[int | str] = Counter()
        self.moments: Counter[str] = Counter()

    def path(self, vendor_id: str) -> str:
        return audiences_path(self.demo.app_id, f"/{vendor_id}")

    def create_audiences(self, client: httpx.Client) -> None:
        for vendor_id in VENDORS:
            body = {"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}}
            response = client.post(audiences_path(self.demo.app_id), json=body)
            assert response.status_code == 201, response.text

    # -- checking ---------------------------------------------------------------------
    def check_all(self, client: httpx.Client, *, full: bool = False) -> None:
        """Every audience holds one of the states its model allows, and the jobs agree.

        Audiences nothing was sent to since the last check are only counted, unless ``full``.
        """
        for vendor_id in VENDORS:
            settled(client, self.path(vendor_id))
        jobs: dict[str, Counter[str]] = {vendor_id: Counter() for vendor_id in VENDORS}
        for vendor_id, state, count in self.query(JOB_STATES):
            jobs[vendor_id][state] += count
        for vendor_id in VENDORS:
            self._check(client, vendor_id, jobs[vendor_id], full)

    def _check(self, client: httpx.Client, vendor_id: str, jobs: Counter[str], full: bool) -> None:
        model = self.models[vendor_id]
        audience = settled(client, self.path(vendor_id))
        assert audience["status"] == "ready", (SEED, audience)
        assert set(jobs) <= {"done"}, (SEED, vendor_id, jobs)  # none failed, none pending
        untouched = not model.accepted and model.unsure is None
        if untouched and not full and jobs["done"] == model.applied_jobs:
            members = model.members
            assert audience["user_count"] == len(members), (SEED, vendor_id)
        else:
            members = frozenset(all_users(client, self.path(vendor_id) + "/users"))
        matching = [
            state
            for state in model.candidates()
            if state[0] == members and state[1] == jobs["done"]
        ]
        assert len(matching) == 1, (
            f"seed {SEED}: {vendor_id} holds {len(members)} members after {jobs['done']} jobs;"
            f" allowed: {[(len(m), n) for m, n, _ in model.candidates()]}"
        )
        assert audience["user_count"] == len(members), (SEED, vendor_id)
        if matching[0][2] is not None:
            assert audience["last_job_result"] == matching[0][2], (SEED, vendor_id)
        model.settle(matching[0])

    # -- sending ----------------------------------------------------------------------
    def next_change(
        self, *, vendor_id: str | None = None, at_least: int = 0, **size: bool
    ) -> Change:
        vendor_id = vendor_id or self.rng.choice(VENDORS)
        members = self.models[vendor_id].candidates()[0][0]
        count = max(at_least, self.workload.size(**size))
        return self.workload.change(vendor_id, members, count)

    def record(self, change: Change, status: int | None) -> None:
        """Book an answer: 202 must be applied, a refusal never, no answer either way."""
        self.statuses[status if status is not None else "none"] += 1
        model = self.models[change.vendor_id]
        if status == 202:
            assert change.kind != "invalid"
            model.accepted.append(change)
        elif status is None:
            if change.kind != "invalid":  # an invalid body is refused whatever happens
                model.unsure = change
        else:
            assert status in REFUSED, (SEED, status)
            assert change.kind != "invalid" or status == 422

    def send(self, client: httpx.Client, change: Change) -> int:
        response = client.request(
            change.method,
            self.path(change.vendor_id) + change.suffix,
            content=change.body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 202:
            assert response.json()["error"]["code"], response.text
        self.record(change, response.status_code)
        return response.status_code

    def background(self, client: httpx.Client, round_no: int) -> None:
        """Small mutations answered before the kill, with refusals provoked on purpose."""
        for _ in range(self.rng.randint(0, 2)):
            self.send(client, self.next_change(small_only=True))
        vendor_id = self.rng.choice(VENDORS)
        if round_no % 3 == 0:  # a clear right behind a 202: the audience is still processing
            if (
                self.send(client, self.next_change(vendor_id=vendor_id, at_least_medium=True))
                == 202
            ):
                self.send(client, Change(vendor_id, "clear", "DELETE", "/users/clear", None))
        elif round_no % 3 == 1:  # a second replace within the replace interval
            users = frozenset(self.workload.fresh(3))
            for _ in range(2):
                body = msgspec.json.encode({"users": sorted(users)})
                change = Change(
                    vendor_id, "replace", "PUT", "/users/replace", body, frozenset(users)
                )
                self.send(client, change)
                settled(client, self.path(vendor_id))
        else:  # an invalid body
            self.send(client, Change(vendor_id, "invalid", "POST", "/users", b'{"add": [7]}'))

    def victim(
        self, base_url: str, moment: str, kill: Callable[[], None], job_running: Callable[[], None]
    ) -> None:
        """Send one mutation on a raw socket and call ``kill`` at the chosen moment."""
        while True:
            # Big enough for the apply to last a while (tens of milliseconds at least).
            change = self.next_change(at_least=30_000 if moment == "mid_apply" else 0)
            if moment != "mid_apply" or change.kind in ("add_remove", "replace"):
                break
        data = request_bytes(base_url, self.demo.token, self.demo.app_id, change)
        with closing(open_connection(base_url)) as sock:
            if moment == "mid_upload":
                sock.sendall(data[: self.rng.randint(1, len(data) - 1)])
                kill()
                self.statuses["cut"] += 1  # never whole: never accepted, never applied
                return
            sock.sendall(data)
            if moment == "in_flight":
                # Every other time at once (no answer can have come), else a while later.
                if self.moments[moment] % 2:
                    time.sleep(self.rng.uniform(0, 0.01 + len(data) / 30e6))
                kill()
                self.record(change, read_status(sock)[0])
                return
            status = read_status(sock)[0]
            self.record(change, status)
        if moment == "mid_apply" and status == 202:
            job_running()
        else:
            time.sleep(self.rng.uniform(0, 0.3))
        kill()


def wait_for_job(query: Query, counter: Counter[str]) -> None:
    """Return once the newest job is claimed (running) or done; count which was seen."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = query(LATEST_JOB)
        state = rows[0][0] if rows else None
        if state in ("running", "done"):
            counter[f"job {state} at kill"] += 1
            return
        time.sleep(0.005)
    raise AssertionError("the accepted job was never claimed")


def sqlite_query(path: Path) -> Query:
    def query(sql: str) -> list[tuple[Any, ...]]:
        # Read-only: the test never checkpoints or otherwise tidies the crashed database.
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return connection.execute(sql).fetchall()

    return query


def postgres_query(url: str) -> Query:
    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute(sql).fetchall()

    return query


def report(loop: CrashLoop) -> None:
    print(
        f"seed={SEED} rounds={ROUNDS} moments={dict(loop.moments)} statuses={dict(loop.statuses)}"
    )


@pytest.mark.timeout(TIMEOUT)
def test_sqlite_survives_sigkill_at_any_moment(launcher: Launcher) -> None:
    """SQLite: kills while uploading, answering or applying never lose, redo or tear a mutation."""
    launcher.extra_env |= FAST_JOBS
    database = Path(launcher.database_url.removeprefix("sqlite:///"))
    server = launcher.serve()
    loop = CrashLoop(read_demo(server.stdout), sqlite_query(database))
    print(f"seed={SEED}")
    with server.client(loop.demo.token) as client:
        loop.create_audiences(client)
    for round_no in range(ROUNDS + 1):
        if round_no:
            server = launcher.serve()
        with server.client(loop.demo.token) as client:
            loop.check_all(client, full=round_no == ROUNDS)
            if round_no == ROUNDS:
                break
            loop.background(client, round_no)
        moment = MOMENTS[round_no % len(MOMENTS)]
        loop.moments[moment] += 1
        loop.victim(
            server.base_url, moment, server.kill, lambda: wait_for_job(loop.query, loop.moments)
        )
        assert loop.query("PRAGMA integrity_check") == [("ok",)], SEED
    report(loop)
    if loop.moments["mid_apply"] >= 3:  # each of them all but sure to land mid-apply
        assert loop.moments["job running at kill"] > 0, "no kill landed while a job was applied"
    if ROUNDS >= 8:  # every kind of answer had its turns
        assert {409, 422, 429, "none", "cut"} <= set(loop.statuses), loop.statuses


@pytest.fixture
def postgres_launcher(postgres_schema_url: str, tmp_path: Path) -> Iterator[Launcher]:
    """Processes on a fresh schema of the test database, all killed before it is dropped."""
    launcher = Launcher(tmp_path, postgres_schema_url, dict(FAST_JOBS))
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.mark.postgres
@pytest.mark.timeout(TIMEOUT)
def test_postgres_serve_and_worker_survive_sigkill(postgres_launcher: Launcher) -> None:
    """PostgreSQL: serve and a standalone worker, either killed at any moment, lose nothing."""
    launcher = postgres_launcher
    account = launcher.admin(
        "accounts", "create", "--name", "crash", "--feature", "custom-audiences"
    )
    app = launcher.admin("apps", "create", "--account", account["id"], "--name", "crash")
    key = launcher.admin("api-keys", "create", "--app", app["id"], "--name", "crash")
    loop = CrashLoop(Demo(app["id"], key["token"], ""), postgres_query(launcher.database_url))
    print(f"seed={SEED}")
    server: Server | None = launcher.serve()
    worker: Process | None = launcher.worker()
    with server.client(loop.demo.token) as client:
        loop.create_audiences(client)
    for round_no in range(ROUNDS + 1):
        server = server if server is not None and server.alive() else launcher.serve()
        worker = worker if worker is not None and worker.alive() else launcher.worker()
        with server.client(loop.demo.token) as client:
            loop.check_all(client, full=round_no == ROUNDS)
            if round_no == ROUNDS:
                break
            loop.background(client, round_no)
        moment = MOMENTS[round_no % len(MOMENTS)]
        loop.moments[moment] += 1
        # The apply happens in the worker; everything before it in the server.
        first, other = (worker, server) if moment == "mid_apply" else (server, worker)

        def kill(first: Process = first, other: Process = other) -> None:
            first.kill()
            if loop.rng.random() < 0.3:
                other.kill()

        loop.victim(server.base_url, moment, kill, lambda: wait_for_job(loop.query, loop.moments))
    report(loop)
    if loop.moments["mid_apply"] >= 3:  # each of them all but sure to land mid-apply
        assert loop.moments["job running at kill"] > 0, "no kill landed while a job was applied"
    if ROUNDS >= 8:  # every kind of answer had its turns
        assert {409, 422, 429, "none", "cut"} <= set(loop.statuses), loop.statuses
