"""Hypothesis strategies for request bodies, each paired with what the contract expects of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .contract import IDENTIFIER_TYPES, is_valid_name, is_valid_vendor_id

#: vendor_ids the machine creates, archives and re-creates (case matters: two of them differ
#: only by case).
VENDOR_IDS = ("premium_users", "Premium_Users", "a", "v1.beta-2_x", "v" * 255)
#: Values no audience can have: on a path they are 404, in a create body 422.
BAD_VENDOR_IDS = ("has space", "é", "v" * 256, "semi;colon", "nul\x00byte")

VALID_EDGES = (
    "u1", "u2", "u3", "U1", "é", "e\u0301", "用户", "😀", " lead", "trail ", "a b",
    "\u2028", "\xa0", "\u200b", "~", "0", "x" * 255, "é" * 255, "😀" * 255,
)  # fmt: skip
INVALID_EDGES = (
    "", "x" * 256, "é" * 256, "a\x00", "\x1f", "\t", "\n", "\x7f", "a\x85b", "\x80", "\x9f",
)  # fmt: skip

identifiers = st.one_of(
    st.sampled_from(("u1", "u2", "u3")),  # a small pool, so that lists and members overlap
    st.sampled_from(VALID_EDGES),
    st.sampled_from(INVALID_EDGES),
    st.text(max_size=6),
)
identifier_lists = st.lists(identifiers, max_size=8)
NOT_ARRAYS_OF_STRINGS: tuple[Any, ...] = ("u1", 5, None, {"u1": 1}, ["u1", 2], [None], True)
NOT_OBJECTS: tuple[bytes, ...] = (b"[]", b'"add"', b"null", b"3", b"[{}]")
NOT_JSON: tuple[bytes, ...] = (b"", b"{", b'{"add": [}', b"add=u1", b'{"add": ["u1"]} x')


@dataclass(frozen=True)
class Payload:
    """A raw body, the refusal the body alone earns (None if acceptable), and its lists."""

    raw: bytes
    problem: tuple[int, str] | None
    lists: dict[str, list[str]] = field(default_factory=dict)


def encode(document: object, ascii_only: bool) -> bytes:
    """JSON as different clients send it: escaped (\\u0085) or raw UTF-8."""
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8")


@st.composite
def list_payloads(draw: st.DrawFn, names: tuple[str, ...]) -> Payload:
    """A body of mutation lists: valid, empty, mistyped, not an object, or not JSON at all."""
    shape = draw(st.sampled_from(["lists"] * 6 + ["mistyped", "not_object", "not_json"]))
    if shape == "not_object":
        return Payload(draw(st.sampled_from(NOT_OBJECTS)), (422, "INVALID_PAYLOAD"))
    if shape == "not_json":
        return Payload(draw(st.sampled_from(NOT_JSON)), (400, "INVALID_JSON"))
    document: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for name in names:
        if draw(st.booleans()):
            lists[name] = document[name] = draw(identifier_lists)
    if not any(lists.values()) and draw(st.integers(0, 3)):  # mostly something to apply
        name = draw(st.sampled_from(names))
        lists[name] = document[name] = draw(identifier_lists.filter(bool))
    first, last = names[0], names[-1]
    if first != last and lists.get(first) and draw(st.booleans()):
        # Some identifiers both added and removed: they must end up removed.
        shared = draw(st.lists(st.sampled_from(lists[first]), min_size=1, max_size=3))
        lists[last] = document[last] = [*lists.get(last, []), *shared]
    if draw(st.booleans()):
        document["ignored_extra"] = draw(st.sampled_from([1, "x", None, ["u1"]]))
    problem: tuple[int, str] | None = None
    if shape == "mistyped":
        document[draw(st.sampled_from(names))] = draw(st.sampled_from(NOT_ARRAYS_OF_STRINGS))
        problem = (422, "INVALID_PAYLOAD")
    elif not any(lists.values()):
        problem = (422, "EMPTY_PAYLOAD")
    return Payload(encode(document, draw(st.booleans())), problem, lists)


add_remove_payloads = list_payloads(("add", "remove"))
replace_payloads = list_payloads(("users",))

ABSENT = object()
create_vendor_ids = st.one_of(
    st.sampled_from(VENDOR_IDS), st.sampled_from(BAD_VENDOR_IDS), st.just(ABSENT), st.just(5)
)
create_names = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["", "n" * 255, "n" * 256, "é" * 255, "tab\tok", "nul\x00no", None]),
    st.just(ABSENT),
)
create_identifier_types = st.one_of(
    st.just(ABSENT), st.sampled_from(IDENTIFIER_TYPES), st.sampled_from(["email", "", None, 1])
)


@dataclass(frozen=True)
class CreatePayload:
    raw: bytes
    #: Fields the body gets wrong (each needs a message naming it); None: not even an object.
    bad_fields: tuple[str, ...] | None
    fields: dict[str, Any]
    not_json: bool = False


@st.composite
def create_payloads(draw: st.DrawFn) -> CreatePayload:
    shape = draw(st.sampled_from(["fields"] * 6 + ["no_object", "not_json"]))
    if shape == "not_json":
        return CreatePayload(draw(st.sampled_from(NOT_JSON)), (), {}, not_json=True)
    if shape == "no_object":
        document = draw(st.sampled_from([{}, {"custom_audience": 5}, [], {"audience": {}}]))
        return CreatePayload(encode(document, True), None, {})
    fields: dict[str, Any] = {}
    for name, values in (
        ("vendor_id", create_vendor_ids),
        ("name", create_names),
        ("identifier_type", create_identifier_types),
    ):
        value = draw(values)
        if value is not ABSENT:
            fields[name] = value
    bad = []
    if not is_valid_vendor_id(fields.get("vendor_id")):
        bad.append("vendor_id")
    if not is_valid_name(fields.get("name")):
        bad.append("name")
    if fields.get("identifier_type", "user_id") not in IDENTIFIER_TYPES:
        bad.append("identifier_type")
    document = {"custom_audience": {**fields, "unknown_field": "ignored"}}
    return CreatePayload(encode(document, draw(st.booleans())), tuple(bad), fields)
