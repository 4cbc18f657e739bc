"""The mutation worker: claims durable jobs, applies each in one transaction, then GCs.

Log lines start with a stable event name (``worker.job_applied``, ``worker.job_failed``,
``worker.store_unavailable``, ...) followed by ``key=value`` pairs.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from datetime import timedelta

from custom_audiences.clock import utc_now
from custom_audiences.store.base import Job, LeaseLost, Store, StoreUnavailable
from custom_audiences.worker.lease import LeaseKeeper
from custom_audiences.worker.wakeups import Wakeups

logger = logging.getLogger(__name__)

#: A job claimed this many times (its workers kept dying while applying it) is failed
#: without another try: it is likely what kills them.
MAX_CLAIMS = 5
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
#: How often an idle wait looks at the stop event, so that any event stops it promptly.
STOP_CHECK_SECONDS = 0.25


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    #: Pauses between in-place attempts of an apply that raised an unexpected error;
    #: one attempt more than pauses is made before the job is marked failed.
    retry_delays: tuple[float, ...] = (0.2, 1.0)

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str | None = None,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        gc_batch_size: int = 50_000,
        wakeups: Wakeups | None = None,
    ) -> None:
        self.worker_id = worker_id or default_worker_id()
        self._store = store
        self._poll_interval = poll_interval
        self._lease = lease
        self._gc_batch_size = gc_batch_size
        self._wakeups = wakeups
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The stop event of the running loop, if any (a job in hand waits on it).
        self._running: threading.Event | None = None

    # -- one step at a time (tests and the loop) -------------------------------------
    def run_once(self) -> bool:
        """Claim one job and see it through; False when there was nothing to claim.

        While the loop runs, an unavailable database is waited out with the job in hand;
        otherwise ``StoreUnavailable`` propagates (the job's lease lapses and it is claimed
        again once the database is back). Any other apply error is retried in place, then
        the job is marked failed.
        """
        job = self._store.claim_job(self.worker_id, utc_now(), self._lease)
        if job is None:
            return False
        logger.info("worker.job_claimed job=%d kind=%s attempts=%d", job.id, job.kind, job.attempts)
        with LeaseKeeper(self._store, job.id, self.worker_id, self._lease):
            if job.attempts > MAX_CLAIMS:
                self._fail(job, reason="claimed too many times")
            else:
                self._apply(job)
        return True

    def collect_garbage_once(self) -> int:
        """Delete one batch of superseded members; return how many rows went."""
        deleted = self._store.collect_garbage(self._gc_batch_size)
        if deleted:
            logger.debug("worker.gc_collected rows=%d", deleted)
        return deleted

    def _apply(self, job: Job) -> None:
        attempt, outage = 0, 0.0
        while True:
            started = time.perf_counter()
            try:
                result = self._store.apply_job(job, self.worker_id, utc_now())
            except LeaseLost:
                logger.warning("worker.lease_lost job=%d", job.id)
                return
            except StoreUnavailable as error:
                outage = _next_backoff(outage)
                if not self._outlast(job, error, outage):
                    raise
            except Exception:
                attempt += 1
                logger.exception("worker.apply_error job=%d attempt=%d", job.id, attempt)
                if attempt > len(self.retry_delays):
                    self._fail(job, reason="apply kept failing")
                    return
                time.sleep(self.retry_delays[attempt - 1])
            else:
                logger.info(
                    "worker.job_applied job=%d kind=%s processed=%d skipped=%d seconds=%.3f",
                    job.id,
                    job.kind,
                    result.processed_count,
                    result.skipped_count,
                    time.perf_counter() - started,
                )
                return

    def _outlast(self, job: Job, error: StoreUnavailable, backoff: float) -> bool:
        """Wait, job in hand, for the database to come back; False to give the job up.

        A database that is down, full or read-only is no fault of the job: dropping it to
        let its lease lapse would delay it by a lease once the database is back, and count a
        claim against ``MAX_CLAIMS``, so that a long outage would fail accepted jobs. Only a
        stopping loop (or a single ``run_once`` outside one) gives the job up.
        """
        stop = self._running
        if stop is None or stop.is_set():
            return False
        pause = _jittered(backoff)
        logger.warning(
            "worker.apply_store_unavailable job=%d retry_in=%.2f error=%s", job.id, pause, error
        )
        return not stop.wait(pause)

    def _fail(self, job: Job, *, reason: str) -> None:
        try:
            self._store.fail_job(job, self.worker_id, utc_now())
        except LeaseLost:
            logger.warning("worker.lease_lost job=%d", job.id)
            return
        logger.error("worker.job_failed job=%d attempts=%d reason=%s", job.id, job.attempts, reason)

    # -- the loop -------------------------------------------------------------------
    def wake(self) -> None:
        """Look for work now instead of at the end of the poll interval."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; the job in hand is always finished first."""
        logger.info(
            "worker.started id=%s lease=%.1fs poll=%.1fs",
            self.worker_id,
            self._lease.total_seconds(),
            self._poll_interval,
        )
        listener = self._start_listener(stop)
        self._running = stop
        try:
            self._loop(stop)
        finally:
            self._running = None
            if listener is not None:
                listener.join(timeout=10)
        logger.info("worker.stopped id=%s", self.worker_id)

    def _start_listener(self, stop: threading.Event) -> threading.Thread | None:
        """Wake this loop when another process queues a job (polling stays the fallback)."""
        if self._wakeups is None:
            return None
        listener = threading.Thread(
            target=self._wakeups.listen,
            args=(self.wake, stop),
            name=f"wakeups-{self.worker_id}",
            daemon=True,
        )
        listener.start()
        return listener

    def _loop(self, stop: threading.Event) -> None:
        backoff = 0.0
        while not stop.is_set():
            self._wake.clear()
            try:
                busy = self.run_once() or self.collect_garbage_once() > 0
            except StoreUnavailable as error:
                backoff = _next_backoff(backoff)
                pause = _jittered(backoff)
                logger.warning("worker.store_unavailable retry_in=%.2f error=%s", pause, error)
                stop.wait(pause)
                continue
            except Exception:
                backoff = _next_backoff(backoff)
                pause = _jittered(backoff)
                logger.exception("worker.loop_error retry_in=%.2f", pause)
                stop.wait(pause)
                continue
            backoff = 0.0
            if not busy:
                self._idle(stop)

    def _idle(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + self._poll_interval
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._wake.wait(min(remaining, STOP_CHECK_SECONDS)):
                return

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name=f"worker-{self.worker_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask the loop to stop and wait; True when it has stopped within ``timeout``."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()


def _next_backoff(previous: float) -> float:
    """Exponential: 0.5 s, 1 s, 2 s ... up to 30 s."""
    return BACKOFF_FIRST if previous == 0 else min(previous * 2, BACKOFF_MAX)


def _jittered(seconds: float) -> float:
    """Spread retries so that several workers do not hit a recovering database at once."""
    return seconds * random.uniform(0.8, 1.0)
