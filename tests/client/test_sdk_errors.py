"""Every error response of the contract maps to its exception class."""

from __future__ import annotations

import httpx
import pytest
from sdk_fake_api import APP, FakeApi, FakeClock, MakeClient

from custom_audiences.client import (
    ApiError,
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    Client,
    CustomAudiencesError,
    EmptyPayload,
    FeatureNotEnabled,
    Forbidden,
    InternalError,
    InvalidJson,
    InvalidPayload,
    MethodNotAllowed,
    MutationInProgress,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestHeadersTooLarge,
    RetryPolicy,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    ValidationFailed,
)
from custom_audiences.client.errors import error_for

CONTRACT = [
    (401, "UNAUTHORIZED", Unauthorized),
    (403, "FORBIDDEN", Forbidden),
    (403, "FEATURE_NOT_ENABLED", FeatureNotEnabled),
    (404, "CUSTOM_AUDIENCE_NOT_FOUND", AudienceNotFound),
    (404, "NOT_FOUND", NotFound),
    (405, "METHOD_NOT_ALLOWED", MethodNotAllowed),
    (400, "INVALID_JSON", InvalidJson),
    (409, "MUTATION_IN_PROGRESS", MutationInProgress),
    (409, "CANNOT_ARCHIVE_WHILE_PROCESSING", CannotArchiveWhileProcessing),
    (413, "PAYLOAD_TOO_LARGE", PayloadTooLarge),
    (431, "REQUEST_HEADERS_TOO_LARGE", RequestHeadersTooLarge),
    (422, "VALIDATION_FAILED", ValidationFailed),
    (422, "EMPTY_PAYLOAD", EmptyPayload),
    (422, "INVALID_PAYLOAD", InvalidPayload),
    (429, "RATE_LIMIT_EXCEEDED", RateLimited),
    (500, "INTERNAL_ERROR", InternalError),
    (503, "SERVICE_UNAVAILABLE", ServiceUnavailable),
]


@pytest.mark.parametrize(("status", "code", "expected"), CONTRACT)
def test_each_code_maps_to_its_class(status: int, code: str, expected: type[ApiError]) -> None:
    """error_for picks the class of the code, keeping status, code and messages."""
    error = error_for(status, code, ["why"])
    assert type(error) is expected
    assert isinstance(error, ApiError)
    assert isinstance(error, CustomAudiencesError)
    assert (error.status, error.code, error.messages) == (status, code, ["why"])


@pytest.mark.parametrize(("status", "code", "expected"), CONTRACT)
def test_each_error_reply_raises_its_class(
    make_client: MakeClient, api: FakeApi, status: int, code: str, expected: type[ApiError]
) -> None:
    """An error reply from the server raises the mapped class (retries exhausted or none)."""
    client = make_client(retry=RetryPolicy(max_attempts=1))
    api.seed("aud")
    api.fault("GET", "/aud", status=status, code=code, headers={"Retry-After": "3"})
    with pytest.raises(expected) as caught:
        client.get_audience("aud")
    assert caught.value.messages == ["injected"]


def test_unknown_codes_fall_back_on_the_status() -> None:
    """A code the SDK does not know maps by status, else to the base ApiError."""
    assert type(error_for(429, "-", [])) is RateLimited
    assert type(error_for(404, "ELSEWHERE", [])) is NotFound
    assert type(error_for(502, "HTTP_502", [])) is ApiError
    assert type(error_for(409, "RATE_LIMIT_EXCEEDED", [])) is ApiError


def test_rate_limited_carries_retry_after(make_client: MakeClient, api: FakeApi) -> None:
    """RateLimited exposes the Retry-After seconds."""
    client = make_client(retry=RetryPolicy(max_attempts=1))
    api.fault(
        "GET",
        "/custom_audiences",
        status=429,
        code="RATE_LIMIT_EXCEEDED",
        headers={"Retry-After": "17"},
    )
    with pytest.raises(RateLimited) as caught:
        list(client.list_audiences())
    assert caught.value.retry_after == 17


def test_a_non_json_error_body_keeps_a_readable_message(
    make_client: MakeClient, api: FakeApi
) -> None:
    """An HTML 502 from a proxy becomes ApiError with the body's start as the message."""
    client = make_client(retry=RetryPolicy(max_attempts=1))
    api.fault("GET", "/aud", status=502)
    with pytest.raises(ApiError) as caught:
        client.get_audience("aud")
    assert caught.value.status == 502
    assert caught.value.code == "HTTP_502"
    assert "bad gateway" in caught.value.messages[0]


def test_wrong_token_and_wrong_app(api: FakeApi, clock: FakeClock) -> None:
    """A bad token raises Unauthorized; another app's id raises Forbidden."""
    http = httpx.Client(transport=api.transport())
    bad_token = Client("http://fake", APP, "nope", http_client=http)
    with pytest.raises(Unauthorized):
        bad_token.get_audience("aud")
    other_app = Client("http://fake", "app_other", "tok_test", http_client=http)
    with pytest.raises(Forbidden):
        other_app.get_audience("aud")
    http.close()


def test_transport_errors_are_wrapped(make_client: MakeClient, api: FakeApi) -> None:
    """A connection failure surfaces as TransportError once retries run out."""
    client = make_client(retry=RetryPolicy(max_attempts=2, jitter=lambda: 0.0))
    api.fault("GET", "/aud", error=httpx.ConnectError, times=2)
    with pytest.raises(TransportError, match="ConnectError"):
        client.get_audience("aud")
    assert client.stats.failures == 2


def test_an_unreadable_success_raises_unexpected_response(api: FakeApi, clock: FakeClock) -> None:
    """A 200 that is not the API's JSON raises UnexpectedResponse, not a decoding error."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>"))
    client = Client("http://x", APP, "t", http_client=httpx.Client(transport=transport))
    with pytest.raises(UnexpectedResponse) as caught:
        client.get_audience("aud")
    assert caught.value.status == 200


def test_an_unsupported_scheme_fails_without_retrying(clock: FakeClock) -> None:
    """A URL httpx cannot speak fails at once instead of backing off."""
    with (
        Client("ftp://nowhere", APP, "t", sleep=clock.sleep, clock=clock) as client,
        pytest.raises(TransportError),
    ):
        client.get_audience("aud")
    assert clock.sleeps == []
