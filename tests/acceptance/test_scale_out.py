"""Scale-out on PostgreSQL and Redis: several `serve` and `worker` processes, one behaviour.

Each test gets a schema of its own and starts its own processes. Rate-limit counters go to
a Redis database of their own (``SCALE_OUT_REDIS_DB``); within it counters are per API key,
and every test provisions its own key, so no two tests ever share a counter.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis

from .support import (
    JOB_TIMEOUT,
    Launcher,
    Process,
    Server,
    all_users,
    audiences_path,
    free_port,
    provision_tenant,
    wait_settled,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SCALE_OUT_REDIS_DB = 14
LIMITED = {"CUSTOM_AUDIENCES_RATE_LIMIT": "60/minute"}
APPLIED = re.compile(r"worker\.job_applied job=(\d+)")
CLAIMED = re.compile(r"worker\.job_claimed job=(\d+)")


@dataclass
class Cluster:
    """Processes on one PostgreSQL schema and one Redis, and a tenant to call them with."""

    launcher: Launcher
    database_url: str
    app_id: str
    token: str
    clients: list[httpx.Client] = field(default_factory=list)

    def path(self, suffix: str = "") -> str:
        return audiences_path(self.app_id, suffix)

    def client(self, server: Server) -> httpx.Client:
        """A client of ``server`` with the tenant's key, closed when the test ends."""
        client = server.client(self.token)
        self.clients.append(client)
        return client

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql).fetchall()  # type: ignore[arg-type]


def redis_database(redis_url: str, number: int) -> str:
    return urlsplit(redis_url)._replace(path=f"/{number}").geturl()


