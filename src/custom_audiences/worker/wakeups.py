"""Waking idle workers in other processes the moment a mutation is accepted (PostgreSQL only).

An API process sends ``NOTIFY`` after each accepted mutation; every worker ``LISTEN``s on a
connection of its own and looks for a job at once instead of at its next poll. The queue
itself stays in the jobs table, so this is only a hint: a notification lost while a
listener reconnects, or one that could not be sent, delays a job until the next poll.

The channel is derived from the schema the connection works in, so that deployments (or
test runs) sharing one database in different schemas do not wake each other.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # psycopg loads only where PostgreSQL is used.
    from psycopg import Connection
    from psycopg.rows import TupleRow

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "custom_audiences_jobs_"
CONNECT_TIMEOUT_SECONDS = 5
#: How often a waiting listener looks at its stop event.
STOP_CHECK_SECONDS = 0.25
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 15.0


class Wakeups(Protocol):
    def notify(self) -> None:
        """Tell every listening worker that a job was queued; never raises."""

    def listen(self, wake: Callable[[], None], stop: threading.Event) -> None:
        """Call ``wake`` for each notification until ``stop`` is set; reconnects on failure."""

    def close(self) -> None: ...


def open_wakeups(database_url: str) -> Wakeups | None:
    """Cross-process wake-ups for this database, or None where polling is all there is."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresWakeups(database_url)
    return None


class PostgresWakeups:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._lock = threading.Lock()
        self._sender: Connection[TupleRow] | None = None
        self._sender_channel = ""
        self._closed = False

    def notify(self) -> None:
        import psycopg

        with self._lock:
            if self._closed:
                return
            try:
                if self._sender is None:
                    self._sender = self._connect()
                    self._sender_channel = _channel_of(self._sender)
                self._sender.execute("SELECT pg_notify(%s, '')", (self._sender_channel,))
            except psycopg.Error as error:
                # The job is queued all the same; the workers' next poll finds it.
                logger.warning("worker.notify_failed error=%s", _first_line(error))
                self._drop_sender()

    def listen(self, wake: Callable[[], None], stop: threading.Event) -> None:
        import psycopg
        from psycopg import sql

        pause = 0.0
        while not stop.is_set():
            try:
                with self._connect() as connection:
                    channel = _channel_of(connection)
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    logger.info("worker.listening channel=%s", channel)
                    pause = 0.0
                    wake()  # a job queued while nobody listened would otherwise wait a poll
                    while not stop.is_set():
                        for _ in connection.notifies(timeout=STOP_CHECK_SECONDS):
                            wake()
            except psycopg.Error as error:
                pause = min(max(pause * 2, RECONNECT_FIRST), RECONNECT_MAX)
                logger.warning(
                    "worker.listen_failed retry_in=%.1f error=%s", pause, _first_line(error)
                )
                stop.wait(pause)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop_sender()

    def _connect(self) -> Connection[TupleRow]:
        import psycopg

        return psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    def _drop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()


def _channel_of(connection: Connection[TupleRow]) -> str:
    """The schema's channel: a fixed-length name (channels are limited to 63 bytes)."""
    row = connection.execute("SELECT current_schema()").fetchone()
    schema = str(row[0] if row else "")
    return CHANNEL_PREFIX + hashlib.sha256(schema.encode()).hexdigest()[:16]


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
