"""The per-key limiter on `limits`: counting, peeking, reset time, failing open without Redis."""

from __future__ import annotations

import logging
import secrets
import time

import pytest

from custom_audiences.config import Settings
from custom_audiences.services.rate_limit import (
    RETRY_AFTER_FAILURE_SECONDS,
    LimitsRateLimiter,
    ThrottledLog,
    build_rate_limiter,
)

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_hits_count_down_and_the_one_over_the_limit_is_refused() -> None:
    """Three allowed with 2, 1, 0 remaining; the fourth is not allowed."""
    limiter = LimitsRateLimiter("3/minute")
    statuses = [limiter.hit("key_a") for _ in range(4)]
    assert [s.allowed for s in statuses] == [True, True, True, False]
    assert [s.remaining for s in statuses] == [2, 1, 0, 0]
    assert {s.limit for s in statuses} == {3}


def test_the_window_end_is_reported_and_retry_after_is_whole_seconds() -> None:
    """Reset lies within one window from now; Retry-After is 1..60 seconds."""
    limiter = LimitsRateLimiter("1/minute")
    limiter.hit("key_a")
    refused = limiter.hit("key_a")
    now = time.time()
    assert now < refused.reset_time <= now + 60
    assert refused.reset_at == int(refused.reset_at)
    assert 1 <= refused.retry_after(now) <= 60
    assert refused.retry_after(refused.reset_time + 10) == 1


def test_keys_have_separate_counters() -> None:
    """One key's use does not touch another's."""
    limiter = LimitsRateLimiter("2/minute")
    limiter.hit("key_a")
    limiter.hit("key_a")
    assert limiter.hit("key_b").remaining == 1


def test_peek_does_not_count() -> None:
    """Peeking reports the standing without using a request."""
    limiter = LimitsRateLimiter("2/minute")
    limiter.hit("key_a")
    assert [limiter.peek("key_a").remaining for _ in range(3)] == [1, 1, 1]
    assert limiter.peek("fresh").remaining == 2


def test_settings_choose_the_rate() -> None:
    """``rate_limit`` is parsed as limits notation."""
    limiter = build_rate_limiter(Settings(rate_limit="5 per second"))
    assert limiter.hit("key_a").limit == 5


@pytest.mark.parametrize("rate", ["sixty", "60/fortnight", ""])
def test_an_invalid_rate_is_refused_at_construction(rate: str) -> None:
    """A misconfiguration fails at start, not on the first request."""
    with pytest.raises(ValueError, match="rate limit"):
        LimitsRateLimiter(rate)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_unreachable_redis_fails_open_and_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down storage: every request is allowed with full headers, counted, and health says so."""
    limiter = LimitsRateLimiter("2/minute", DEAD_REDIS)
    with caplog.at_level(logging.WARNING):
        statuses = [limiter.hit("key_a") for _ in range(5)]
    assert all(s.allowed for s in statuses)
    assert {(s.limit, s.remaining) for s in statuses} == {(2, 2)}
    assert all(s.reset_time > time.time() for s in statuses)
    assert limiter.peek("key_a").allowed
    health = limiter.health()
    assert (health.dependency, health.state) == ("redis", "unavailable")
    assert health.failures >= 1
    assert health.unchecked_requests == 6
    assert any("rate_limit.storage_unavailable" in r.getMessage() for r in caplog.records)


def test_after_a_failure_redis_is_left_alone_for_a_while(caplog: pytest.LogCaptureFixture) -> None:
    """One failure, then no connection attempt (and no log line) until the pause is over."""
    clock = Clock()
    limiter = LimitsRateLimiter("2/minute", DEAD_REDIS, clock=clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            limiter.hit("key_a")
        assert limiter.health().failures == 1
        clock.now += RETRY_AFTER_FAILURE_SECONDS
        limiter.hit("key_a")
    assert limiter.health().failures == 2
    # The second failure falls within the log interval: one line for both.
    assert len([r for r in caplog.records if "storage_unavailable" in r.getMessage()]) == 1


def test_the_failure_log_is_throttled_and_says_how_many_it_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At most one line per interval; the next line counts those held back."""
    clock = Clock()
    log = ThrottledLog(30.0, clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            log.warning("event n=%d", 1)
        clock.now += 30.0
        log.warning("event n=%d", 2)
    assert [r.getMessage() for r in caplog.records] == [
        "event n=1 held_back=0",
        "event n=2 held_back=2",
    ]


def test_memory_storage_is_always_healthy() -> None:
    """Without Redis the limiter has no dependency to report."""
    health = LimitsRateLimiter("2/minute").health()
    assert (health.dependency, health.state, health.failures) == (None, "ok", 0)


@pytest.mark.redis
def test_redis_counters_are_shared_between_limiters(redis_url: str) -> None:
    """Two processes configured with the same Redis see one counter per key."""
    first = LimitsRateLimiter("3/minute", redis_url)
    second = LimitsRateLimiter("3/minute", redis_url)
    key = "key_" + secrets.token_hex(8)
    assert first.hit(key).remaining == 2
    assert second.hit(key).remaining == 1
    assert first.peek(key).remaining == 1


@pytest.mark.redis
def test_a_reachable_redis_is_healthy(redis_url: str) -> None:
    """health() pings Redis and reports it ok with no failures."""
    health = LimitsRateLimiter("3/minute", redis_url).health()
    assert (health.dependency, health.state, health.failures) == ("redis", "ok", 0)
