"""``custom-audiences worker``: a standalone mutation worker, stopped cleanly by SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading


def worker() -> None:
    """Apply queued mutations until SIGTERM/SIGINT; run any number beside `serve` on PostgreSQL."""
    from custom_audiences.cli.logs import configure_worker_logging
    from custom_audiences.cli.output import load_settings, open_migrated_store
    from custom_audiences.worker.runner import Worker

    configure_worker_logging()
    store = open_migrated_store(load_settings().database_url)
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
        Worker(store).run(stop)
    finally:
        store.close()
