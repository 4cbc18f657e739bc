"""PostgreSQL through psycopg 3: a connection pool, row locks, and COPY-staged bulk writes."""

from __future__ import annotations

import logging
import math
import select
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
import psycopg
from psycopg import IsolationLevel, errors
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from custom_audiences.errors import ApiError, InternalError
from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.migrations import upgrade_to_head
from custom_audiences.store.sql.database import IdsColumn, Params, Row

logger = logging.getLogger(__name__)

#: An insert of this many members is followed by ANALYZE (see _refresh_statistics), unless
#: this process ran one less than ANALYZE_EVERY_SECONDS ago.
ANALYZE_AFTER_ROWS = 50_000
ANALYZE_EVERY_SECONDS = 30.0
POOL_MAX_SIZE = 10
#: How long a transaction waits for a connection: ample for the queue of a healthy pool,
#: short enough that while the database is away a request gets its 503 promptly.
POOL_TIMEOUT_SECONDS = 3.0
#: A connection idle in the pool for longer than this gets an empty round trip before it
#: is handed out again, in case something between here and the server dropped it silently.
CHECK_IDLE_AFTER_SECONDS = 30.0
#: A pool that cannot connect retries with a growing delay, but gives up after this long,
#: and the next request starts afresh: it reconnects within seconds of the database's
#: return, however long the outage (psycopg_pool's default, 5 minutes, let the delay grow
#: to minutes).
RECONNECT_SECONDS = 10.0
# Errors that say the database is missing something or refuses us, not that our SQL is wrong.
OPERATIONAL_PROGRAMMING_ERRORS = (errors.UndefinedTable, errors.InsufficientPrivilege)


class PostgresTx:
    def __init__(self, connection: psycopg.Connection[TupleRow]) -> None:
        self._connection = connection
        #: Members inserted so far: a large insert calls for fresh planner statistics.
        self.inserted = 0

    def one(self, sql: str, params: Params = ()) -> Row | None:
        with self._connection.cursor() as cursor:
            cursor.execute(_placeholders(sql), params)
            return cursor.fetchone()

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        with self._connection.cursor() as cursor:
            cursor.execute(_placeholders(sql), params)
            return cursor.fetchall()

    def run(self, sql: str, params: Params = ()) -> int:
        with self._connection.cursor() as cursor:
            cursor.execute(_placeholders(sql), params)
            return cursor.rowcount

    def add_members(self, job_id: int, column: IdsColumn, audience_pk: int, generation: int) -> int:
        staging = self._stage(job_id, column)
        if staging is None:
            return 0
        # Key order makes the index inserts sequential (1.7x faster than arrival order).
        inserted = self.run(
            "INSERT INTO members (audience_pk, generation, user_id)"
            f" SELECT ?, ?, user_id FROM {staging} ORDER BY user_id ON CONFLICT DO NOTHING",
            (audience_pk, generation),
        )
        self.inserted += inserted
        return inserted

    def remove_members(
        self, job_id: int, column: IdsColumn, audience_pk: int, generation: int
    ) -> int:
        staging = self._stage(job_id, column)
        if staging is None:
            return 0
        return self.run(
            f"DELETE FROM members m USING {staging} s"
            " WHERE m.audience_pk = ? AND m.generation = ? AND m.user_id = s.user_id",
            (audience_pk, generation),
        )

    def _stage(self, job_id: int, column: IdsColumn) -> str | None:
        """COPY the job's identifiers into a temporary table dropped at commit; its name."""
        row = self.one(f"SELECT {column} FROM jobs WHERE id = ?", (job_id,))
        if row is None or row[0] is None:
            return None
        text: str = row[0]
        staging = f"staging_{column}"
        self.run(f'CREATE TEMP TABLE {staging} (user_id text COLLATE "C") ON COMMIT DROP')
        identifiers = msgspec.json.decode(text, type=list[str])
        with (
            self._connection.cursor() as cursor,
            cursor.copy(f"COPY {staging} (user_id) FROM STDIN") as copy,
        ):
            if "\\" in text:
                # Some identifier holds a backslash or a control character (JSON escapes
                # both), which COPY's text format would misread: let psycopg escape rows.
                for identifier in identifiers:
                    copy.write_row((identifier,))
            else:
                copy.write("\n".join(identifiers) + "\n")
        return staging


