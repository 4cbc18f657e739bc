"""What differs per database engine: the databases a run uses, and the GC probe.

SQLite: the server's file and the raw baseline's file in the run's temporary directory.
PostgreSQL: two fresh schemas in the given database (the server's, through
``search_path``, and the raw baseline's), both dropped at the end of the run.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit


class RawEngine(Protocol):
    insert_name: str  #: how the baseline adds ids, for the report
    export_name: str

    def insert(self, audience_pk: int, ids: list[str]) -> float: ...

    def export(self, audience_pk: int, limit: int) -> tuple[int, float]: ...

    def close(self) -> None: ...


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


@contextmanager
def databases(database_url: str | None, workdir: Path) -> Iterator[tuple[str, RawEngine]]:
    """(the server's database URL, the raw baseline) for one run; cleaned up afterwards."""
    if database_url is None or not is_postgres(database_url):
        from bench.raw_sqlite import RawSqlite

        raw_sqlite = RawSqlite(workdir / "raw.db")
        try:
            yield database_url or f"sqlite:///{workdir / 'bench.db'}", raw_sqlite
        finally:
            raw_sqlite.close()
        return

    import psycopg
    from psycopg import sql

    from bench.raw_postgres import RawPostgres

    suffix = secrets.token_hex(4)
    server_schema = f"bench_server_{suffix}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(server_schema)))
    raw_postgres = RawPostgres(database_url, f"bench_raw_{suffix}")
    try:
        yield _with_search_path(database_url, server_schema), raw_postgres
    finally:
        raw_postgres.close()
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(server_schema)))


def server_versions(database_url: str) -> dict[str, str]:
    """The database server's version, for the report (SQLite's is in the machine info)."""
    if not is_postgres(database_url):
        return {}
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return {"postgresql": str(row[0]) if row else "unknown"}


def _with_search_path(database_url: str, schema: str) -> str:
    parts = urlsplit(database_url)
    query = [*parse_qsl(parts.query), ("options", f"-c search_path={schema}")]
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


def stale_generations(database_url: str) -> int:
    """Superseded generations the server has still to delete."""
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
