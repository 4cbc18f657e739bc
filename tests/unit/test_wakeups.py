"""Cross-process wake-ups: NOTIFY from the API side reaches LISTENing workers of one schema."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from custom_audiences.clock import utc_now
from custom_audiences.domain import mutations
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.domain.audiences import AudienceStatus, IdentifierType, NewAudience
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.worker.runner import Worker
from custom_audiences.worker.wakeups import PostgresWakeups, open_wakeups


class Listening:
    """A listener thread counting the wake-ups it receives."""

    def __init__(self, wakeups: PostgresWakeups) -> None:
        self.count = 0
        self.woken = threading.Event()
        self.stop = threading.Event()
        self._thread = threading.Thread(target=wakeups.listen, args=(self._wake, self.stop))
        self._thread.start()

    def _wake(self) -> None:
        self.count += 1
        self.woken.set()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


@pytest.fixture
def listen() -> Iterator[Callable[[PostgresWakeups], Listening]]:
    started: list[Listening] = []

    def start(wakeups: PostgresWakeups) -> Listening:
        listening = Listening(wakeups)
        started.append(listening)
        assert listening.woken.wait(10)  # the first wake-up says it is listening
        listening.woken.clear()
        return listening

    yield start
    for listening in started:
        listening.close()


def test_only_postgresql_has_cross_process_wakeups() -> None:
    """SQLite and the in-memory store rely on the in-process wake and on polling."""
    assert open_wakeups("sqlite:///x.db") is None
    assert open_wakeups("memory://") is None
    assert isinstance(open_wakeups("postgresql://u@h/db"), PostgresWakeups)


@pytest.mark.postgres
def test_a_notify_wakes_listeners_of_the_same_schema_only(
    postgres_schema_url: str, listen: Callable[[PostgresWakeups], Listening], postgres_url: str
) -> None:
    """Two listeners on the schema are woken; one on another schema is not."""
    same = [listen(PostgresWakeups(postgres_schema_url)) for _ in range(2)]
    other = listen(PostgresWakeups(postgres_url))
    sender = PostgresWakeups(postgres_schema_url)
    sender.notify()
    assert all(listening.woken.wait(10) for listening in same)
    sender.notify()  # the sender's connection is reused
    sender.close()
    sender.notify()  # after close: a no-op, not an error
    assert not other.woken.wait(0.5)


def test_a_notify_without_a_server_is_swallowed() -> None:
    """The job is queued anyway: a failed notify only logs (polling finds the job)."""
    wakeups = PostgresWakeups("postgresql://postgres@127.0.0.1:1/test?connect_timeout=1")
    wakeups.notify()
    wakeups.close()


def test_a_listener_without_a_server_retries_until_stopped() -> None:
    """listen() keeps retrying an unreachable server and returns once stop is set."""
    wakeups = PostgresWakeups("postgresql://postgres@127.0.0.1:1/test?connect_timeout=1")
    stop = threading.Event()
    thread = threading.Thread(target=wakeups.listen, args=(lambda: None, stop))
    thread.start()
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()


@pytest.mark.postgres
def test_a_worker_with_a_long_poll_applies_a_job_queued_elsewhere_at_once(
    postgres_schema_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With a 60 s poll, the NOTIFY sent after the enqueue makes the worker apply it."""
    api_store, worker_store = open_store(postgres_schema_url), open_store(postgres_schema_url)
    api_store.upgrade()
    account = admin.create_account(api_store, "A", frozenset({CUSTOM_AUDIENCES_FEATURE}))
    app = admin.create_app(api_store, account.id, "app")
    new = NewAudience("aud", "Audience", IdentifierType.USER_ID)
    api_store.create_audience(app.id, new, "caud_1", utc_now())
    worker = Worker(worker_store, poll_interval=60, wakeups=PostgresWakeups(postgres_schema_url))
    sender = PostgresWakeups(postgres_schema_url)
    caplog.set_level(logging.INFO)
    worker.start()
    try:
        # The job arrives once the worker listens and its loop has gone idle.
        for _ in range(200):
            if any("worker.listening" in r.getMessage() for r in caplog.records):
                break
            threading.Event().wait(0.05)
        threading.Event().wait(0.5)
        mutation = mutations.add_remove(["a", "b"], None)
        api_store.enqueue_mutation(app.id, "aud", mutation, utc_now(), timedelta(hours=12))
        sender.notify()
        for _ in range(200):
            audience = api_store.get_audience(app.id, "aud")
            if audience is not None and audience.status is AudienceStatus.READY:
                break
            threading.Event().wait(0.05)
        assert audience is not None
        assert (audience.status, audience.user_count) == (AudienceStatus.READY, 2)
    finally:
        assert worker.stop(timeout=20)
        sender.close()
        api_store.close()
        worker_store.close()
