"""A sync benchmark: fill an empty audience from a large file, then sync a 10 % change."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from custom_audiences.client.client import Client
from custom_audiences.client.syncing.engine import SyncOptions, sync_audience
from custom_audiences.client.syncing.sources import open_identifiers


@dataclass(frozen=True, slots=True)
class BenchmarkStep:
    name: str
    identifiers: int  # in the source
    added: int | None
    removed: int | None
    requests: int  # every HTTP request, reads and polls included
    mutation_requests: int
    bytes_sent: int
    seconds: float  # wall time of the sync, reading the file included

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def write_ids(path: Path, start: int, stop: int) -> Path:
    """A text file of the identifiers ``user_{n:09d}`` for n in [start, stop)."""
    with path.open("w", encoding="utf-8") as out:
        out.writelines(f"user_{n:09d}\n" for n in range(start, stop))
    return path


def run_sync_benchmark(
    client: Client,
    workdir: Path,
    *,
    size: int = 1_000_000,
    change: float = 0.10,
    vendor_id: str | None = None,
) -> list[BenchmarkStep]:
    """Sync ``size`` ids into a new audience, then the same minus ``change`` plus as many new.

    The second file drops the first ``change`` share of the ids and adds as many unseen ones,
    so the second sync must read the whole membership and send both additions and removals.
    """
    vendor = vendor_id or f"bench_sync_{time.time_ns()}"
    shifted = int(size * change)
    first = write_ids(workdir / "bench_initial.txt", 0, size)
    second = write_ids(workdir / "bench_changed.txt", shifted, size + shifted)
    steps = []
    for name, path, options in (
        ("initial", first, SyncOptions(create_name="Sync benchmark")),
        ("change", second, SyncOptions()),
    ):
        started = time.perf_counter()
        with open_identifiers(str(path)) as source:
            report = sync_audience(client, vendor, source.items, options)
        steps.append(
            BenchmarkStep(
                name,
                report.entries,
                report.added,
                report.removed,
                report.requests,
                report.planned_requests,
                report.bytes_sent,
                time.perf_counter() - started,
            )
        )
    return steps
