"""Large mutations split into bodies of at most the limit, sized exactly before encoding."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_fake_api import FakeApi, MakeClient

from custom_audiences.client import BatchSent, PayloadTooLarge
from custom_audiences.client.encoding import encode_batch, encoded_size, split_batches

identifiers = st.text(max_size=12)


@given(identifiers)
def test_encoded_size_is_exact(identifier: str) -> None:
    """encoded_size equals the length msgspec writes, escapes and UTF-8 included."""
    try:
        expected = len(msgspec.json.encode(identifier))
    except UnicodeEncodeError:  # lone surrogates cannot be sent at all
        return
    assert encoded_size(identifier) == expected


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet='ab"\\\n\x01é', max_size=8), max_size=30),
    st.lists(st.text(alphabet='xy"\u2028', max_size=8), max_size=30),
    st.integers(min_value=30, max_value=120),
)
def test_batches_fit_the_limit_and_keep_order(
    add: list[str], remove: list[str], limit: int
) -> None:
    """Every body is at most the limit, sized exactly, adds before removes, nothing lost."""
    batches = list(split_batches(add, remove, limit))
    for batch in batches:
        body = encode_batch(batch)
        assert len(body) == batch.size
        assert len(body) <= limit or len(batch) == 1  # one huge identifier goes alone
    assert [i for b in batches for i in b.add] == add
    assert [i for b in batches for i in b.remove] == remove
    seen_remove = False
    for batch in batches:
        assert not (seen_remove and batch.add)
        seen_remove = seen_remove or bool(batch.remove)


def test_an_identifier_over_the_limit_is_sent_alone(make_client: MakeClient, api: FakeApi) -> None:
    """One identifier too big for any body is sent alone and its 413 raised, without looping."""
    api.seed("aud")
    api.max_body = 50
    client = make_client(max_body_bytes=50)
    with pytest.raises(PayloadTooLarge):
        client.add_and_remove_users("aud", add=["a", "b" * 100, "c"])
    assert [e.status for e in api.mutations()] == [202, 413]


def test_a_batch_can_hold_both_lists() -> None:
    """Adds and removes share a body when they fit together."""
    [batch] = split_batches(["a"], ["b"], 100)
    assert encode_batch(batch) == b'{"add":["a"],"remove":["b"]}'


def test_large_add_splits_into_full_bodies(make_client: MakeClient, api: FakeApi) -> None:
    """A large add goes in requests each at most max_body_bytes and filled, all applied."""
    api.seed("big")
    client = make_client(max_body_bytes=200_000)
    users = [f"user_{n:010d}" for n in range(30_000)]  # 18 bytes each with quotes and comma
    sent: list[BatchSent] = []
    audience = client.add_and_remove_users("big", add=users, on_batch=sent.append)
    sizes = [e.body_size for e in api.mutations()]
    assert len(sizes) == 3  # 540 kB
    assert all(size <= 200_000 for size in sizes)
    assert sizes[0] > 200_000 - 20  # filled, not merely halved
    assert [b.body_bytes for b in sent] == sizes
    assert sum(b.added for b in sent) == len(users)
    assert audience.user_count == len(users)


def test_a_smaller_server_limit_halves_the_requests(make_client: MakeClient, api: FakeApi) -> None:
    """A 413 from a server with a lower limit re-splits the rest under half the size."""
    api.seed("aud")
    api.max_body = 1000
    client = make_client(max_body_bytes=4000)
    users = [f"u{n:05d}" for n in range(1000)]  # 9 bytes each: about 8.9 kB
    audience = client.add_and_remove_users("aud", add=users)
    statuses = [e.status for e in api.mutations()]
    assert statuses.count(413) <= 2
    assert all(e.body_size <= 1000 for e in api.mutations() if e.status == 202)
    assert audience.user_count == 1000


def test_replace_over_the_limit_is_refused_unsent(make_client: MakeClient, api: FakeApi) -> None:
    """A replace body over max_body_bytes raises PayloadTooLarge before any request."""
    api.seed("aud")
    client = make_client(max_body_bytes=100)
    with pytest.raises(PayloadTooLarge, match="add_and_remove_users"):
        client.replace_users("aud", [f"user_{n}" for n in range(50)])
    assert api.mutations() == []
