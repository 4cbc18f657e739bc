"""Mutation bodies: size limit, JSON errors, payload shape errors, unknown fields."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from custom_audiences.config import MAX_BODY_BYTES
from custom_audiences.worker.runner import Worker

from .asgi import post_chunks
from .conftest import Api, Tenant, error_of

MIB = 1024 * 1024


@pytest.fixture
def audience(api: Api) -> str:
    return str(api.create("aud")["vendor_id"])


def padded(body: bytes, size: int) -> bytes:
    """``body`` followed by JSON whitespace up to exactly ``size`` bytes."""
    return body + b" " * (size - len(body))


def test_a_body_of_exactly_the_limit_is_accepted(api: Api, audience: str) -> None:
    """10,485,760 bytes is still within the limit."""
    response = api.post(f"/{audience}/users", content=padded(b'{"add": ["a"]}', MAX_BODY_BYTES))
    assert response.status_code == 202


def test_a_body_one_byte_over_the_limit_is_413(api: Api, audience: str) -> None:
    """PAYLOAD_TOO_LARGE, and nothing is enqueued."""
    content = padded(b'{"add": ["a"]}', MAX_BODY_BYTES + 1)
    for method, path in [("POST", "/users"), ("PUT", "/users/replace")]:
        response = api.request(method, f"/{audience}{path}", content=content)
        assert error_of(response) == (413, "PAYLOAD_TOO_LARGE")
    assert error_of(api.post(content=content)) == (413, "PAYLOAD_TOO_LARGE")
    assert api.audience(audience)["status"] == "ready"


def test_an_announced_oversized_body_is_refused_without_reading_it(
    app: Litestar, tenant: Tenant, api: Api, audience: str
) -> None:
    """A Content-Length over the limit is enough: not one chunk is read."""
    headers = {**tenant.headers, "content-length": str(MAX_BODY_BYTES + 1)}
    exchange = post_chunks(app, f"{tenant.base}/{audience}/users", [b"x" * MIB] * 11, headers)
    assert exchange.status == 413
    assert exchange.chunks_read == 0
    assert b"PAYLOAD_TOO_LARGE" in exchange.body


def test_a_chunked_oversized_body_is_cut_off_at_the_limit(
    app: Litestar, tenant: Tenant, api: Api, audience: str
) -> None:
    """Without Content-Length, reading stops at the first chunk past 10 MiB."""
    path = f"{tenant.base}/{audience}/users"
    exchange = post_chunks(app, path, [b" " * MIB] * 30, tenant.headers)
    assert exchange.status == 413
    assert exchange.chunks_read == 11
    assert "x-ratelimit-remaining" in exchange.headers


def test_a_chunked_body_within_the_limit_is_accepted(
    app: Litestar, tenant: Tenant, api: Api, audience: str
) -> None:
    """Streamed chunks are joined and decoded like any body."""
    chunks = [b'{"add": ', b'["a", ', b'"b"]}']
    exchange = post_chunks(app, f"{tenant.base}/{audience}/users", chunks, tenant.headers)
    assert exchange.status == 202


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b'{"add": ["a"]', b"add=a", b'{"add": 5, ', b'{"add": ["a", 2'],
)
def test_bodies_that_are_not_json_are_400(api: Api, audience: str, content: bytes) -> None:
    """INVALID_JSON, even when a wrong type appears before the syntax error."""
    assert error_of(api.post(f"/{audience}/users", content=content)) == (400, "INVALID_JSON")


@pytest.mark.parametrize("content", [b"[]", b'["a"]', b'"a"', b"null", b"7"])
def test_a_json_body_that_is_not_an_object_is_invalid_payload(
    api: Api, audience: str, content: bytes
) -> None:
    """The mutation payload has the wrong shape: 422 INVALID_PAYLOAD."""
    for method, path in [("POST", "/users"), ("PUT", "/users/replace")]:
        response = api.request(method, f"/{audience}{path}", content=content)
        assert error_of(response) == (422, "INVALID_PAYLOAD")


@pytest.mark.parametrize("value", [None, 5, "a", {"a": 1}, ["a", 1], [None], [["a"]], True])
@pytest.mark.parametrize(
    ("method", "path", "field", "other"),
    [
        ("POST", "/users", "add", {}),
        ("POST", "/users", "remove", {"add": ["ok"]}),
        ("PUT", "/users/replace", "users", {}),
    ],
)
def test_fields_that_are_not_arrays_of_strings_are_invalid_payload(
    api: Api,
    audience: str,
    method: str,
    path: str,
    field: str,
    other: dict[str, object],
    value: object,
) -> None:
    """422 INVALID_PAYLOAD naming the field; nothing is enqueued."""
    response = api.request(method, f"/{audience}{path}", json={**other, field: value})
    assert error_of(response) == (422, "INVALID_PAYLOAD")
    assert field in response.json()["error"]["messages"][0]
    assert api.audience(audience)["status"] == "ready"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", {}),
        ("POST", "/users", {"add": []}),
        ("POST", "/users", {"add": [], "remove": []}),
        ("POST", "/users", {"other": ["a"]}),
        ("PUT", "/users/replace", {}),
        ("PUT", "/users/replace", {"users": []}),
    ],
)
def test_no_users_at_all_is_empty_payload(
    api: Api, audience: str, method: str, path: str, body: object
) -> None:
    """422 EMPTY_PAYLOAD when add/remove or users are absent or empty."""
    response = api.request(method, f"/{audience}{path}", json=body)
    assert error_of(response) == (422, "EMPTY_PAYLOAD")


def test_unknown_fields_in_a_mutation_are_ignored(api: Api, worker: Worker, audience: str) -> None:
    """Extra fields of any type, even another endpoint's field names, change nothing."""
    body = {"add": ["a"], "extra": {"nested": [1, None, "x"]}, "users": "not-for-this-endpoint"}
    assert api.post(f"/{audience}/users", json=body).status_code == 202
    worker.run_once()
    assert api.put(f"/{audience}/users/replace", json={"users": ["b"], "add": 5}).status_code == 202
    worker.run_once()
    assert api.members(audience) == ["b"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["add", "remove", "users", "x"]), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_any_json_body_gets_a_documented_answer_never_a_500(
    api: Api, worker: Worker, audience: str, body: object
) -> None:
    """Whatever JSON arrives, mutations answer 202, 409 or 422 in the envelope.

    The examples share one audience, so a second accepted replace within the interval is
    refused with the documented 429.
    """
    for method, path, refusals in [
        ("POST", "/users", {409, 422}),
        ("PUT", "/users/replace", {409, 422, 429}),
    ]:
        response = api.request(method, f"/{audience}{path}", content=json.dumps(body))
        if response.status_code != 202:
            assert error_of(response)[0] in refusals, response.text
        worker.run_once()
