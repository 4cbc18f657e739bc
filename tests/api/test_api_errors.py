"""Every failure answers in the error envelope: unknown routes, methods, crashes, outages."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain.accounts import KeyAccess
from custom_audiences.domain.audiences import Audience
from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.memory import InMemoryStore

from .conftest import Api, error_of, make_tenant

SECRET = "secret-internal-detail"


class BrokenStore(InMemoryStore):
    """A store whose audience reads crash (or whose database is away) on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: Exception | None = None
        self.key_failure: Exception | None = None

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        if self.failure is not None:
            raise self.failure
        return super().get_audience(app_id, vendor_id)

    def find_key_access(self, token_hash: str) -> KeyAccess | None:
        if self.key_failure is not None:
            raise self.key_failure
        return super().find_key_access(token_hash)

    def ping(self) -> None:
        if self.failure is not None:
            raise self.failure


@pytest.fixture
def broken() -> BrokenStore:
    return BrokenStore()


@pytest.fixture
def broken_api(broken: BrokenStore) -> Iterator[Api]:
    app = create_app(Settings(embedded_worker=False), broken)
    with TestClient(app) as client:
        yield Api(client, make_tenant(broken))


@pytest.mark.parametrize(
    "path",
    ["/", "/nope", "/client/mobile_applications/app_x", "/client/mobile_applications/a/b/c/d/e/f"],
)
def test_unknown_routes_are_404_not_found(client: TestClient[Litestar], path: str) -> None:
    """NOT_FOUND in the envelope, never Litestar's own body."""
    assert error_of(client.get(path)) == (404, "NOT_FOUND")


def test_a_wrong_method_is_405_with_allow(api: Api) -> None:
    """METHOD_NOT_ALLOWED in the envelope, with the allowed methods listed."""
    api.create("aud")
    for method, path in [("PATCH", "/aud"), ("PUT", ""), ("POST", "/aud/users/clear")]:
        response = api.request(method, path)
        assert error_of(response) == (405, "METHOD_NOT_ALLOWED")
        assert "allow" in response.headers


def test_an_unexpected_exception_is_500_without_internals(
    broken_api: Api, broken: BrokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    """INTERNAL_ERROR; the body holds no detail, the log holds the traceback."""
    broken.failure = RuntimeError(SECRET)
    with caplog.at_level(logging.ERROR):
        response = broken_api.get("/aud")
    assert error_of(response) == (500, "INTERNAL_ERROR")
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert "x-ratelimit-remaining" in response.headers
    assert any(r.exc_info and SECRET in str(r.exc_info[1]) for r in caplog.records)


def test_an_unreachable_database_is_503(broken_api: Api, broken: BrokenStore) -> None:
    """SERVICE_UNAVAILABLE with Retry-After, for endpoint calls and for authentication."""
    broken.failure = StoreUnavailable("database is locked")
    response = broken_api.get("/aud")
    assert error_of(response) == (503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"].isdigit()
    assert "locked" not in response.text
    broken.failure, broken.key_failure = None, StoreUnavailable("connection refused")
    response = broken_api.get("/aud")
    assert error_of(response) == (503, "SERVICE_UNAVAILABLE")


def test_healthz_is_200_without_auth(client: TestClient[Litestar]) -> None:
    """The health check needs no token."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok"},
        "degraded": [],
        "rate_limit_storage_failures": 0,
        "rate_limit_unchecked_requests": 0,
    }


@pytest.mark.parametrize("failure", [StoreUnavailable("down"), RuntimeError(SECRET)])
def test_healthz_is_503_when_the_database_fails(
    broken_api: Api, broken: BrokenStore, failure: Exception
) -> None:
    """Any failure of the database check is SERVICE_UNAVAILABLE."""
    broken.failure = failure
    response = broken_api.client.get("/healthz")
    assert error_of(response) == (503, "SERVICE_UNAVAILABLE")
    assert SECRET not in response.text
