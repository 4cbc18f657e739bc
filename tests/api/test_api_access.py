"""Authentication, app access, the feature flag and the per-key rate limit, in that order."""

from __future__ import annotations

import time

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import MAX_BODY_BYTES, Settings
from custom_audiences.services import admin
from custom_audiences.store.base import Store

from .asgi import post_chunks
from .conftest import Api, Tenant, error_of, make_tenant

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@pytest.fixture
def limited(store: Store) -> Litestar:
    """An app allowing three requests per minute per key."""
    return create_app(Settings(embedded_worker=False, rate_limit="3/minute"), store)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "bearer {token}",
        "Token {token}",
        "Bearer  {token}",
        "Bearer {token} extra",
        "{token}",
        "Bearer ca_not_a_known_token",
    ],
)
def test_requests_without_a_valid_bearer_token_are_unauthorized(
    client: TestClient[Litestar], tenant: Tenant, authorization: str | None
) -> None:
    """Anything but exactly `Bearer <known token>` is 401, without rate-limit headers."""
    headers = (
        {} if authorization is None else {"Authorization": authorization.format(token=tenant.token)}
    )
    response = client.get(tenant.base, headers=headers)
    assert error_of(response) == (401, "UNAUTHORIZED")
    assert not set(RATE_HEADERS) & set(response.headers)


def test_two_authorization_headers_are_unauthorized(
    client: TestClient[Litestar], tenant: Tenant
) -> None:
    """A request carrying the header twice is ambiguous and refused."""
    headers = [("Authorization", f"Bearer {tenant.token}")] * 2
    assert error_of(client.get(tenant.base, headers=headers)) == (401, "UNAUTHORIZED")


def test_a_revoked_key_is_unauthorized(api: Api, store: Store) -> None:
    """Revocation takes effect on the next request."""
    assert api.get().status_code == 200
    admin.revoke_api_key(store, api.tenant.key_id)
    assert error_of(api.get()) == (401, "UNAUTHORIZED")


def test_a_key_is_forbidden_on_another_app_and_on_unknown_apps(
    client: TestClient[Litestar], store: Store, tenant: Tenant
) -> None:
    """403 FORBIDDEN both for someone else's app and for an app that does not exist."""
    other = make_tenant(store)
    for app_id in (other.app_id, "app_does_not_exist"):
        response = client.get(
            f"/client/mobile_applications/{app_id}/custom_audiences", headers=tenant.headers
        )
        assert error_of(response) == (403, "FORBIDDEN")


def test_an_account_without_the_feature_gets_feature_not_enabled(
    client: TestClient[Litestar], store: Store
) -> None:
    """Every endpoint answers 403 FEATURE_NOT_ENABLED until the feature is enabled."""
    tenant = make_tenant(store, feature=False)
    for method, path in [("GET", ""), ("POST", ""), ("GET", "/x"), ("DELETE", "/x/users/clear")]:
        response = client.request(method, tenant.base + path, headers=tenant.headers)
        assert error_of(response) == (403, "FEATURE_NOT_ENABLED")
    admin.set_feature(store, tenant.account_id, "custom-audiences", enabled=True)
    assert client.get(tenant.base, headers=tenant.headers).status_code == 200


def test_forbidden_comes_before_feature_not_enabled(
    client: TestClient[Litestar], store: Store, tenant: Tenant
) -> None:
    """A key used on another app is FORBIDDEN even if its own account lacks the feature."""
    featureless = make_tenant(store, feature=False)
    response = client.get(tenant.base, headers=featureless.headers)
    assert error_of(response) == (403, "FORBIDDEN")


def test_an_unknown_token_on_an_unknown_app_is_unauthorized_not_forbidden(
    client: TestClient[Litestar],
) -> None:
    """Authentication is checked first."""
    response = client.get(
        "/client/mobile_applications/app_x/custom_audiences",
        headers={"Authorization": "Bearer nope"},
    )
    assert error_of(response) == (401, "UNAUTHORIZED")


