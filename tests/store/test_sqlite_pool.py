"""The SQLite connection pool: a bounded number of connections, and one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.sql import sqlite
from custom_audiences.store.sql.sqlite import SqliteDatabase


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqliteDatabase]:
    opened = SqliteDatabase(tmp_path / "pool.db", busy_timeout=0.5)
    with opened.write() as tx:
        tx.run("CREATE TABLE t (x INTEGER)")
    yield opened
    opened.close()


def hold_reads(
    database: SqliteDatabase, count: int, release: threading.Event
) -> list[threading.Thread]:
    """``count`` threads, each in a read transaction until ``release`` is set."""
    entered = threading.Barrier(count + 1)

    def read() -> None:
        with database.read(snapshot=True) as tx:
            tx.one("SELECT count(*) FROM t")
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=read) for _ in range(count)]
    for thread in threads:
        thread.start()
    entered.wait()
    return threads


def test_no_more_than_max_connections_are_open_at_once(database: SqliteDatabase) -> None:
    """With every connection in use, one more transaction waits, then is StoreUnavailable."""
    release = threading.Event()
    threads = hold_reads(database, sqlite.MAX_CONNECTIONS, release)
    try:
        with pytest.raises(StoreUnavailable, match="no connection free"), database.read() as tx:
            tx.one("SELECT 1")
    finally:
        release.set()
        for thread in threads:
            thread.join()
    with database.read() as tx:  # and all are back
        assert tx.one("SELECT count(*) FROM t") == (0,)


def test_writers_of_one_process_take_turns(database: SqliteDatabase) -> None:
    """A second writer waits for the first to commit, then sees its row and writes its own."""
    first_in, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def first() -> None:
        with database.write() as tx:
            tx.run("INSERT INTO t VALUES (1)")
            first_in.set()
            release.wait()

    def second() -> None:
        with database.write() as tx:
            seen.append(tx.one("SELECT count(*) FROM t"))
            tx.run("INSERT INTO t VALUES (2)")

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(10)
    two = threading.Thread(target=second)
    two.start()
    release.set()
    one.join()
    two.join()
    assert seen == [(1,)]


def test_a_writer_held_past_the_busy_timeout_is_store_unavailable(
    database: SqliteDatabase,
) -> None:
    """The in-process writer queue honours the busy timeout, like SQLite's own lock."""
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with database.write():
            first_in.set()
            release.wait()

    holder = threading.Thread(target=first)
    holder.start()
    assert first_in.wait(10)
    try:
        with pytest.raises(StoreUnavailable, match="writer is busy"), database.write():
            pass
    finally:
        release.set()
        holder.join()
