"""The per-key limiter on `limits`: counting, peeking, reset time, storage failures."""

from __future__ import annotations

import secrets
import time

import pytest

from custom_audiences.config import Settings
from custom_audiences.errors import ServiceUnavailable
from custom_audiences.services.rate_limit import LimitsRateLimiter, build_rate_limiter


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


def test_an_unreachable_redis_is_service_unavailable() -> None:
    """A limiter whose storage is down answers 503, not 500."""
    limiter = LimitsRateLimiter("5/minute", "redis://127.0.0.1:1/0")
    with pytest.raises(ServiceUnavailable):
        limiter.hit("key_a")


@pytest.mark.redis
def test_redis_counters_are_shared_between_limiters(redis_url: str) -> None:
    """Two processes configured with the same Redis see one counter per key."""
    first = LimitsRateLimiter("3/minute", redis_url)
    second = LimitsRateLimiter("3/minute", redis_url)
    key = "key_" + secrets.token_hex(8)
    assert first.hit(key).remaining == 2
    assert second.hit(key).remaining == 1
    assert first.peek(key).remaining == 1