class PostgresDatabase:
    """A pool of connections opened on first use; one pooled connection per transaction."""

    row_lock = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    version_table_query = "SELECT 1 WHERE to_regclass('alembic_version') IS NOT NULL"

    def __init__(self, url: str, *, pool_timeout: float = POOL_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._pool_timeout = pool_timeout
        self._pool: ConnectionPool[psycopg.Connection[TupleRow]] | None = None
        self._idle_check = _IdleCheck()
        self._lock = threading.Lock()
        self._next_analyze = -math.inf
        self._closed = False

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[PostgresTx]:
        # A single statement runs in autocommit (one round trip instead of three); several
        # share one REPEATABLE READ snapshot.
        isolation = IsolationLevel.REPEATABLE_READ if snapshot else None
        with self._translated(None), self._connection(not snapshot) as connection:
            connection.isolation_level = isolation
            connection.read_only = True
            yield PostgresTx(connection)

    @contextmanager
    def write(self, *, on_duplicate: ApiError | None = None) -> Iterator[PostgresTx]:
        with self._translated(on_duplicate), self._connection(False) as connection:
            connection.isolation_level = None  # READ COMMITTED; checks lock their rows
            connection.read_only = None  # the server default: a read-only server refuses
            tx = PostgresTx(connection)
            yield tx
        if tx.inserted >= ANALYZE_AFTER_ROWS and self._analyze_due():
            self._refresh_statistics()

    def _analyze_due(self) -> bool:
        """At most one ANALYZE per ANALYZE_EVERY_SECONDS from this process: on a large table
        one costs up to a second. What is inserted in between is counted by the next large
        insert after the pause (or by autovacuum), not at once."""
        with self._lock:
            now = time.monotonic()
            if now < self._next_analyze:
                return False
            self._next_analyze = now + ANALYZE_EVERY_SECONDS
            return True

    def _refresh_statistics(self) -> None:
        """ANALYZE the members table after a large insert (it is committed by now).

        Until the planner's statistics count a big new generation, it expects a handful of
        rows and plans each page of List users, and each garbage-collection batch, as a
        sort of the whole generation: 50-100x slower at a million members. Autovacuum would
        catch up within minutes; this does it at once. Skipped when another ANALYZE holds
        the table (it refreshes the same statistics), and never an error for the caller.
        """
        try:
            with self.write() as tx:
                tx.run("SET LOCAL lock_timeout = '100ms'")
                tx.run("ANALYZE members")
        except (StoreUnavailable, InternalError) as error:
            logger.info("store.analyze_skipped error=%s", str(error).splitlines()[0])

    def upgrade(self) -> None:
        upgrade_to_head("postgresql+psycopg://" + self._url.split("://", 1)[1])

    def ping(self) -> None:
        with self.read() as tx:
            tx.one("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @contextmanager
    def _connection(self, autocommit: bool) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled connection; unless in autocommit, its transaction commits at the end
        of the block, or rolls back if the block raised."""
        with self._opened_pool().connection() as connection:
            # Pooled connections keep their settings: every checkout sets them all.
            connection.autocommit = autocommit
            yield connection

    def _opened_pool(self) -> ConnectionPool[psycopg.Connection[TupleRow]]:
        with self._lock:
            if self._closed:
                raise StoreUnavailable("the store is closed")
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=POOL_MAX_SIZE,
                    timeout=self._pool_timeout,
                    reconnect_timeout=RECONNECT_SECONDS,
                    name="custom-audiences",
                    configure=_configure,
                    # A connection broken while idle is replaced, not handed to a request.
                    check=self._idle_check.check,
                    reset=self._idle_check.returned,
                    open=True,
                )
            return self._pool

    @contextmanager
    def _translated(self, on_duplicate: ApiError | None) -> Iterator[None]:
        try:
            yield
        except errors.UniqueViolation as error:
            raise (on_duplicate or InternalError(f"integrity error: {error}")) from error
        except psycopg.IntegrityError as error:
            raise InternalError(f"integrity error: {error}") from error
        except OPERATIONAL_PROGRAMMING_ERRORS as error:
            raise StoreUnavailable(f"PostgreSQL: {error}") from error
        except (psycopg.ProgrammingError, psycopg.DataError) as error:
            raise InternalError(f"database misuse: {error}") from error
        except psycopg.Error as error:
            # Cannot connect, pool exhausted, server shutting down, disk full, read-only.
            raise StoreUnavailable(f"PostgreSQL: {error}") from error


class _IdleCheck:
    """The pool's ``check`` and ``reset`` callbacks: is a pooled connection still good?

    An empty round trip on every checkout would cost ~100 us each time. Instead a connection
    is checked when the server sent it something while it sat idle (a server that stops or
    restarts says goodbye and closes: its socket turns readable), or when it sat idle long.
    """

    def __init__(self) -> None:
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection[TupleRow], float] = (
            weakref.WeakKeyDictionary()
        )

    def returned(self, connection: psycopg.Connection[TupleRow]) -> None:
        self._returned[connection] = time.monotonic()

    def check(self, connection: psycopg.Connection[TupleRow]) -> None:
        returned = self._returned.get(connection)
        if returned is None or time.monotonic() - returned > CHECK_IDLE_AFTER_SECONDS:
            ConnectionPool.check_connection(connection)
        elif select.select([connection.pgconn.socket], [], [], 0)[0]:
            ConnectionPool.check_connection(connection)  # raises unless it was only a notice


def _configure(connection: psycopg.Connection[TupleRow]) -> None:
    """Plan every statement for its actual parameters: audiences range from a handful of
    members to millions, and a generic plan fitted to the small ones (bitmap scan + sort)
    would read a whole large generation to delete one batch of it."""
    connection.execute("SET plan_cache_mode = force_custom_plan")
    connection.commit()


def _placeholders(sql: str) -> str:
    """The shared SQL's ``?`` placeholders in psycopg's ``%s`` style (no ``?`` or ``%`` else)."""
    return sql.replace("?", "%s")
