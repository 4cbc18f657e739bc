"""Persistent state behind one port (``base.Store``), opened from a database URL."""

from __future__ import annotations

from pathlib import Path

from custom_audiences.store.base import Store

SQLITE_PREFIX = "sqlite:///"


def open_store(database_url: str) -> Store:
    """The store for a URL; it connects lazily and never migrates (``Store.upgrade`` does).

    ``sqlite:///relative/path.db`` (from the working directory), ``sqlite:////abs/path.db``,
    ``postgresql://...`` (or ``postgres://``), and ``memory://`` for a throw-away store.
    """
    # Imported here so that a store's driver loads only when that store is used.
    if database_url.startswith(SQLITE_PREFIX):
        from custom_audiences.store.sql import SqlStore
        from custom_audiences.store.sql.sqlite import SqliteDatabase

        return SqlStore(SqliteDatabase(_sqlite_path(database_url)))
    if database_url.startswith(("postgresql://", "postgres://")):
        from custom_audiences.store.sql import SqlStore
        from custom_audiences.store.sql.postgres import PostgresDatabase

        return SqlStore(PostgresDatabase(database_url))
    if database_url == "memory://":
        from custom_audiences.store.memory import InMemoryStore

        return InMemoryStore()
    raise ValueError(
        "unsupported database URL (expected sqlite:///PATH, postgresql://... or memory://): "
        + database_url.split("://", 1)[0]
    )


def _sqlite_path(database_url: str) -> Path:
    raw = database_url.removeprefix(SQLITE_PREFIX).split("?", 1)[0]
    if not raw or raw == ":memory:":
        # Each pooled connection would get its own private in-memory database.
        raise ValueError("a SQLite database URL needs a file path: sqlite:///PATH")
    path = Path(raw).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
