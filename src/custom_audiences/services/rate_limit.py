"""Per-API-key request rate limiting, behind a small interface so the storage can vary.

The real limiter uses the ``limits`` library with a fixed window: the first request of a
key opens a window of the configured length (``60/minute`` by default), and the window's
end is what ``X-RateLimit-Reset`` reports. Counters live in process memory, or in Redis
when ``redis_url`` is set so that several API processes share them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from custom_audiences.config import Settings
from custom_audiences.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


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


class RateLimiter(Protocol):
    def hit(self, key: str) -> RateStatus:
        """Count one request for ``key`` and report whether it is within the limit."""

    def peek(self, key: str) -> RateStatus:
        """Report the key's standing without counting a request."""


class LimitsRateLimiter:
    """A fixed-window limiter on ``limits``; storage ``memory://`` or a ``redis://`` URL."""

    def __init__(self, rate: str, storage_url: str = "memory://") -> None:
        try:
            self._item: RateLimitItem = parse(rate)
            storage = storage_from_string(storage_url, wrap_exceptions=True)
        except (ValueError, ConfigurationError) as error:
            raise ValueError(f"invalid rate limit configuration: {error}") from error
        self._limiter = FixedWindowRateLimiter(storage)

    def hit(self, key: str) -> RateStatus:
        try:
            allowed = self._limiter.hit(self._item, key)
        except StorageError as error:
            raise _unavailable(error) from error
        return self._status(key, allowed=allowed)

    def peek(self, key: str) -> RateStatus:
        return self._status(key, allowed=None)

    def _status(self, key: str, *, allowed: bool | None) -> RateStatus:
        try:
            reset_time, remaining = self._limiter.get_window_stats(self._item, key)
        except StorageError as error:
            raise _unavailable(error) from error
        if allowed is None:
            allowed = remaining > 0
        # A key with no window yet reports "now" as its reset: a full window lies ahead.
        reset_at = reset_time if remaining < self._item.amount else time.time()
        return RateStatus(allowed, self._item.amount, remaining, reset_at)


def build_rate_limiter(settings: Settings) -> LimitsRateLimiter:
    return LimitsRateLimiter(settings.rate_limit, settings.redis_url or "memory://")


def _unavailable(error: StorageError) -> ServiceUnavailable:
    logger.warning("rate_limit.storage_unavailable error=%s", error)
    return ServiceUnavailable()
