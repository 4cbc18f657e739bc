"""Settings from the environment (a ``.env`` file in the working directory may supply them)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from dotenv import dotenv_values

PREFIX = "CUSTOM_AUDIENCES_"
DEFAULT_DATABASE_URL = "sqlite:///data/custom-audiences.db"
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    rate_limit: str = "60/minute"
    replace_interval_seconds: int = 43200
    #: Run the mutation worker inside ``serve``; None means "yes on SQLite, no on PostgreSQL".
    embedded_worker: bool | None = None
    #: How long a claimed job stays a worker's without a renewal; then another worker takes it.
    worker_lease_seconds: float = 60.0
    #: How often an idle worker looks for jobs when nothing woke it sooner.
    worker_poll_seconds: float = 1.0
    #: How long a client may take to send a request's line and headers, and the longest
    #: its body may stall; past it the request is refused (408) and the connection closed.
    read_timeout_seconds: float = 20.0

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def runs_embedded_worker(self) -> bool:
        return not self.is_postgres if self.embedded_worker is None else self.embedded_worker

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``CUSTOM_AUDIENCES_*``; real environment variables win over ``.env``."""
        if environ is None:
            values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
            values.update(os.environ)
        else:
            values = dict(environ)

        def get(name: str) -> str | None:
            value = values.get(PREFIX + name)
            return value if value not in (None, "") else None

        embedded = get("EMBEDDED_WORKER")
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=get("REDIS_URL"),
            rate_limit=get("RATE_LIMIT") or "60/minute",
            replace_interval_seconds=int(get("REPLACE_INTERVAL_SECONDS") or 43200),
            embedded_worker=None if embedded is None else embedded.lower() in {"1", "true", "yes"},
            worker_lease_seconds=_seconds(values, "WORKER_LEASE_SECONDS", 60.0),
            worker_poll_seconds=_seconds(values, "WORKER_POLL_SECONDS", 1.0),
            read_timeout_seconds=_seconds(values, "READ_TIMEOUT_SECONDS", 20.0),
        )


def _seconds(values: Mapping[str, str], name: str, default: float) -> float:
    """A positive, finite number of seconds; anything else is a ValueError naming the setting."""
    value = values.get(PREFIX + name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ValueError(f"{PREFIX}{name} must be a positive number of seconds, not {value!r}")
    return seconds
