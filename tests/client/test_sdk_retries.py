"""Retries: 429 waits Retry-After, 5xx backs off within bounds, 409 waits, nothing doubles."""

from __future__ import annotations

import httpx
import pytest
from sdk_fake_api import FakeApi, FakeClock, MakeClient

from custom_audiences.client import (
    Client,
    InternalError,
    MutationInProgress,
    RateLimited,
    RetryPolicy,
    ServiceUnavailable,
    TransportError,
    ValidationFailed,
)


def test_429_waits_exactly_retry_after(client: Client, api: FakeApi, clock: FakeClock) -> None:
    """A 429 with Retry-After: 7 sleeps 7 s (fake clock) and the retry succeeds."""
    api.seed("aud")
    api.fault("GET", "/aud", status=429, code="RATE_LIMIT_EXCEEDED", headers={"Retry-After": "7"})
    assert client.get_audience("aud").vendor_id == "aud"
    assert clock.sleeps == [7.0]
    assert client.stats.requests == 2


def test_429_asking_beyond_the_budget_is_raised_at_once(
    client: Client, api: FakeApi, clock: FakeClock
) -> None:
    """A Retry-After longer than max_elapsed (the 12 h replace window) is not slept on."""
    api.seed("aud")
    api.fault(
        "GET", "/aud", status=429, code="RATE_LIMIT_EXCEEDED", headers={"Retry-After": "43200"}
    )
    with pytest.raises(RateLimited) as caught:
        client.get_audience("aud")
    assert caught.value.retry_after == 43200
    assert clock.sleeps == []


def test_replace_within_the_window_raises_rate_limited(
    client: Client, api: FakeApi, clock: FakeClock
) -> None:
    """A second replace within 12 hours raises RateLimited without sleeping."""
    api.seed("aud")
    client.replace_users("aud", ["a"])
    slept = list(clock.sleeps)
    with pytest.raises(RateLimited) as caught:
        client.replace_users("aud", ["b"])
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 40000
    assert clock.sleeps == slept
    assert api.audiences["aud"].members == {"a"}


def test_5xx_backs_off_exponentially_with_jitter(
    make_client: MakeClient, api: FakeApi, clock: FakeClock
) -> None:
    """Three 503s are retried after 0.5*2^k*jitter seconds, then the call succeeds."""
    client = make_client(retry=RetryPolicy(backoff_base=0.5, jitter=lambda: 0.5))
    api.seed("aud")
    api.fault("GET", "/aud", status=503, code="SERVICE_UNAVAILABLE", times=3)
    assert client.get_audience("aud").vendor_id == "aud"
    assert clock.sleeps == [0.25, 0.5, 1.0]


def test_backoff_is_capped(make_client: MakeClient, api: FakeApi, clock: FakeClock) -> None:
    """No single backoff exceeds backoff_max."""
    client = make_client(retry=RetryPolicy(backoff_max=2.0, max_attempts=8, jitter=lambda: 0.99))
    api.seed("aud")
    api.fault("GET", "/aud", status=500, code="INTERNAL_ERROR", times=7)
    client.get_audience("aud")
    assert max(clock.sleeps) <= 2.0
    assert len(clock.sleeps) == 7


def test_retries_stop_after_max_attempts(
    make_client: MakeClient, api: FakeApi, clock: FakeClock
) -> None:
    """Persistent 500s raise InternalError after max_attempts attempts."""
    client = make_client(retry=RetryPolicy(max_attempts=3))
    api.fault("GET", "/aud", status=500, code="INTERNAL_ERROR", times=10)
    with pytest.raises(InternalError):
        client.get_audience("aud")
    assert client.stats.requests == 3


def test_retries_stop_within_the_total_time(
    make_client: MakeClient, api: FakeApi, clock: FakeClock
) -> None:
    """Retries end before max_elapsed seconds have passed."""
    client = make_client(
        retry=RetryPolicy(max_attempts=100, max_elapsed=10.0, backoff_max=3.0, jitter=lambda: 1.0)
    )
    api.fault("GET", "/aud", status=502, times=100)
    started = clock.now
    with pytest.raises(Exception, match="502"):
        client.get_audience("aud")
    assert clock.now - started <= 10.0


def test_connection_errors_are_retried(client: Client, api: FakeApi) -> None:
    """A refused connection is retried and the call succeeds."""
    api.seed("aud")
    api.fault("GET", "/aud", error=httpx.ConnectError, times=2)
    assert client.get_audience("aud").vendor_id == "aud"
    assert client.stats.failures == 2


