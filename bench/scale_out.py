"""``python -m bench.scale_out --database postgresql://...``: the same jobs, 1 worker vs 2.

A real ``serve`` without a worker on fresh schemas of the given database; for each run,
JOBS new audiences, then ``worker`` processes (1 or 2, already listening), then JOBS adds of
IDS_PER_JOB new ids each, sent back to back. A run's figure is the time from the first
request to the moment every audience is ready. Runs alternate (1, 2, 2, 1, ...) so that
drift on the machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench import engine, payloads, report
from bench.report import Figure, judged, median
from bench.server import CLI, BenchServer

JOBS = 20
IDS_PER_JOB = 100_000
ROUNDS = 2
TARGET = 1.5
LISTEN_TIMEOUT = 60.0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__)
    parser.add_argument("--database", required=True, help="postgresql://... (fresh schemas)")
    parser.add_argument("--jobs", type=int, default=JOBS, help="audiences and jobs per run")
    parser.add_argument("--ids", type=int, default=IDS_PER_JOB, help="new ids per job")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="runs per worker count")
    options = parser.parse_args()
    if not engine.is_postgres(options.database):
        parser.error("scale-out needs PostgreSQL: SQLite has one writer whatever the workers")
    return options


def start_workers(server: BenchServer, count: int, tag: str) -> list[subprocess.Popen[bytes]]:
    """``count`` worker processes, returned once each one listens for wake-ups."""
    workers, logs = [], []
    for n in range(count):
        log = server.workdir / f"worker-{tag}-{n}.log"
        logs.append(log)
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen(
                    [CLI, "worker"], cwd=server.workdir, env=server.env, stderr=out, stdout=out
                )
            )
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while not all("worker.listening" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise SystemExit(f"workers did not start listening: see {server.workdir}")
        time.sleep(0.05)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=120)


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def run(
    server: BenchServer, workers: int, tag: str, jobs: int, per_job: int, first: int
) -> tuple[float, float]:
    """Seconds from the first request to the last audience ready, and the share of the
    machine's CPU time that was busy meanwhile (everything running on it counts)."""
    vendors = [f"{tag}-{n}" for n in range(jobs)]
    for vendor_id in vendors:
        server.create(vendor_id)
    bodies = [payloads.add_body(payloads.ids(first + n * per_job, per_job)) for n in range(jobs)]
    started_workers = start_workers(server, workers, tag)
    try:
        busy_before, total_before = cpu_times()
        started = time.perf_counter()
        for vendor_id, body in zip(vendors, bodies, strict=True):
            server.send("POST", vendor_id, "/users", body)
        finished = max(server.wait_ready(vendor_id) for vendor_id in vendors)
        busy_after, total_after = cpu_times()
    finally:
        stop_workers(started_workers)
    for vendor_id in vendors:
        assert server.user_count(vendor_id) == per_job, vendor_id
    return finished - started, (busy_after - busy_before) / max(1, total_after - total_before)


def main() -> None:
    options = parse()
    jobs, per_job = options.jobs, options.ids
    started = time.perf_counter()
    seconds: dict[int, list[float]] = {1: [], 2: []}
    busy_shares: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="custom-audiences-scale-out-") as tmp:
        workdir = Path(tmp)
        with (
            engine.databases(options.database, workdir) as (database_url, _raw),
            BenchServer(database_url, workdir, embedded_worker=False) as server,
        ):
            first = 0
            for round_ in range(options.rounds):
                order = (1, 2) if round_ % 2 == 0 else (2, 1)
                for workers in order:
                    elapsed, busy = run(
                        server, workers, f"r{round_}w{workers}", jobs, per_job, first
                    )
                    first += jobs * per_job
                    seconds[workers].append(elapsed)
                    busy_shares[workers].append(busy)
                    rate = jobs * per_job / elapsed
                    print(
                        f"[{time.strftime('%H:%M:%S')}] {workers} worker(s): {elapsed:.2f} s,"
                        f" {rate:,.0f} ids/s, CPU {busy:.0%} busy,"
                        f" load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            versions = engine.server_versions(database_url)
    figures = figures_of(seconds, busy_shares, jobs, per_job)
    info = report.machine() | {
        "engine": "postgresql-scale-out",
        "database": "PostgreSQL, scale-out",
        "quick": False,
        "elapsed_s": round(time.perf_counter() - started),
        **versions,
    }
    report.print_table(figures, info)
    print(f"saved {report.save(figures, info)}")


def figures_of(
    seconds: dict[int, list[float]], busy: dict[int, list[float]], jobs: int, per_job: int
) -> list[Figure]:
    work = f"{jobs} jobs x {per_job // 1000}k ids on {jobs} audiences"
    one = median(seconds[1])

    def cpu(workers: int) -> str:
        return f"CPU {median(busy[workers]):.0%} busy (all processes on the machine)"

    return [
        judged(f"{work}, 1 worker", seconds[1], "s", "", None, note=cpu(1)),
        judged(
            f"{work}, 2 workers",
            seconds[2],
            "s",
            f">= {TARGET}x faster than 1 worker",
            lambda _, ratio: ratio is not None and ratio >= TARGET,
            baseline=one,
            baseline_name="1 worker",
            ratio_of=lambda value, baseline: baseline / value,
            note=cpu(2),
        ),
    ]


if __name__ == "__main__":
    main()
