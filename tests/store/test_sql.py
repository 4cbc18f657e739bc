"""Both SQL engines: durability across reopening, concurrent writers, last-resort constraints."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from custom_audiences.domain import mutations
from custom_audiences.errors import MutationInProgress
from custom_audiences.store import open_store
from custom_audiences.store.base import Job, StoreUnavailable
from custom_audiences.store.sql import SqlStore

from .conftest import LEASE, NOW, World, add_app

SQL_ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL; every store opened on it shares one database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ca.db"
    return str(request.getfixturevalue("postgres_store_url"))


@pytest.fixture
def opened(url: str) -> Iterator[Callable[[], SqlStore]]:
    """Opens stores on the URL (the first one migrates) and closes them all afterwards."""
    stores: list[SqlStore] = []

    def open_one() -> SqlStore:
        store = open_store(url)
        assert isinstance(store, SqlStore)
        if not stores:
            store.upgrade()
        stores.append(store)
        return store

    yield open_one
    for store in stores:
        store.close()


@pytest.fixture
def sql_world(opened: Callable[[], SqlStore]) -> World:
    world = World(opened())
    add_app(world.store, "app_1")
    world.audience()
    return world


def test_data_survives_reopening(sql_world: World, opened: Callable[[], SqlStore]) -> None:
    """Accepted jobs and applied members are durable once the call returns."""
    sql_world.run(mutations.add_remove(["a", "b"], None))
    sql_world.enqueue(mutations.add_remove(["c"], ["a"]))
    sql_world.store.close()

    reopened = World(opened())
    assert reopened.members() == ["a", "b"]
    job = reopened.store.claim_job("after-restart", NOW, LEASE)
    assert job is not None
    reopened.store.apply_job(job, "after-restart", NOW)
    assert reopened.members() == ["b", "c"]


def test_concurrent_enqueues_exactly_one_wins(
    sql_world: World, opened: Callable[[], SqlStore]
) -> None:
    """Two writers enqueueing on one audience at once, through separate stores: one 202, one 409."""
    stores = [sql_world.store, opened()]
    for round_number in range(5):
        mutation = mutations.add_remove([f"u{round_number}"], None)
        enqueue = [
            partial(s.enqueue_mutation, "app_1", "aud", mutation, NOW, timedelta(hours=12))
            for s in stores
        ]
        outcomes = _together(enqueue)
        assert sorted(type(o).__name__ for o in outcomes) == ["Audience", "MutationInProgress"]
        job = sql_world.store.claim_job("worker", NOW, LEASE)
        assert job is not None
        sql_world.store.apply_job(job, "worker", NOW)
    assert sql_world.members() == [f"u{n}" for n in range(5)]


def test_concurrent_claims_take_different_jobs(
    sql_world: World, opened: Callable[[], SqlStore]
) -> None:
    """Two workers claiming at once never get the same job."""
    sql_world.audience("second")
    sql_world.enqueue(mutations.clear())
    sql_world.enqueue(mutations.clear(), "second")
    stores = [sql_world.store, opened()]
    claims = _together([partial(s.claim_job, f"w{n}", NOW, LEASE) for n, s in enumerate(stores)])
    assert all(isinstance(claim, Job) for claim in claims)
    assert len({claim.id for claim in claims if isinstance(claim, Job)}) == 2


def test_the_pending_job_index_is_the_last_line_of_defence(sql_world: World) -> None:
    """Should a pending job exist behind a ready status, the unique index still refuses."""
    store = sql_world.store
    assert isinstance(store, SqlStore)
    with store.database.write() as tx:
        tx.run(
            "INSERT INTO jobs (audience_pk, kind, state, processed_count, skipped_count,"
            " created_at) SELECT pk, 'clear', 'queued', 0, 0, 0 FROM audiences"
        )
    with pytest.raises(MutationInProgress):
        sql_world.enqueue(mutations.clear())
    assert sql_world.current().status.value == "ready"  # the whole enqueue rolled back


def test_a_finished_job_frees_its_identifiers(sql_world: World) -> None:
    """Once applied or failed, a job keeps its counts but not its identifier lists."""
    store = sql_world.store
    assert isinstance(store, SqlStore)
    sql_world.run(mutations.add_remove(["a"], ["b"]))
    sql_world.enqueue(mutations.replace(["c"]))
    job = store.claim_job("w", NOW, LEASE)
    assert job is not None
    store.fail_job(job, "w", NOW)
    with store.database.read() as tx:
        rows = tx.all("SELECT state, add_ids, remove_ids, processed_count FROM jobs ORDER BY id")
    assert rows == [("done", None, None, 2), ("failed", None, None, 1)]


def test_identifiers_needing_escapes_round_trip(sql_world: World) -> None:
    """Backslashes, quotes and COPY's own markers are stored exactly as sent."""
    tricky = ["back\\slash", '"quoted"', "\\N", "\\.", "it's", "tab\\t", "a b", "%s", "?"]
    sql_world.run(mutations.add_remove(tricky, None))
    assert sql_world.members() == sorted(tricky, key=str.encode)
    sql_world.run(mutations.add_remove(None, tricky[:4]))
    assert sql_world.members() == sorted(tricky[4:], key=str.encode)


def _together(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released at the same instant; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes.append(call())
        except Exception as error:  # the outcome under test may be an exception
            outcomes.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_closed_store_refuses_work(opened: Callable[[], SqlStore]) -> None:
    """After close() a store does not silently reconnect."""
    store = opened()
    store.ping()
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.ping()