@pytest.fixture
def cluster(postgres_schema_url: str, redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    redis_db = redis_database(redis_url, SCALE_OUT_REDIS_DB)
    launcher = Launcher(tmp_path, postgres_schema_url, {"CUSTOM_AUDIENCES_REDIS_URL": redis_db})
    tenant = provision_tenant(postgres_schema_url, "scale")
    cluster = Cluster(launcher, postgres_schema_url, tenant.app_id, tenant.token)
    try:
        yield cluster
    finally:
        for client in cluster.clients:
            client.close()
        launcher.kill_all()


def create(client: httpx.Client, cluster: Cluster, vendor_id: str) -> None:
    body = {"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}}
    response = client.post(cluster.path(), json=body)
    assert response.status_code == 201, response.text


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in threads released together; their responses in call order."""
    barrier = threading.Barrier(len(calls))
    responses: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        responses[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def codes(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    """(status, error code or "") of each response, sorted."""
    found = []
    for response in responses:
        code = response.json()["error"]["code"] if response.status_code >= 400 else ""
        found.append((response.status_code, code))
    return sorted(found)


def job_ids(pattern: re.Pattern[str], process: Process) -> list[int]:
    return [int(job) for job in pattern.findall(process.stderr)]


def new_claimer(workers: list[Process], claimed_before: list[int]) -> Process | None:
    """The worker that has claimed a job since the counts in ``claimed_before`` were taken."""
    for worker, before in zip(workers, claimed_before, strict=True):
        if len(job_ids(CLAIMED, worker)) > before:
            return worker
    return None


def wait_for(condition: Callable[[], bool], timeout: float = JOB_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def ids(prefix: str, start: int, stop: int) -> list[str]:
    return [f"{prefix}{n:07d}" for n in range(start, stop)]


def test_the_rate_limit_is_counted_once_across_api_processes(cluster: Cluster) -> None:
    """70 quick requests with one key, alternating between two processes: 60 pass, then 429."""
    servers = [cluster.launcher.serve(**LIMITED) for _ in range(2)]
    clients = [cluster.client(server) for server in servers]
    responses = [clients[n % 2].get(cluster.path()) for n in range(70)]
    assert [r.status_code for r in responses] == [200] * 60 + [429] * 10
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in responses[:60]]
    assert remaining == list(range(59, -1, -1))
    refused = responses[60:]
    assert {r.json()["error"]["code"] for r in refused} == {"RATE_LIMIT_EXCEEDED"}
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in refused)
    assert len({r.headers["x-ratelimit-reset"] for r in responses}) <= 2  # one window (rounding)


def test_concurrent_mutations_through_both_processes_accept_exactly_one(cluster: Cluster) -> None:
    """Ten simultaneous mutations of one audience over two processes: one 202, nine 409; the
    replace interval holds across processes too (enforced in the database)."""
    servers = [cluster.launcher.serve() for _ in range(2)]
    clients = [cluster.client(server) for server in servers]
    creates = at_once([lambda n=n: create_raw(clients[n % 2], cluster, "dup") for n in range(6)])
    assert codes(creates) == [(201, "")] + [(422, "VALIDATION_FAILED")] * 5
    create(clients[0], cluster, "race")
    users = cluster.path("/race/users")
    posts = at_once(
        [lambda n=n: clients[n % 2].post(users, json={"add": [f"u{n}"]}) for n in range(10)]
    )
    assert codes(posts) == [(202, "")] + [(409, "MUTATION_IN_PROGRESS")] * 9
    create(clients[0], cluster, "swap")
    replace = cluster.path("/swap/users/replace")
    puts = at_once(
        [lambda n=n: clients[n % 2].put(replace, json={"users": [f"r{n}"]}) for n in range(10)]
    )
    assert codes(puts) == [(202, "")] + [(409, "MUTATION_IN_PROGRESS")] * 9

    cluster.launcher.worker()  # no worker ran so far: every job was still pending
    for vendor_id, expected_users in (("race", posts), ("swap", puts)):
        audience = wait_settled(clients[1], cluster.path(f"/{vendor_id}"))
        accepted = next(r for r in expected_users if r.status_code == 202)
        sent = accepted.request.content
        members = list(all_users(clients[1], cluster.path(f"/{vendor_id}/users")))
        assert audience["user_count"] == len(members) == 1
        assert members[0].encode() in sent
    again = clients[1].put(replace, json={"users": ["late"]})
    assert again.status_code == 429, again.text
    assert again.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


def create_raw(client: httpx.Client, cluster: Cluster, vendor_id: str) -> httpx.Response:
    return client.post(
        cluster.path(), json={"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}}
    )


def test_two_workers_apply_fifty_jobs_each_exactly_once(cluster: Cluster) -> None:
    """Five rounds of ten mutations (adds, removes, a replace, a clear) over two API processes;
    both workers take part, every job is applied once, and every membership is exact."""
    servers = [cluster.launcher.serve() for _ in range(2)]
    workers = [cluster.launcher.worker() for _ in range(2)]
    clients = [cluster.client(server) for server in servers]
    vendors = [f"aud-{n}" for n in range(10)]
    expected: dict[str, set[str]] = {vendor_id: set() for vendor_id in vendors}
    for vendor_id in vendors:
        create(clients[0], cluster, vendor_id)
    for round_ in range(5):
        for n, vendor_id in enumerate(vendors):
            client = clients[(n + round_) % 2]
            path = cluster.path(f"/{vendor_id}/users")
            added = set(ids(f"{vendor_id}-{round_}-", 0, 2_000 + 500 * n))
            if round_ == 3 and n == 0:
                response = client.delete(path + "/clear")
                expected[vendor_id] = set()
            elif round_ == 3 and n == 1:
                response = client.put(path + "/replace", json={"users": sorted(added)})
                expected[vendor_id] = added
            else:
                removed = sorted(expected[vendor_id])[::3]
                response = client.post(path, json={"add": sorted(added), "remove": removed})
                expected[vendor_id] = (expected[vendor_id] - set(removed)) | added
            assert response.status_code == 202, response.text
        for n, vendor_id in enumerate(vendors):
            settled = wait_settled(clients[n % 2], cluster.path(f"/{vendor_id}"))
            assert settled["status"] == "ready"

    for n, vendor_id in enumerate(vendors):
        members = list(all_users(clients[n % 2], cluster.path(f"/{vendor_id}/users")))
        assert members == sorted(expected[vendor_id])
        assert wait_settled(clients[0], cluster.path(f"/{vendor_id}"))["user_count"] == len(members)
    # The clear and the replace superseded two generations: the idle workers delete them.
    wait_for(lambda: cluster.query("SELECT count(*) FROM stale_generations") == [(0,)])
    superseded = (
        "SELECT count(*) FROM members m JOIN audiences a ON a.pk = m.audience_pk"
        " WHERE m.generation <> a.generation"
    )
    assert cluster.query(superseded) == [(0,)]
    applied = [job_ids(APPLIED, worker) for worker in workers]
    assert all(applied), "both workers should have applied jobs"
    every = applied[0] + applied[1]
    assert len(every) == len(set(every)) == 50
    assert cluster.query("SELECT state, count(*), sum(attempts) FROM jobs GROUP BY state") == [
        ("done", 50, 50)
    ]
    for worker in workers:
        worker.signal(signal.SIGTERM)
        assert worker.wait() == 0
        assert "Traceback" not in worker.stderr


def test_a_killed_workers_job_is_taken_over_after_its_lease(cluster: Cluster) -> None:
    """SIGKILL the worker applying a large job: the other one applies it once the short lease
    has lapsed; the membership is exact and the job was applied by the survivor only."""
    server = cluster.launcher.serve()
    lease = ("--lease-seconds", "3", "--poll-seconds", "0.2")
    workers = [cluster.launcher.worker(*lease) for _ in range(2)]
    client = cluster.client(server)
    create(client, cluster, "big")
    base = ids("base-", 0, 100_000)
    assert client.post(cluster.path("/big/users"), json={"add": base}).status_code == 202
    wait_settled(client, cluster.path("/big"))
    claimed_before = [len(job_ids(CLAIMED, worker)) for worker in workers]

    added, removed = ids("new-", 0, 400_000), base[::4]
    response = client.post(cluster.path("/big/users"), json={"add": added, "remove": removed})
    assert response.status_code == 202
    wait_for(lambda: new_claimer(workers, claimed_before) is not None)
    victim = new_claimer(workers, claimed_before)
    assert victim is not None
    victim.popen.kill()
    victim.wait()
    survivor = workers[1 - workers.index(victim)]
    big_job = job_ids(CLAIMED, victim)[-1]
    assert big_job not in job_ids(APPLIED, victim), "killed before it could apply the job"

    audience = wait_settled(client, cluster.path("/big"))
    assert audience["status"] == "ready"
    assert audience["last_job_result"]["processed_count"] == len(added) + len(removed)
    members = list(all_users(client, cluster.path("/big/users")))
    assert members == sorted(set(base) - set(removed) | set(added))
    assert audience["user_count"] == len(members)
    assert job_ids(APPLIED, survivor).count(big_job) == 1
    assert cluster.query(f"SELECT state, attempts FROM jobs WHERE id = {big_job}") == [("done", 2)]


def test_sigterm_lets_a_worker_finish_the_job_in_hand(cluster: Cluster) -> None:
    """SIGTERM while a large job is being applied: the job completes, the worker exits 0."""
    server = cluster.launcher.serve()
    worker = cluster.launcher.worker("--poll-seconds", "0.2")
    client = cluster.client(server)
    create(client, cluster, "term")
    added = ids("t-", 0, 400_000)
    assert client.post(cluster.path("/term/users"), json={"add": added}).status_code == 202
    wait_for(lambda: bool(job_ids(CLAIMED, worker)))
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=JOB_TIMEOUT) == 0
    assert job_ids(APPLIED, worker) == job_ids(CLAIMED, worker)
    audience = wait_settled(client, cluster.path("/term"), timeout=5)
    assert (audience["status"], audience["user_count"]) == ("ready", len(added))
    assert "worker.stopped" in worker.stderr


def test_serve_on_postgresql_runs_a_worker_only_when_asked(cluster: Cluster) -> None:
    """Without a flag serve starts no worker and the job stays queued; `serve --with-worker`
    runs one, which also takes the job queued through the other process."""
    plain = cluster.launcher.serve()
    client = cluster.client(plain)
    create(client, cluster, "waits")
    assert client.post(cluster.path("/waits/users"), json={"add": ["a"]}).status_code == 202
    assert client.get(cluster.path("/waits")).json()["custom_audience"]["status"] == "processing"
    embedded = cluster.launcher.serve("--with-worker")
    audience = wait_settled(cluster.client(embedded), cluster.path("/waits"), timeout=30)
    assert audience["user_count"] == 1
    assert "worker.started" in embedded.stderr
    assert "worker.started" not in plain.stderr


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, on a fixed port, that it can kill and restart."""

    binary: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(self._answers, timeout=30)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def _answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed"
        if os.environ.get("CUSTOM_AUDIENCES_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = PrivateRedis(binary, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


def test_while_redis_is_down_requests_are_served_and_healthz_is_degraded(
    cluster: Cluster, private_redis: PrivateRedis
) -> None:
    """Redis dies: requests past the limit are still served (uncounted), healthz is 200
    "degraded" naming redis and counting the failures, the log says so without the token;
    once Redis is back, healthz is ok and requests are counted again."""
    server = cluster.launcher.serve(CUSTOM_AUDIENCES_REDIS_URL=private_redis.url, **LIMITED)
    client = cluster.client(server)
    counted = [client.get(cluster.path()) for _ in range(3)]
    assert [r.headers["x-ratelimit-remaining"] for r in counted] == ["59", "58", "57"]
    assert client.get("/healthz").json()["status"] == "ok"

    private_redis.kill()
    served = [client.get(cluster.path()) for _ in range(70)]
    assert [r.status_code for r in served] == [200] * 70
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["degraded"]) == ("degraded", ["redis"])
    assert body["checks"] == {"database": "ok", "redis": "unavailable"}
    assert body["rate_limit_storage_failures"] >= 1
    assert body["rate_limit_unchecked_requests"] >= 70
    assert "rate_limit.storage_unavailable" in server.stderr
    assert cluster.token not in server.stderr + server.stdout

    private_redis.start()
    wait_for(lambda: client.get("/healthz").json()["status"] == "ok", timeout=30)
    again = client.get(cluster.path())
    assert again.headers["x-ratelimit-remaining"] == "59"  # a fresh Redis: a fresh window
