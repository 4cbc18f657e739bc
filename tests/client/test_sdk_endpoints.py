"""Every SDK method against a fake API that follows the spec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sdk_fake_api import FakeApi, FakeClock

from custom_audiences.client import (
    Audience,
    AudienceNotFound,
    Client,
    EmptyPayload,
    JobResult,
    MutationFailed,
    UsersPage,
    WaitTimeout,
)


def test_create_audience_returns_the_parsed_audience(client: Client) -> None:
    """create_audience POSTs the envelope and parses the 201 into a typed Audience."""
    audience = client.create_audience("premium_users", "Premium Users", "anonymous_id")
    assert isinstance(audience, Audience)
    assert (audience.vendor_id, audience.name) == ("premium_users", "Premium Users")
    assert audience.identifier_type == "anonymous_id"
    assert audience.is_ready
    assert audience.user_count == 0
    assert audience.created_at.tzinfo is not None
    assert audience.created_at == datetime(2026, 3, 13, 0, 16, 40, tzinfo=UTC)
    assert audience.last_synced_at is None
    assert audience.last_job_result is None


def test_audience_is_immutable(client: Client) -> None:
    """Response models are frozen."""
    audience = client.create_audience("a", "A")
    with pytest.raises(AttributeError):
        audience.name = "B"  # type: ignore[misc]


def test_get_audience_and_not_found(client: Client, api: FakeApi) -> None:
    """get_audience returns the audience; an unknown vendor_id raises AudienceNotFound."""
    api.seed("known", {"u1"})
    assert client.get_audience("known").user_count == 1
    with pytest.raises(AudienceNotFound) as caught:
        client.get_audience("unknown")
    assert caught.value.status == 404
    assert caught.value.code == "CUSTOM_AUDIENCE_NOT_FOUND"
    assert caught.value.messages == ["No custom audience found with this vendor_id"]


def test_list_audiences_iterates_every_page(client: Client, api: FakeApi) -> None:
    """list_audiences walks the 25-per-page list to the end, oldest first."""
    for number in range(60):
        api.seed(f"aud_{number:02d}")
    listed = [a.vendor_id for a in client.list_audiences()]
    assert listed == [f"aud_{n:02d}" for n in range(60)]
    pages = [e.params.get("page") for e in api.log if e.method == "GET"]
    assert pages == ["1", "2", "3"]


def test_list_audiences_of_an_empty_app(client: Client) -> None:
    """An app without audiences lists nothing after one request."""
    assert list(client.list_audiences()) == []
    assert client.stats.requests == 1


def test_delete_audience_returns_it_and_it_disappears(client: Client, api: FakeApi) -> None:
    """delete_audience archives and returns the audience; it is then absent."""
    api.seed("gone", {"u1"})
    assert client.delete_audience("gone").vendor_id == "gone"
    with pytest.raises(AudienceNotFound):
        client.get_audience("gone")


def test_delete_waits_out_a_running_mutation(client: Client, api: FakeApi) -> None:
    """A 409 CANNOT_ARCHIVE_WHILE_PROCESSING waits for ready, then deletes."""
    api.seed("busy")
    api.job_seconds = 3.0
    client.add_and_remove_users("busy", add=["u1"], wait=False)
    assert client.delete_audience("busy").vendor_id == "busy"
    assert "busy" not in api.audiences


def test_add_and_remove_users_waits_for_the_job(client: Client, api: FakeApi) -> None:
    """add_and_remove_users returns the audience once ready, with the job's result."""
    api.seed("aud", {"old", "keep"})
    audience = client.add_and_remove_users("aud", add=["new1", "new2"], remove=["old"])
    assert audience.is_ready
    assert audience.user_count == 3
    assert audience.last_job_result == JobResult(3, 0, 0)
    assert api.audiences["aud"].members == {"keep", "new1", "new2"}


def test_add_and_remove_without_wait_returns_processing(client: Client, api: FakeApi) -> None:
    """wait=False returns the 202's audience, still processing."""
    api.seed("aud")
    assert client.add_and_remove_users("aud", add=["x"], wait=False).is_processing