def test_add_remove_is_replayed_after_a_lost_response(client: Client, api: FakeApi) -> None:
    """A lost 202 of add/remove is replayed (set-idempotent): the 409 is waited out."""
    api.seed("aud", {"x"})
    api.job_seconds = 1.0
    api.fault("POST", "/aud/users", error=httpx.ReadTimeout, after_apply=True)
    audience = client.add_and_remove_users("aud", add=["a"], remove=["x"])
    assert audience.is_ready
    assert api.audiences["aud"].members == {"a"}
    statuses = [e.status for e in api.mutations()]
    assert statuses == [202, 409, 202]


def test_409_mutation_in_progress_waits_then_retries(
    make_client: MakeClient, api: FakeApi, clock: FakeClock
) -> None:
    """A mutation meeting another's running job waits for ready, then is applied."""
    api.seed("aud")
    api.job_seconds = 5.0
    other = make_client()
    other.add_and_remove_users("aud", add=["theirs"], wait=False)
    mine = make_client()
    assert mine.add_and_remove_users("aud", add=["mine"]).user_count == 2
    assert [e.status for e in api.mutations()] == [202, 409, 202]
    assert clock.now >= 1005.0


def test_409_gives_up_after_max_conflict_waits(make_client: MakeClient, api: FakeApi) -> None:
    """Endless conflicts raise MutationInProgress after max_conflict_waits waits."""
    client = make_client(retry=RetryPolicy(max_conflict_waits=2, jitter=lambda: 0.5))
    api.seed("aud")
    api.fault("POST", "/aud/users", status=409, code="MUTATION_IN_PROGRESS", times=5)
    with pytest.raises(MutationInProgress):
        client.add_and_remove_users("aud", add=["a"])
    assert len(api.mutations()) == 3


def test_create_retried_after_a_lost_response_returns_the_existing(
    client: Client, api: FakeApi
) -> None:
    """A create whose 201 was lost is retried; the 422 then resolves to the created audience."""
    api.fault("POST", "/custom_audiences", error=httpx.ReadTimeout, after_apply=True)
    audience = client.create_audience("vip", "VIP")
    assert audience.vendor_id == "vip"
    assert audience.name == "VIP"
    assert len(api.audiences) == 1


def test_create_meeting_a_foreign_namesake_still_fails(client: Client, api: FakeApi) -> None:
    """After a lost response, a 422 for an audience of another name is raised, not adopted."""
    api.seed("vip")  # named "Vip" by someone else
    api.fault("POST", "/custom_audiences", status=503, code="SERVICE_UNAVAILABLE")
    api.fault("POST", "/custom_audiences", status=500, code="INTERNAL_ERROR")
    with pytest.raises(ValidationFailed):
        client.create_audience("vip", "VIP")


def test_create_of_a_taken_vendor_id_fails_without_resolution(client: Client, api: FakeApi) -> None:
    """A first-attempt 422 is the caller's problem: no lookup, no adoption."""
    api.seed("vip")
    with pytest.raises(ValidationFailed, match="already used"):
        client.create_audience("vip", "Vip")
    assert client.stats.requests == 1


def test_delete_is_not_replayed_after_a_lost_response(client: Client, api: FakeApi) -> None:
    """A delete whose outcome is unknown raises rather than risk archiving a namesake."""
    api.seed("aud")
    api.fault("DELETE", "/aud", error=httpx.ReadTimeout)
    with pytest.raises(TransportError):
        client.delete_audience("aud")
    assert client.stats.requests == 1


def test_delete_is_retried_when_certainly_not_applied(client: Client, api: FakeApi) -> None:
    """A delete refused with 503 (nothing done) is retried."""
    api.seed("aud")
    api.fault("DELETE", "/aud", status=503, code="SERVICE_UNAVAILABLE")
    assert client.delete_audience("aud").vendor_id == "aud"


def test_replace_is_not_replayed_after_a_500(client: Client, api: FakeApi) -> None:
    """A replace answered 500 is raised, not replayed into the 12-hour window."""
    api.seed("aud")
    api.fault("PUT", "/replace", status=500, code="INTERNAL_ERROR")
    with pytest.raises(InternalError):
        client.replace_users("aud", ["a"])
    assert len(api.mutations()) == 1


def test_service_unavailable_exhausted_is_raised(make_client: MakeClient, api: FakeApi) -> None:
    """ServiceUnavailable surfaces once retries run out."""
    client = make_client(retry=RetryPolicy(max_attempts=2))
    api.fault("GET", "/aud", status=503, code="SERVICE_UNAVAILABLE", times=2)
    with pytest.raises(ServiceUnavailable):
        client.get_audience("aud")
