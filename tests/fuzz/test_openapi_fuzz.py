"""Schemathesis against our own /openapi.json, in-process: no 5xx, and every response (status,
headers, body) is one the document describes, with the error envelope on every error.

``CUSTOM_AUDIENCES_FUZZ_EXAMPLES`` sets the examples per operation and mode (``make fuzz``
raises it).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from custom_audiences.api.operations import OPERATIONS

from .conftest import EXISTING, FuzzTarget

EXAMPLES = int(os.environ.get("CUSTOM_AUDIENCES_FUZZ_EXAMPLES", "15"))
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATION_IDS = [f"{op.method.upper()} {op.path}" for op in OPERATIONS]
AUTHENTICATED = [f"{op.method.upper()} {op.path}" for op in OPERATIONS if op.authenticated]
#: Operations a schema-invalid call can be made of (a body, a query, or a path to break).
WITH_BODY_OR_QUERY = {
    f"{op.method.upper()} {op.path}"
    for op in OPERATIONS
    if op.request is not None or set(op.parameters) & {"page", "cursor", "limit"}
}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)


def error_envelope(response: Any) -> None:
    """An error answers exactly ``{"error": {"code": "...", "messages": ["...", ...]}}``."""
    if response.status_code < 400:
        return
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "messages"}, body
    assert isinstance(body["error"]["code"], str), body
    assert body["error"]["code"], body
    messages = body["error"]["messages"]
    assert messages, body
    assert all(isinstance(m, str) and m for m in messages), body


def cases(
    target: FuzzTarget, label: str, mode: GenerationMode, headers: dict[str, str] | None = None
) -> st.SearchStrategy[Case]:
    """Generated calls of one operation on the tenant's app; half aim at the existing audience.

    ``headers`` are fixed (schemathesis does not break them in negative cases).
    """
    method, path = label.split(" ", 1)
    operation = schemathesis.openapi.from_asgi("/openapi.json", target.app)[path][method]
    fixed: dict[str, str] = {}
    if "{app_id}" in path:
        fixed["app_id"] = target.app_id
    strategies = [operation.as_strategy(mode, path_parameters=fixed or None, headers=headers)]
    # With both path parameters fixed, a negative case needs something else to break.
    breakable = mode.is_positive or label in WITH_BODY_OR_QUERY
    if "{vendor_id}" in path and breakable:
        existing = {**fixed, "vendor_id": EXISTING}
        strategies.append(operation.as_strategy(mode, path_parameters=existing, headers=headers))
    return st.one_of(strategies)


def call(target: FuzzTarget, case: Case, headers: dict[str, str] | None = None) -> Any:
    response = case.call(headers=headers)
    target.settle()
    return response


@pytest.mark.parametrize("label", OPERATION_IDS)
def test_valid_calls_conform_to_the_document(target: FuzzTarget, label: str) -> None:
    """Schema-valid calls with a valid key: documented statuses, headers and bodies only."""

    @FUZZ_SETTINGS
    @given(case=cases(target, label, GenerationMode.POSITIVE, target.auth))
    def run(case: Case) -> None:
        response = call(target, case)
        case.validate_response(response, checks=CONFORMANCE)
        error_envelope(response)

    run()


@pytest.mark.parametrize("label", AUTHENTICATED)
def test_invalid_calls_are_refused_as_documented(target: FuzzTarget, label: str) -> None:
    """Schema-invalid calls with a valid key: a documented 4xx in the envelope, never a 5xx."""

    @FUZZ_SETTINGS
    @given(case=cases(target, label, GenerationMode.NEGATIVE, target.auth))
    def run(case: Case) -> None:
        response = call(target, case)
        case.validate_response(response, checks=[*CONFORMANCE, negative_data_rejection])
        error_envelope(response)

    run()


@pytest.mark.parametrize("label", AUTHENTICATED)
def test_calls_without_a_valid_key_are_refused(target: FuzzTarget, label: str) -> None:
    """Missing, malformed, unknown, revoked or foreign keys: a documented 401/403 envelope."""
    refusals = sorted(target.refused)

    @FUZZ_SETTINGS
    @given(case=cases(target, label, GenerationMode.POSITIVE), refusal=st.sampled_from(refusals))
    def run(case: Case, refusal: str) -> None:
        value = target.refused[refusal]
        headers = {} if value is None else {"Authorization": value}
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
        }
        response = call(target, case, headers)
        assert response.status_code in (401, 403), (refusal, response.status_code, response.text)
        case.validate_response(response, checks=CONFORMANCE)
        error_envelope(response)

    run()