def test_add_and_remove_with_nothing_raises_empty_payload(client: Client) -> None:
    """A mutation without identifiers raises EmptyPayload without a request."""
    with pytest.raises(EmptyPayload):
        client.add_and_remove_users("aud")
    assert client.stats.requests == 0


def test_replace_users_sets_the_membership(client: Client, api: FakeApi) -> None:
    """replace_users makes the membership exactly the list."""
    api.seed("aud", {"a", "b"})
    audience = client.replace_users("aud", iter(["b", "c", "d"]))
    assert audience.user_count == 3
    assert api.audiences["aud"].members == {"b", "c", "d"}


def test_clear_users_empties_the_audience(client: Client, api: FakeApi) -> None:
    """clear_users removes every member."""
    api.seed("aud", {"a", "b"})
    assert client.clear_users("aud").user_count == 0
    assert api.audiences["aud"].members == set()


def test_list_users_returns_one_page(client: Client, api: FakeApi) -> None:
    """list_users returns one typed page with its cursor."""
    api.seed("aud", {"c", "a", "b"})
    page = client.list_users("aud", limit=2)
    assert page == UsersPage(("a", "b"), "b", True, None)
    assert client.list_users("aud", cursor="b", limit=2) == UsersPage(("c",), None, False)


def test_iter_users_walks_every_cursor_page(client: Client, api: FakeApi) -> None:
    """iter_users follows next_cursor to the last page, in byte order."""
    members = {f"user_{n:03d}" for n in range(25)} | {"Zed", "émile"}
    api.seed("aud", members)
    assert list(client.iter_users("aud", page_size=10)) == sorted(members, key=lambda u: u.encode())
    assert sum(1 for e in api.log if e.path.endswith("/users")) == 3


def test_iter_users_rereads_a_page_met_while_processing(client: Client, api: FakeApi) -> None:
    """A page answered with the "being updated" warning is waited out and read again."""
    api.seed("aud", {"a"})
    api.job_seconds = 2.0
    client.add_and_remove_users("aud", add=["b"], wait=False)
    assert list(client.iter_users("aud")) == ["a", "b"]


def test_wait_until_ready_polls_until_done(client: Client, api: FakeApi, clock: FakeClock) -> None:
    """wait_until_ready polls with growing pauses until the job is done."""
    api.seed("aud")
    api.job_seconds = 2.0
    client.add_and_remove_users("aud", add=["a"], wait=False)
    assert client.wait_until_ready("aud").is_ready
    assert clock.sleeps == sorted(clock.sleeps)
    assert len(clock.sleeps) >= 3


def test_wait_until_ready_raises_on_failed_job(client: Client, api: FakeApi) -> None:
    """A job that ends failed raises MutationFailed carrying the audience."""
    api.seed("aud", {"a"})
    api.fail_next_job = True
    with pytest.raises(MutationFailed) as caught:
        client.add_and_remove_users("aud", add=["b"])
    assert caught.value.audience.is_failed
    assert api.audiences["aud"].members == {"a"}


def test_wait_until_ready_times_out(client: Client, api: FakeApi, clock: FakeClock) -> None:
    """A job still running after the timeout raises WaitTimeout, having waited about that long."""
    api.seed("aud")
    api.job_seconds = 1000.0
    client.add_and_remove_users("aud", add=["a"], wait=False)
    started = clock.now
    with pytest.raises(WaitTimeout):
        client.wait_until_ready("aud", timeout=30)
    assert 30 <= clock.now - started <= 31


def test_requests_carry_the_bearer_token_and_json(client: Client, api: FakeApi) -> None:
    """Bodies are sent as JSON with the Authorization header (a wrong token is refused)."""
    api.seed("aud")
    client.add_and_remove_users("aud", add=["a"])
    posted = next(e for e in api.log if e.method == "POST")
    assert posted.body == b'{"add":["a"]}'