def test_rate_limit_counts_down_then_answers_429_with_retry_after(
    limited: Litestar, store: Store
) -> None:
    """Three requests pass with falling Remaining; the fourth is 429 with Retry-After."""
    tenant = make_tenant(store)
    with TestClient(limited) as client:
        remaining = [
            client.get(tenant.base, headers=tenant.headers).headers["x-ratelimit-remaining"]
            for _ in range(3)
        ]
        refused = client.get(tenant.base, headers=tenant.headers)
    assert remaining == ["2", "1", "0"]
    assert error_of(refused) == (429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    reset = int(refused.headers["x-ratelimit-reset"])
    assert time.time() - 1 <= reset <= time.time() + 61


def test_rate_limit_is_per_key(limited: Litestar, store: Store) -> None:
    """Exhausting one key leaves another key of the same app untouched."""
    tenant = make_tenant(store)
    second = admin.create_api_key(store, tenant.app_id, "second")
    with TestClient(limited) as client:
        for _ in range(4):
            client.get(tenant.base, headers=tenant.headers)
        response = client.get(tenant.base, headers={"Authorization": f"Bearer {second.token}"})
    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "2"


def test_forbidden_requests_do_not_use_up_the_rate_limit(limited: Litestar, store: Store) -> None:
    """Refusals before the rate-limit check are not counted, but still report the standing."""
    tenant, other = make_tenant(store), make_tenant(store)
    with TestClient(limited) as client:
        forbidden = client.get(other.base, headers=tenant.headers)
        allowed = client.get(tenant.base, headers=tenant.headers)
    assert error_of(forbidden) == (403, "FORBIDDEN")
    assert forbidden.headers["x-ratelimit-remaining"] == "3"
    assert allowed.headers["x-ratelimit-remaining"] == "2"


def test_rate_limit_comes_before_the_endpoint_checks(limited: Litestar, store: Store) -> None:
    """Once exhausted, bad bodies, oversized bodies and unknown audiences all get 429."""
    tenant = make_tenant(store)
    with TestClient(limited) as client:
        for _ in range(3):
            client.get(tenant.base, headers=tenant.headers)
        headers = tenant.headers
        responses = [
            client.post(tenant.base + "/nope/users", content=b"{", headers=headers),
            client.post(tenant.base, content=b"x" * (MAX_BODY_BYTES + 1), headers=headers),
            client.get(tenant.base + "/nope", headers=headers),
        ]
    assert [error_of(r) for r in responses] == [(429, "RATE_LIMIT_EXCEEDED")] * 3


def test_forbidden_comes_before_rate_limit(limited: Litestar, store: Store) -> None:
    """An exhausted key used on another app is told FORBIDDEN, not 429."""
    tenant, other = make_tenant(store), make_tenant(store)
    with TestClient(limited) as client:
        for _ in range(4):
            client.get(tenant.base, headers=tenant.headers)
        response = client.get(other.base, headers=tenant.headers)
    assert error_of(response) == (403, "FORBIDDEN")


def test_every_authenticated_response_carries_the_rate_limit_headers(api: Api) -> None:
    """Successes and endpoint errors alike report the key's standing."""
    responses = [
        api.post(json={"custom_audience": {"vendor_id": "a", "name": "A"}}),
        api.get("/a"),
        api.get("/missing"),
        api.post("/a/users", json={"add": "x"}),
        api.post("/a/users", content=b"{"),
        api.get("/a/users", params={"limit": "0"}),
    ]
    assert [r.status_code for r in responses] == [201, 200, 404, 422, 400, 422]
    for response in responses:
        assert all(response.headers[h].isdigit() for h in RATE_HEADERS)


def test_an_unauthenticated_oversized_body_is_refused_before_it_is_read(
    app: Litestar, tenant: Tenant
) -> None:
    """401, not 413, and not a byte of the body is pulled from the connection."""
    chunk = b"x" * (1024 * 1024)
    for headers in ({"content-length": str(11 * len(chunk))}, {}):
        exchange = post_chunks(app, tenant.base + "/a/users", [chunk] * 11, headers)
        assert exchange.status == 401
        assert exchange.chunks_read == 0
