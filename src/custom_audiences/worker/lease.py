"""Keeping a job's lease alive while it is applied, from a small heartbeat thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from custom_audiences.clock import utc_now
from custom_audiences.store.base import Store

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews a job's lease every third of its length until the ``with`` block ends.

    A renewal that fails is retried at the next beat (two more chances before the lease
    lapses); a renewal refused by the store means another worker owns the job, so the
    heartbeat stops and the apply will find out through ``LeaseLost``.
    """

    def __init__(
        self,
        store: Store,
        job_id: int,
        worker_id: str,
        lease: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._job_id = job_id
        self._worker_id = worker_id
        self._lease = lease
        self._clock = clock
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)
        self.renewals = 0
        self.lost = False

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._done.wait(interval):
            try:
                renewed = self._store.renew_lease(
                    self._job_id, self._worker_id, self._clock() + self._lease
                )
            except Exception as error:  # any failure: the next beat tries again
                logger.warning("worker.lease_renew_failed job=%d error=%r", self._job_id, error)
                continue
            if not renewed:
                # Refused just as the job finished is no loss: the job is simply done.
                if not self._done.is_set():
                    self.lost = True
                    logger.warning("worker.lease_lost job=%d", self._job_id)
                return
            self.renewals += 1
