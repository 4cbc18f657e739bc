"""The SQL store: one engine-neutral ``SqlStore`` over a SQLite or PostgreSQL ``Database``."""

from custom_audiences.store.sql.store import SqlStore

__all__ = ["SqlStore"]
