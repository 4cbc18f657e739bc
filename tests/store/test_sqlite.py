"""SQLite specifics: URLs, connection settings, read-only and unopenable database files."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from custom_audiences.store import open_store
from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.store.sql import SqlStore
from custom_audiences.store.sql.sqlite import SqliteDatabase

from .conftest import World, add_app, open_sqlite


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    store = open_sqlite(tmp_path / "ca.db")
    add_app(store, "app_1")
    yield World(store)
    store.close()


def test_relative_url_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlite:///rel/path.db lives under the CWD, whose missing directories are created."""
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/nested/ca.db")
    store.upgrade()
    store.close()
    assert (tmp_path / "data" / "nested" / "ca.db").is_file()


def test_absolute_url_and_other_schemes(tmp_path: Path) -> None:
    """sqlite:////abs is absolute, memory:// is the in-memory store, others are refused."""
    store = open_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(store, SqlStore)
    store.upgrade()
    store.close()
    assert (tmp_path / "abs.db").is_file()
    assert isinstance(open_store("memory://"), InMemoryStore)
    for url in ("mysql://localhost/db", "sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ValueError, match="URL"):
            open_store(url)


def test_opening_does_not_migrate(tmp_path: Path) -> None:
    """Until upgrade() runs there is no schema, and using the store says so."""
    store = open_store(f"sqlite:///{tmp_path}/ca.db")
    with pytest.raises(StoreUnavailable, match="no such table"):
        store.has_accounts()
    store.upgrade()
    assert not store.has_accounts()
    store.close()


def test_connections_use_wal_and_full_sync(sqlite_world: World) -> None:
    """Every connection runs in WAL mode, fsyncs each commit and enforces foreign keys."""
    store = sqlite_world.store
    assert isinstance(store, SqlStore)
    with store.database.read() as tx:
        assert tx.one("PRAGMA journal_mode") == ("wal",)
        assert tx.one("PRAGMA synchronous") == (2,)  # FULL
        assert tx.one("PRAGMA foreign_keys") == (1,)
        assert tx.one("PRAGMA busy_timeout") == (30000,)


def test_a_read_only_database_is_unavailable(tmp_path: Path) -> None:
    """A database file that cannot be written still reads, and writes raise StoreUnavailable."""
    path = tmp_path / "ca.db"
    world = World(open_sqlite(path))
    add_app(world.store, "app_1")
    world.store.close()
    with _read_only(path):
        store = open_store(f"sqlite:///{path}")
        assert store.get_app("app_1") is not None
        with pytest.raises(StoreUnavailable, match="readonly"):
            add_app(store, "app_2", "acct_2")
        store.close()


def test_an_unopenable_path_is_unavailable(tmp_path: Path) -> None:
    """A database path that is a directory cannot be opened: StoreUnavailable, not a crash."""
    (tmp_path / "dir.db").mkdir()
    store = open_store(f"sqlite:///{tmp_path}/dir.db")
    with pytest.raises(StoreUnavailable):
        store.ping()


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make a file unwritable, even for root (who needs the immutable attribute)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", path], check=False).returncode:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", path], check=True)


def test_a_lock_held_past_the_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    """A writer that cannot get the lock in time gets StoreUnavailable, and nothing is written."""
    path = tmp_path / "ca.db"
    open_sqlite(path).close()
    store = SqlStore(SqliteDatabase(path, busy_timeout=0.1))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable, match="locked"):
        add_app(store, "app_1")
    holder.execute("ROLLBACK")
    holder.close()
    assert not store.has_accounts()
    store.close()
