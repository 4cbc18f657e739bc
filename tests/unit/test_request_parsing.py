"""Turning raw bodies and query strings into mutations and numbers, or into our errors."""

from __future__ import annotations

import msgspec
import pytest

from custom_audiences.api.bodies import add_remove_mutation, decode_json, replace_mutation
from custom_audiences.api.params import member_cursor, member_limit, page_number
from custom_audiences.domain.mutations import MutationKind
from custom_audiences.errors import EmptyPayload, InvalidJson, InvalidPayload, ValidationFailed


def test_add_remove_body_becomes_a_mutation() -> None:
    """Fields decode into the domain's add/remove rules."""
    mutation = add_remove_mutation(b'{"add": ["a", "b"], "remove": ["b"], "x": 1}')
    assert (mutation.kind, mutation.add, mutation.remove) == (MutationKind.ADD_REMOVE, ["a"], ["b"])


def test_escaped_control_characters_are_skipped() -> None:
    """An id holding an escaped control character is found by the per-id check."""
    mutation = add_remove_mutation(b'{"add": ["ok", "bad\\u0007", "t\\tab"]}')
    assert (mutation.add, mutation.skipped_count) == (["ok"], 2)


def test_a_raw_c1_character_is_skipped() -> None:
    """U+0085 sent as UTF-8 (no escape) is still a control character."""
    mutation = replace_mutation('{"users": ["ok", "c1\u0085"]}'.encode())
    assert (mutation.add, mutation.skipped_count) == (["ok"], 1)


@pytest.mark.parametrize("build", [add_remove_mutation, replace_mutation])
def test_ids_of_a_wrong_length_are_skipped_without_control_characters(build: object) -> None:
    """Empty and 256-character ids are skipped, 255 characters (counted as code points) kept."""
    longest = "é" * 255  # 510 bytes of UTF-8, but 255 characters
    field = "add" if build is add_remove_mutation else "users"
    raw = msgspec.json.encode({field: ["ok", "", "x" * 256, longest]})
    assert callable(build)
    mutation = build(raw)
    assert (mutation.add, mutation.skipped_count) == (["ok", longest], 2)


def test_a_500k_id_body_decodes_into_one_mutation() -> None:
    """The bulk path handles a 10 MB-class body in one piece."""
    ids = [f"user_{i:09d}" for i in range(500_000)]
    mutation = add_remove_mutation(msgspec.json.encode({"add": ids, "remove": ids[:10]}))
    assert (len(mutation.add), len(mutation.remove)) == (499_990, 10)


@pytest.mark.parametrize(
    ("raw", "error", "mentions"),
    [
        (b"", InvalidJson, ""),
        (b'{"add": [', InvalidJson, ""),
        (b'{"add": 1,', InvalidJson, ""),
        (b"[]", InvalidPayload, "'add' and/or 'remove'"),
        (b'{"add": null}', InvalidPayload, "add"),
        (b'{"add": ["a"], "remove": [1]}', InvalidPayload, "remove"),
        (b"{}", EmptyPayload, ""),
    ],
)
def test_add_remove_errors(raw: bytes, error: type[Exception], mentions: str) -> None:
    """Not JSON: INVALID_JSON; wrong shape: INVALID_PAYLOAD naming the field; none: EMPTY."""
    with pytest.raises(error) as raised:
        add_remove_mutation(raw)
    assert mentions in str(raised.value)


def test_replace_errors_name_users() -> None:
    """users that is not an array of strings, or a body that is not an object."""
    for raw in (b'{"users": "a"}', b'"users"'):
        with pytest.raises(InvalidPayload, match="users"):
            replace_mutation(raw)


def test_decode_json_accepts_any_json_and_refuses_the_rest() -> None:
    """Create bodies are decoded untyped; syntax errors are INVALID_JSON."""
    assert decode_json(b'{"a": [1, null]}') == {"a": [1, None]}
    with pytest.raises(InvalidJson):
        decode_json(b"{'a': 1}")


@pytest.mark.parametrize(("raw", "page"), [(None, 1), ("1", 1), ("007", 7), ("9" * 30, 10**18)])
def test_page_numbers(raw: str | None, page: int) -> None:
    """Absent is 1; leading zeros are fine; absurdly long numbers saturate."""
    assert page_number({} if raw is None else {"page": raw}) == page


@pytest.mark.parametrize("raw", ["0", "000", "-1", "+1", "1.0", "a", "", "²"])
def test_bad_page_numbers(raw: str) -> None:
    """Anything but a positive integer of ASCII digits is VALIDATION_FAILED."""
    with pytest.raises(ValidationFailed, match="page"):
        page_number({"page": raw})


@pytest.mark.parametrize(("raw", "limit"), [(None, 1000), ("1", 1), ("10000", 10000), ("0050", 50)])
def test_limits(raw: str | None, limit: int) -> None:
    """Absent is 1000; the bounds are inclusive."""
    assert member_limit({} if raw is None else {"limit": raw}) == limit


@pytest.mark.parametrize("raw", ["0", "10001", "100000000000000000000", "-5", "1e3", " 5", ""])
def test_bad_limits(raw: str) -> None:
    """Outside 1-10000 or not an integer: VALIDATION_FAILED."""
    with pytest.raises(ValidationFailed, match="limit"):
        member_limit({"limit": raw})


def test_cursor_absent_or_empty_means_the_start() -> None:
    """Only a non-empty cursor positions the page."""
    assert member_cursor({}) is None
    assert member_cursor({"cursor": ""}) is None
    assert member_cursor({"cursor": "user_9"}) == "user_9"
