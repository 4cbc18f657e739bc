"""What differs per database engine: the scratch baseline and the garbage-collection probe.

Only SQLite baselines exist so far; a PostgreSQL run needs a ``RawPostgres`` with the same
three methods as ``RawSqlite`` (COPY into staging + INSERT ... SELECT ... ORDER BY, and
keyset paging), returned here for ``postgresql://`` URLs.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Protocol

from bench.raw_sqlite import RawSqlite


class RawEngine(Protocol):
    def insert(self, audience_pk: int, ids: list[str]) -> float: ...

    def remove(self, audience_pk: int, ids: list[str]) -> None: ...

    def export(self, audience_pk: int, limit: int) -> tuple[int, float]: ...

    def close(self) -> None: ...


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


def raw_engine(database_url: str, workdir: Path) -> RawEngine:
    if is_postgres(database_url):
        raise SystemExit("PostgreSQL baselines are not written yet (see bench/engine.py)")
    return RawSqlite(workdir / "raw.db")


def stale_generations(database_url: str) -> int:
    """Rows of superseded generations the server has still to delete."""
    if is_postgres(database_url):
        import psycopg

        with psycopg.connect(database_url) as connection:
            row = connection.execute("SELECT count(*) FROM stale_generations").fetchone()
    else:
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT count(*) FROM stale_generations").fetchone()
    return int(row[0]) if row else 0


def wait_for_garbage_collection(database_url: str, timeout: float = 300.0) -> float:
    """Block until old generations are deleted, so their clean-up does not skew what follows."""
    started = time.perf_counter()
    while stale_generations(database_url) and time.perf_counter() - started < timeout:
        time.sleep(0.2)
    return time.perf_counter() - started
