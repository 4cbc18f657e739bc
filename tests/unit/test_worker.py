"""The mutation worker: applying jobs, keeping leases, failing, backing off, stopping."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from custom_audiences.clock import utc_now
from custom_audiences.domain import mutations
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.domain.audiences import (
    Audience,
    AudienceStatus,
    IdentifierType,
    JobResult,
    NewAudience,
)
from custom_audiences.services import admin
from custom_audiences.store.base import Job, LeaseLost, StoreUnavailable
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker import runner
from custom_audiences.worker.runner import MAX_CLAIMS, Worker

VENDOR = "aud"


class ScriptedStore(InMemoryStore):
    """An in-memory store whose job calls can be made to fail or wait, and are counted."""

    def __init__(self) -> None:
        super().__init__()
        self.apply_failures: list[Exception] = []
        self.claim_failures: list[Exception] = []
        self.apply_started = threading.Event()
        self.release_apply = threading.Event()
        self.release_apply.set()
        self.renewals = 0
        self.gc_calls = 0

    def claim_job(self, worker_id: str, now: datetime, lease: timedelta) -> Job | None:
        if self.claim_failures:
            raise self.claim_failures.pop(0)
        return super().claim_job(worker_id, now, lease)

    def apply_job(self, job: Job, worker_id: str, now: datetime) -> JobResult:
        self.apply_started.set()
        assert self.release_apply.wait(10)
        if self.apply_failures:
            raise self.apply_failures.pop(0)
        return super().apply_job(job, worker_id, now)

    def renew_lease(self, job_id: int, worker_id: str, until: datetime) -> bool:
        self.renewals += 1
        return super().renew_lease(job_id, worker_id, until)

    def collect_garbage(self, batch_size: int) -> int:
        self.gc_calls += 1
        return super().collect_garbage(batch_size)


@pytest.fixture
def store() -> ScriptedStore:
    return ScriptedStore()


@pytest.fixture
def app_id(store: ScriptedStore) -> str:
    account = admin.create_account(store, "A", frozenset({CUSTOM_AUDIENCES_FEATURE}))
    app = admin.create_app(store, account.id, "app")
    new = NewAudience(VENDOR, "Audience", IdentifierType.USER_ID)
    store.create_audience(app.id, new, "caud_1", utc_now())
    return app.id


@pytest.fixture
def worker(store: ScriptedStore) -> Iterator[Worker]:
    worker = Worker(store, worker_id="w1", poll_interval=60)
    worker.retry_delays = (0.0, 0.0)
    yield worker
    assert worker.stop(timeout=10)


def enqueue(store: ScriptedStore, app_id: str, add: list[str]) -> None:
    mutation = mutations.add_remove(add, None)
    store.enqueue_mutation(app_id, VENDOR, mutation, utc_now(), timedelta(hours=12))


def audience(store: ScriptedStore, app_id: str) -> Audience:
    found = store.get_audience(app_id, VENDOR)
    assert found is not None
    return found


def eventually(condition: Callable[[], bool]) -> bool:
    """Poll (up to ~10 s) for something another thread does."""
    for _ in range(500):
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_run_once_applies_the_next_job(store: ScriptedStore, app_id: str, worker: Worker) -> None:
    """True when a job was claimed and applied; False when there is none."""
    enqueue(store, app_id, ["a", "b"])
    assert worker.run_once() is True
    assert worker.run_once() is False
    done = audience(store, app_id)
    assert (done.status, done.user_count) == (AudienceStatus.READY, 2)


def test_a_transient_apply_error_is_retried_in_place(
    store: ScriptedStore, app_id: str, worker: Worker
) -> None:
    """One failure, then success: the job is applied, not failed."""
    enqueue(store, app_id, ["a"])
    store.apply_failures = [RuntimeError("deadlock")]
    assert worker.run_once()
    assert audience(store, app_id).status is AudienceStatus.READY


def test_a_job_that_keeps_failing_is_marked_failed(
    store: ScriptedStore, app_id: str, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    """After every attempt fails: status failed, error_count set, membership untouched."""
    enqueue(store, app_id, ["a", "b", "c"])
    store.apply_failures = [RuntimeError("bad data")] * 3
    with caplog.at_level(logging.INFO):
        assert worker.run_once()
    failed = audience(store, app_id)
    assert failed.status is AudienceStatus.FAILED
    assert failed.last_job_result == JobResult(0, 0, 3)
    assert failed.user_count == 0
    assert any(r.getMessage().startswith("worker.job_failed") for r in caplog.records)
    enqueue(store, app_id, ["d"])
    assert worker.run_once()
    assert audience(store, app_id).user_count == 1


def test_a_job_whose_workers_kept_dying_is_failed_without_applying(
    store: ScriptedStore, app_id: str, worker: Worker
) -> None:
    """After MAX_CLAIMS lapsed leases, the next claim fails the job outright."""
    enqueue(store, app_id, ["a"])
    long_ago = utc_now() - timedelta(hours=1)
    for attempt in range(MAX_CLAIMS):
        assert store.claim_job("dead", long_ago + timedelta(minutes=attempt), timedelta(seconds=1))
    store.apply_started.clear()
    assert worker.run_once()
    assert not store.apply_started.is_set()
    assert audience(store, app_id).status is AudienceStatus.FAILED


def test_an_unreachable_database_during_apply_is_not_a_job_failure(
    store: ScriptedStore, app_id: str, worker: Worker
) -> None:
    """StoreUnavailable propagates; the job stays pending and is applied later."""
    enqueue(store, app_id, ["a"])
    store.apply_failures = [StoreUnavailable("disk full")]
    with pytest.raises(StoreUnavailable):
        worker.run_once()
    assert audience(store, app_id).status is AudienceStatus.PROCESSING
    later = utc_now() + timedelta(minutes=5)
    job = store.claim_job("w2", later, timedelta(seconds=60))
    assert job is not None
    assert job.attempts == 2


def test_a_lost_lease_is_neither_applied_nor_failed(
    store: ScriptedStore, app_id: str, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    """LeaseLost means another worker owns the job: log and move on."""
    enqueue(store, app_id, ["a"])
    store.apply_failures = [LeaseLost()]
    with caplog.at_level(logging.WARNING):
        assert worker.run_once()
    assert audience(store, app_id).status is AudienceStatus.PROCESSING
    assert any(r.getMessage().startswith("worker.lease_lost") for r in caplog.records)


def test_the_lease_is_renewed_while_a_job_is_applied(store: ScriptedStore, app_id: str) -> None:
    """A long apply keeps its lease through heartbeats."""
    worker = Worker(store, worker_id="w1", lease=timedelta(milliseconds=60))
    enqueue(store, app_id, ["a"])
    store.release_apply.clear()
    applying = threading.Thread(target=worker.run_once)
    applying.start()
    assert eventually(lambda: store.renewals >= 3)
    store.release_apply.set()
    applying.join()
    assert audience(store, app_id).status is AudienceStatus.READY


def test_garbage_is_collected_in_batches(store: ScriptedStore, app_id: str) -> None:
    """After a replace, old members go in batches of gc_batch_size."""
    worker = Worker(store, gc_batch_size=2)
    enqueue(store, app_id, ["a", "b", "c"])
    worker.run_once()
    store.enqueue_mutation(app_id, VENDOR, mutations.replace(["z"]), utc_now(), timedelta(hours=12))
    worker.run_once()
    assert [worker.collect_garbage_once() for _ in range(3)] == [2, 1, 0]


def test_wake_makes_the_loop_look_for_work_at_once(
    store: ScriptedStore, app_id: str, worker: Worker
) -> None:
    """With a 60 s poll interval, a woken worker still applies the job promptly."""
    worker.start()
    assert eventually(lambda: store.gc_calls >= 1)  # the loop has gone idle
    enqueue(store, app_id, ["a"])
    worker.wake()
    assert eventually(lambda: audience(store, app_id).status is AudienceStatus.READY)


def test_the_loop_backs_off_while_the_database_is_away(
    store: ScriptedStore,
    app_id: str,
    worker: Worker,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each StoreUnavailable is logged and waited out; work resumes when it is back."""
    monkeypatch.setattr(runner, "BACKOFF_FIRST", 0.01)
    enqueue(store, app_id, ["a"])
    store.claim_failures = [StoreUnavailable("refused")] * 3
    with caplog.at_level(logging.WARNING):
        worker.start()
        assert eventually(lambda: audience(store, app_id).status is AudienceStatus.READY)
    unavailable = [
        r for r in caplog.records if r.getMessage().startswith("worker.store_unavailable")
    ]
    assert len(unavailable) == 3


