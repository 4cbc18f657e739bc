"""Redis for shared rate limits is optional at run time: without it the API serves, degraded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.store.base import Store

from .conftest import Api, make_tenant

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def _api(store: Store, redis_url: str) -> Iterator[Api]:
    """An app limiting each key to two requests a minute, counted in ``redis_url``."""
    settings = Settings(embedded_worker=False, rate_limit="2/minute", redis_url=redis_url)
    with TestClient(create_app(settings, store)) as client:
        yield Api(client, make_tenant(store))


@pytest.fixture
def redisless_api(store: Store) -> Iterator[Api]:
    """An app whose rate-limit Redis cannot be reached."""
    with _api(store, DEAD_REDIS) as api:
        yield api


def test_without_redis_requests_are_served_uncounted(
    redisless_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """Fail open: more requests than the limit all succeed, with the rate headers, and the
    failure is logged without the token."""
    with caplog.at_level(logging.WARNING):
        responses = [redisless_api.get() for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert {r.headers["x-ratelimit-limit"] for r in responses} == {"2"}
    assert {r.headers["x-ratelimit-remaining"] for r in responses} == {"2"}
    assert all(r.headers["x-ratelimit-reset"].isdigit() for r in responses)
    logged = [r.getMessage() for r in caplog.records if "rate_limit" in r.getMessage()]
    assert logged
    assert not [line for line in logged if redisless_api.tenant.token in line]


def test_without_redis_healthz_is_200_degraded_and_counts(redisless_api: Api) -> None:
    """healthz stays 200 but says redis is unavailable, with the failures and unchecked
    requests counted."""
    for _ in range(3):
        redisless_api.get()
    body = redisless_api.client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "redis": "unavailable"}
    assert body["degraded"] == ["redis"]
    assert body["rate_limit_storage_failures"] >= 1
    assert body["rate_limit_unchecked_requests"] == 3


@pytest.mark.redis
def test_with_redis_healthz_is_ok_and_the_limit_holds(store: Store, redis_url: str) -> None:
    """A reachable Redis: healthz ok with redis checked, and the third request is 429."""
    with _api(store, redis_url) as api:
        statuses = [api.get().status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        body = api.client.get("/healthz").json()
        assert (body["status"], body["checks"]) == ("ok", {"database": "ok", "redis": "ok"})
        assert body["degraded"] == []
