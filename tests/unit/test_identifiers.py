"""Which identifiers are valid, and the raw-body prescan that spares per-id checks."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_audiences.domain.identifiers import (
    body_may_hold_control_characters,
    is_valid_identifier,
    keep_valid,
)


@pytest.mark.parametrize(
    "identifier", ["a", "x" * 255, "é", "😀" * 255, " ", "nbsp\u00a0", "\u2028", "ﬁ", "\ufeff"]
)
def test_valid_identifiers(identifier: str) -> None:
    """Non-empty, at most 255 characters (code points), no control character."""
    assert is_valid_identifier(identifier)


@pytest.mark.parametrize(
    "identifier",
    ["", "x" * 256, "😀" * 256, "\x00", "a\tb", "line\n", "\x1f", "\x7f", "\x80", "c1\x85", "\x9f"],
)
def test_invalid_identifiers(identifier: str) -> None:
    """Empty, too long, or holding a Cc control character (C0, DEL or C1)."""
    assert not is_valid_identifier(identifier)


def test_keep_valid_keeps_order_and_counts_the_skipped() -> None:
    """Invalid ones are dropped and counted; the rest keep their order."""
    valid, skipped = keep_valid(["b", "", "a", "\x01", "b"], check_characters=True)
    assert (valid, skipped) == (["b", "a", "b"], 2)


def test_keep_valid_without_the_character_check_still_checks_length() -> None:
    """The prescan-approved path still drops empty and overlong identifiers."""
    valid, skipped = keep_valid(["", "a", "x" * 256], check_characters=False)
    assert (valid, skipped) == (["a"], 2)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"add": ["a\\u0001"]}',
        b'{"add": ["a\\t"]}',
        b'{"add": ["\x7f"]}',
        '{"a": ["\x85"]}'.encode(),
    ],
)
def test_the_prescan_notices_every_way_a_control_character_can_arrive(raw: bytes) -> None:
    """Escapes, a raw DEL byte and a UTF-8 encoded C1 character all trigger the check."""
    assert body_may_hold_control_characters(raw)


def test_the_prescan_passes_plain_bodies() -> None:
    """A body of ordinary identifiers needs no per-identifier check."""
    assert not body_may_hold_control_characters(b'{"add": ["user_001", "caf\xc3\xa9"]}')


@given(st.lists(st.text(max_size=8), max_size=8))
def test_the_prescan_never_misses_a_control_character(identifiers: list[str]) -> None:
    """Whatever the JSON encoder, if an id holds a control character the prescan says so."""
    for raw in (
        msgspec.json.encode({"add": identifiers}),
        json.dumps({"add": identifiers}).encode(),
        json.dumps({"add": identifiers}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ):
        if any(not is_valid_identifier(i) and i and len(i) <= 255 for i in identifiers):
            assert body_may_hold_control_characters(raw)