def test_stop_finishes_the_job_in_hand(store: ScriptedStore, app_id: str, worker: Worker) -> None:
    """A stop requested mid-apply waits for the apply, then the loop ends."""
    enqueue(store, app_id, ["a"])
    store.release_apply.clear()
    worker.start()
    assert store.apply_started.wait(10)
    stopped: list[bool] = []
    stopper = threading.Thread(target=lambda: stopped.append(worker.stop(timeout=10)))
    stopper.start()
    store.release_apply.set()
    stopper.join()
    assert stopped == [True]
    assert audience(store, app_id).status is AudienceStatus.READY


def test_run_returns_when_its_stop_event_is_set(store: ScriptedStore, worker: Worker) -> None:
    """An external stop event ends run() even during a long idle wait."""
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(stop,))
    loop.start()
    assert eventually(lambda: store.gc_calls >= 1)
    stop.set()
    loop.join(timeout=10)
    assert not loop.is_alive()


def test_default_worker_ids_are_distinct(store: ScriptedStore) -> None:
    """Two workers in one process never share a lease identity."""
    assert Worker(store).worker_id != Worker(store).worker_id


def test_a_job_in_hand_outlasts_an_unavailable_database(
    store: ScriptedStore,
    app_id: str,
    worker: Worker,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In the loop, more StoreUnavailable applies than MAX_CLAIMS are waited out; no failure."""
    monkeypatch.setattr(runner, "BACKOFF_FIRST", 0.01)
    enqueue(store, app_id, ["a"])
    store.apply_failures = [StoreUnavailable("disk full")] * (MAX_CLAIMS + 2)
    with caplog.at_level(logging.WARNING):
        worker.start()
        assert eventually(lambda: audience(store, app_id).status is AudienceStatus.READY)
    waits = [m for r in caplog.records if (m := r.getMessage()).startswith("worker.apply_store")]
    assert len(waits) == MAX_CLAIMS + 2
    assert audience(store, app_id).last_job_result == JobResult(1, 0, 0)


def test_stopping_gives_up_a_job_waiting_for_the_database(
    store: ScriptedStore, app_id: str, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop during the wait returns promptly and leaves the job pending for a later claim."""
    monkeypatch.setattr(runner, "BACKOFF_FIRST", 30.0)
    enqueue(store, app_id, ["a"])
    store.apply_failures = [StoreUnavailable("read-only")]
    worker.start()
    assert eventually(lambda: not store.apply_failures)
    assert worker.stop(timeout=5)
    assert audience(store, app_id).status is AudienceStatus.PROCESSING
