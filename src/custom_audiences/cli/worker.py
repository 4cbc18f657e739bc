"""``custom-audiences worker``: a standalone mutation worker, stopped cleanly by SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

import typer

LeaseOption = Annotated[
    float | None,
    typer.Option(
        "--lease-seconds",
        help="How long a claimed job stays this worker's between renewals; a job whose worker"
        " died is taken over after it (env CUSTOM_AUDIENCES_WORKER_LEASE_SECONDS, default 60).",
        show_default=False,
    ),
]
PollOption = Annotated[
    float | None,
    typer.Option(
        "--poll-seconds",
        help="How often an idle worker looks for jobs when nothing woke it"
        " (env CUSTOM_AUDIENCES_WORKER_POLL_SECONDS, default 1).",
        show_default=False,
    ),
]


def worker(lease_seconds: LeaseOption = None, poll_seconds: PollOption = None) -> None:
    """Apply queued mutations until SIGTERM/SIGINT; run any number beside `serve` on PostgreSQL."""
    from custom_audiences.cli.logs import configure_worker_logging
    from custom_audiences.cli.output import fail, load_settings, open_migrated_store
    from custom_audiences.worker.runner import Worker
    from custom_audiences.worker.wakeups import open_wakeups

    settings = load_settings()
    for name, value in (("--lease-seconds", lease_seconds), ("--poll-seconds", poll_seconds)):
        if value is not None and not 0 < value < float("inf"):
            fail(f"{name} must be a positive number of seconds")
    settings = replace(
        settings,
        worker_lease_seconds=lease_seconds or settings.worker_lease_seconds,
        worker_poll_seconds=poll_seconds or settings.worker_poll_seconds,
    )
    configure_worker_logging()
    store = open_migrated_store(settings.database_url)
    wakeups = open_wakeups(settings.database_url)
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        # The first signal only asks the loop to stop, so the job in hand is finished rather
        # than cut mid-transaction; a second one ends the process at once (the job's
        # transaction then rolls back and its lease lapses, so another worker retries it).
        stop.set()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    try:
        Worker(
            store,
            lease=timedelta(seconds=settings.worker_lease_seconds),
            poll_interval=settings.worker_poll_seconds,
            wakeups=wakeups,
        ).run(stop)
    finally:
        if wakeups is not None:
            wakeups.close()
        store.close()
