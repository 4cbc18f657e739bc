"""The sync figures: a 1M-id export into an empty audience, then a 10 % change of it."""

from __future__ import annotations

from pathlib import Path

from bench.report import Figure, judged
from bench.server import BenchServer
from custom_audiences.client import Client
from custom_audiences.client.syncing.benchmark import run_sync_benchmark

#: The change step must send at most this many mutation requests...
MAX_CHANGE_MUTATIONS = 2
#: ...and finish within this many seconds, end to end.
MAX_CHANGE_SECONDS = 10.0


def sync_figures(server: BenchServer, workdir: Path, size: int) -> list[Figure]:
    """Run ``custom-audiences sync``'s engine through the SDK against the bench server."""
    token = server.client.headers["Authorization"].removeprefix("Bearer ")
    with Client(server.base_url, server.app_id, token, timeout=300) as client:
        initial, change = run_sync_benchmark(client, workdir, size=size)
    return [
        judged(
            f"sync {initial.identifiers:,} ids into an empty audience",
            [initial.seconds],
            "s",
            "(reported)",
            None,
            note=f"{initial.requests} requests, {initial.mutation_requests} mutations",
        ),
        judged(
            f"sync a 10% change ({change.added or 0:,} added, {change.removed or 0:,} removed)",
            [change.seconds],
            "s",
            f"<= {MAX_CHANGE_MUTATIONS} mutations, < {MAX_CHANGE_SECONDS:.0f} s",
            lambda seconds, _ratio: (
                change.mutation_requests <= MAX_CHANGE_MUTATIONS and seconds < MAX_CHANGE_SECONDS
            ),
            note=f"{change.requests} requests, {change.mutation_requests} mutations",
        ),
    ]
