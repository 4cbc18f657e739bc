"""``python -m bench.load`` (``make load``): many clients against a real ``serve``, on loopback.

A baseline run of the API mix alone, then ``--runs`` runs of the same mix beside 50 slow
connections (trickled heads, stalled bodies) and a 70 KB-header request every second.
Prints per-endpoint p50/p99 latencies, statuses, the server's RSS sampled from /proc
across the runs, and saves the figures under ``bench/results/``. Exits 1 when any answer
falls outside 2xx and the contract's 409/429. Bounded: it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench.engine import databases, is_postgres
from bench.load_clients import Http, Stats, Tenant, api_client, oversized_headers, slow_client
from bench.report import RESULTS_DIR, machine

CLI = str(Path(sys.executable).with_name("custom-audiences"))
HOST = "127.0.0.1"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=2, help="runs with slow clients")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slow", type=int, default=50, help="slow connections held open")
    parser.add_argument("--apps", type=int, default=20, help="apps, one API key each")
    parser.add_argument("--audiences", type=int, default=5, help="audiences per app")
    parser.add_argument("--rate-limit", default="3000/minute", help="per API key")
    parser.add_argument("--database", help="postgresql://... (default: SQLite in a temp dir)")
    return parser.parse_args()


@dataclass
class Run:
    name: str
    seconds: float
    stats: Stats
    rss_mb: list[float] = field(default_factory=list)
    server_cpu: float = 0.0  #: CPU seconds the server used during the run
    load_cpu: float = 0.0  #: CPU seconds this load generator used


def provision(database_url: str, apps: int) -> list[tuple[str, str]]:
    """Accounts, apps and keys made in-process (dozens of admin commands would take minutes)."""
    from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
    from custom_audiences.services import admin
    from custom_audiences.store import open_store

    store = open_store(database_url)
    try:
        store.upgrade()
        made = []
        for n in range(apps):
            features = frozenset({CUSTOM_AUDIENCES_FEATURE})
            account = admin.create_account(store, f"load-{n}", features)
            app = admin.create_app(store, account.id, f"load-{n}")
            made.append((app.id, admin.create_api_key(store, app.id, "load").token))
        return made
    finally:
        store.close()


def start_server(
    database_url: str, workdir: Path, port: int, rate_limit: str
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOM_AUDIENCES_")}
    env |= {
        "CUSTOM_AUDIENCES_DATABASE_URL": database_url,
        "CUSTOM_AUDIENCES_RATE_LIMIT": rate_limit,
        "CUSTOM_AUDIENCES_REPLACE_INTERVAL_SECONDS": "30",
        "CUSTOM_AUDIENCES_EMBEDDED_WORKER": "1",
    }
    log = (workdir / "serve.log").open("wb")
    return subprocess.Popen(
        [CLI, "serve", "--host", HOST, "--port", str(port)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit("serve exited during start-up; see serve.log")
        try:
            if (await Http(HOST, port).request("GET", "/healthz", ""))[0] == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("serve did not become healthy")


async def create_audiences(port: int, keys: list[tuple[str, str]], count: int) -> list[Tenant]:
    """``count`` audiences per app, each with 2,000 members to page through."""
    http, tenants = Http(HOST, port), []
    for app_id, token in keys:
        base = f"/client/mobile_applications/{app_id}/custom_audiences"
        vendor_ids = tuple(f"load-{n}" for n in range(count))
        for vendor_id in vendor_ids:
            body = {"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}}
            status, _ = await http.request("POST", base, token, json.dumps(body).encode())
            assert status == 201, status
            users = json.dumps({"add": [f"user-{n:06d}" for n in range(0, 200_000, 100)]})
            path = f"{base}/{vendor_id}/users"
            status, _ = await http.request("POST", path, token, users.encode())
            assert status == 202, status
        tenants.append(Tenant(app_id, token, vendor_ids))
    http.close()
    return tenants


@dataclass
class Target:
    port: int
    pid: int
    tenants: list[Tenant]


async def run_once(
    name: str, seconds: float, target: Target, options: argparse.Namespace, *, slow: bool
) -> Run:
    """Closed-loop API clients (and, with ``slow``, slow ones) until ``seconds`` are up."""
    port, pid, tenants = target.port, target.pid, target.tenants
    run = Run(name, seconds, Stats())
    deadline = time.monotonic() + seconds
    tasks = [
        api_client(HOST, port, tenants[n % len(tenants)], n, deadline, run.stats)
        for n in range(options.clients)
    ]
    if slow:
        tasks += [
            slow_client(HOST, port, tenants[n % len(tenants)], n, deadline, run.stats)
            for n in range(options.slow)
        ]
        tasks.append(oversized_headers(HOST, port, deadline, run.stats))

    async def sample_rss() -> None:
        while time.monotonic() < deadline:
            run.rss_mb.append(rss_mb(pid))
            await asyncio.sleep(1.0)
        run.rss_mb.append(rss_mb(pid))

    server_cpu, load_cpu = cpu_seconds(pid), time.process_time()
    await asyncio.gather(*tasks, sample_rss())
    run.server_cpu = cpu_seconds(pid) - server_cpu
    run.load_cpu = time.process_time() - load_cpu
    return run


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def summarize(run: Run) -> dict[str, object]:
    endpoints = {}
    for endpoint, samples in sorted(run.stats.latencies.items()):
        if endpoint == "slow held":
            continue
        endpoints[endpoint] = {
            "count": len(samples),
            "p50_ms": round(percentile(samples, 0.50), 1),
            "p99_ms": round(percentile(samples, 0.99), 1),
            "statuses": {
                str(k): v for k, v in sorted(run.stats.statuses[endpoint].items(), key=str)
            },
        }
    total = sum(len(s) for e, s in run.stats.latencies.items() if e != "slow held")
    held = run.stats.latencies.get("slow held", [])
    rss = run.rss_mb or [0.0]
    return {
        "run": run.name,
        "seconds": run.seconds,
        "requests": total,
        "requests_per_s": round(total / run.seconds),
        "unexpected": dict(run.stats.unexpected()),
        "server_cpu_percent": round(100 * run.server_cpu / run.seconds),
        "load_cpu_percent": round(100 * run.load_cpu / run.seconds),
        "endpoints": endpoints,
        "slow": dict(run.stats.slow),
        "slow_held_median_s": round(statistics.median(held), 1) if held else None,
        "rss_mb": {"start": round(rss[0]), "max": round(max(rss)), "end": round(rss[-1])},
    }


def print_run(summary: dict[str, object]) -> None:
    print(
        f"\n{summary['run']}: {summary['requests']} requests in {summary['seconds']:.0f} s"
        f" ({summary['requests_per_s']}/s), CPU % server {summary['server_cpu_percent']}"
        f" / load {summary['load_cpu_percent']}, RSS MB {summary['rss_mb']},"
        f" unexpected {summary['unexpected'] or 'none'}"
    )
    print(f"  {'endpoint':<12} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    endpoints = summary["endpoints"]
    assert isinstance(endpoints, dict)
    for endpoint, row in endpoints.items():
        print(
            f"  {endpoint:<12} {row['count']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8}"
            f"  {row['statuses']}"
        )
    if summary["slow"]:
        print(f"  slow clients: {summary['slow']} (held {summary['slow_held_median_s']} s median)")


async def main_async(options: argparse.Namespace, workdir: Path) -> list[dict[str, object]]:
    with databases(options.database, workdir) as (database_url, _raw):
        keys = provision(database_url, options.apps)
        port = free_port()
        process = start_server(database_url, workdir, port, options.rate_limit)
        try:
            await wait_healthy(port, process)
            target = Target(
                port, process.pid, await create_audiences(port, keys, options.audiences)
            )
            await asyncio.sleep(2)  # the initial adds are applied
            runs = [
                await run_once("baseline", options.baseline_seconds, target, options, slow=False)
            ]
            for n in range(options.runs):
                runs.append(
                    await run_once(f"run {n + 1}", options.seconds, target, options, slow=True)
                )
            summaries = [summarize(run) for run in runs]
        finally:
            process.terminate()
            process.wait(timeout=60)
    for summary in summaries:
        print_run(summary)
    return summaries


def main() -> None:
    options = parse()
    with tempfile.TemporaryDirectory(prefix="custom-audiences-load-") as tmp:
        summaries = uvloop.run(main_async(options, Path(tmp)))
    engine = "postgresql" if options.database and is_postgres(options.database) else "sqlite"
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"load-{engine}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    results = {"machine": machine(), "options": vars(options), "runs": summaries}
    path.write_text(json.dumps(results, indent=2))
    print(f"\nsaved {path}")
    if any(summary["unexpected"] for summary in summaries):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
