"""Per-API-key request rate limiting, behind a small interface so the storage can vary.

The real limiter uses the ``limits`` library with a fixed window: the first request of a
key opens a window of the configured length (``60/minute`` by default), and the window's
end is what ``X-RateLimit-Reset`` reports. Counters live in process memory, or in Redis
when ``redis_url`` is set so that several API processes share them.

When Redis cannot be reached the limiter fails open: requests are served uncounted rather
than refused, since the limit protects the service and a refusal would turn a Redis outage
into an API outage. Each failure is counted, logged at most every ``LOG_EVERY_SECONDS``,
and Redis is left alone for ``RETRY_AFTER_FAILURE_SECONDS`` so that an outage costs the
requests nothing but a skipped check. ``health()`` tells ``/healthz`` what it knows.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError, StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from custom_audiences.config import Settings

logger = logging.getLogger(__name__)

MEMORY = "memory://"
#: Redis must connect and answer within this, or the request goes on without a check.
REDIS_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_FAILURE_SECONDS = 2.0
LOG_EVERY_SECONDS = 30.0

StorageState = Literal["ok", "unavailable"]


@dataclass(frozen=True, slots=True)
class RateStatus:
    """Where a key stands in its current window."""

    allowed: bool
    limit: int
    remaining: int
    #: Unix time at which the current window ends.
    reset_time: float

    @property
    def reset_at(self) -> int:
        """The window's end in whole Unix seconds, rounded up."""
        return math.ceil(self.reset_time)

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil(self.reset_time - now))


@dataclass(frozen=True, slots=True)
class LimiterHealth:
    """What ``/healthz`` reports about the limiter's shared storage."""

    #: ``redis`` when counters are shared, None when they live in this process.
    dependency: str | None
    state: StorageState
    #: Storage failures since the process started (each one let requests through).
    failures: int
    #: Requests served without a limit check because the storage was unavailable.
    unchecked_requests: int


class RateLimiter(Protocol):
    def hit(self, key: str) -> RateStatus:
        """Count one request for ``key`` and report whether it is within the limit."""

    def peek(self, key: str) -> RateStatus:
        """Report the key's standing without counting a request."""

    def health(self) -> LimiterHealth:
        """The storage's state, checked now when it is believed to be up."""


class LimitsRateLimiter:
    """A fixed-window limiter on ``limits``; storage ``memory://`` or a ``redis://`` URL."""

    def __init__(
        self,
        rate: str,
        storage_url: str = MEMORY,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            self._item: RateLimitItem = parse(rate)
            self._storage = _open_storage(storage_url)
        except (ValueError, ConfigurationError) as error:
            raise ValueError(f"invalid rate limit configuration: {error}") from error
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._shared = storage_url != MEMORY
        self._clock = clock
        self._lock = threading.Lock()
        self._skip_until = -math.inf  # the storage is left alone until then
        self._failures = 0
        self._unchecked = 0
        self._log = ThrottledLog(LOG_EVERY_SECONDS, clock)

    def hit(self, key: str) -> RateStatus:
        if self._skipping():
            return self._unchecked_status()
        try:
            allowed = self._limiter.hit(self._item, key)
            return self._status(key, allowed=allowed)
        except StorageError as error:
            self._failed(error)
            return self._unchecked_status()

    def peek(self, key: str) -> RateStatus:
        if self._skipping():
            return self._unchecked_status()
        try:
            return self._status(key, allowed=None)
        except StorageError as error:
            self._failed(error)
            return self._unchecked_status()

    def health(self) -> LimiterHealth:
        if not self._shared:
            return self._health("ok")
        if self._skipping():
            return self._health("unavailable")
        if self._storage.check():
            return self._health("ok")
        self._failed(None)
        return self._health("unavailable")

    def _status(self, key: str, *, allowed: bool | None) -> RateStatus:
        reset_time, remaining = self._limiter.get_window_stats(self._item, key)
        if allowed is None:
            allowed = remaining > 0
        # A key with no window yet reports "now" as its reset: a full window lies ahead.
        reset_at = reset_time if remaining < self._item.amount else time.time()
        return RateStatus(allowed, self._item.amount, remaining, reset_at)

    def _skipping(self) -> bool:
        with self._lock:
            return self._clock() < self._skip_until

    def _failed(self, error: StorageError | None) -> None:
        with self._lock:
            self._failures += 1
            failures = self._failures
            self._skip_until = self._clock() + RETRY_AFTER_FAILURE_SECONDS
        cause = "the health check failed" if error is None else _describe(error)
        self._log.warning(
            "rate_limit.storage_unavailable failures=%d serving_unchecked=true error=%s",
            failures,
            cause,
        )

    def _unchecked_status(self) -> RateStatus:
        with self._lock:
            self._unchecked += 1
        # Nothing was counted: the key is reported as having its whole window ahead.
        window_end = time.time() + self._item.get_expiry()
        return RateStatus(True, self._item.amount, self._item.amount, window_end)

    def _health(self, state: StorageState) -> LimiterHealth:
        with self._lock:
            failures, unchecked = self._failures, self._unchecked
        return LimiterHealth("redis" if self._shared else None, state, failures, unchecked)


class ThrottledLog:
    """A warning at most once per interval; the lines held back are counted in the next one."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next = -math.inf
        self._held_back = 0

    def warning(self, message: str, *args: object) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._held_back += 1
                return
            held_back, self._held_back = self._held_back, 0
            self._next = now + self._interval
        logger.warning(message + " held_back=%d", *args, held_back)


def build_rate_limiter(settings: Settings) -> LimitsRateLimiter:
    return LimitsRateLimiter(settings.rate_limit, settings.redis_url or MEMORY)


def _open_storage(storage_url: str) -> Storage:
    # Short timeouts: a Redis that hangs must not hold requests for longer than this.
    options = (
        {}
        if storage_url == MEMORY
        else {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        }
    )
    storage = storage_from_string(storage_url, wrap_exceptions=True, **options)
    if not isinstance(storage, Storage):  # an async:// scheme: not for these worker threads
        raise ValueError(f"not a synchronous storage: {storage_url.split('://', 1)[0]}")
    return storage


def _describe(error: StorageError) -> str:
    """The driver's error class and first line: addresses at most, never credentials."""
    cause = error.storage_error
    lines = str(cause).splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".strip()
