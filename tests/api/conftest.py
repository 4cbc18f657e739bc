"""Fixtures for driving the HTTP API in-process, on any store.

``store`` is parametrised over the engines: the in-memory fake, a SQLite file, and a
fresh schema of the PostgreSQL test database per test (marked ``postgres``). The embedded
worker is off; tests apply jobs with ``worker.run_once()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker.runner import Worker

ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        opened: Store = InMemoryStore()
    elif request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    else:
        opened = open_store(request.getfixturevalue("postgres_schema_url"))
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture
def settings() -> Settings:
    """No embedded worker, and a limit high enough not to interfere with most tests."""
    return Settings(embedded_worker=False, rate_limit="10000/minute")


@pytest.fixture
def app(settings: Settings, store: Store) -> Litestar:
    return create_app(settings, store)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def worker(store: Store) -> Worker:
    return Worker(store, worker_id="test-worker")


@dataclass
class Tenant:
    """An account with the feature on, one app and one API key."""

    account_id: str
    app_id: str
    key_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def base(self) -> str:
        return f"/client/mobile_applications/{self.app_id}/custom_audiences"


def make_tenant(store: Store, *, feature: bool = True) -> Tenant:
    features = frozenset({CUSTOM_AUDIENCES_FEATURE}) if feature else frozenset()
    account = admin.create_account(store, "Acme", features)
    app = admin.create_app(store, account.id, "Acme app")
    issued = admin.create_api_key(store, app.id, "tests")
    return Tenant(account.id, app.id, issued.key.id, issued.token)


@pytest.fixture
def tenant(store: Store) -> Tenant:
    return make_tenant(store)


@dataclass
class Api:
    """The tenant's view of the API: paths are relative to its custom_audiences base."""

    client: TestClient[Litestar]
    tenant: Tenant

    def request(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        headers = {**self.tenant.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, self.tenant.base + path, headers=headers, **kwargs)

    def get(self, path: str = "", **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str = "", **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str = "", **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str = "", **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, vendor_id: str = "premium_users", **fields: str) -> dict[str, Any]:
        body = {"vendor_id": vendor_id, "name": fields.pop("name", vendor_id), **fields}
        response = self.post(json={"custom_audience": body})
        assert response.status_code == 201, response.text
        audience: dict[str, Any] = response.json()["custom_audience"]
        return audience

    def audience(self, vendor_id: str) -> dict[str, Any]:
        response = self.get(f"/{vendor_id}")
        assert response.status_code == 200, response.text
        audience: dict[str, Any] = response.json()["custom_audience"]
        return audience

    def members(self, vendor_id: str, limit: int = 10_000) -> list[str]:
        """Every member, following the cursors."""
        users: list[str] = []
        params: dict[str, str | int] = {"limit": limit}
        while True:
            body = self.get(f"/{vendor_id}/users", params=params).json()
            users += body["users"]
            if not body["has_more"]:
                return users
            params["cursor"] = body["next_cursor"]


@pytest.fixture
def api(client: TestClient[Litestar], tenant: Tenant) -> Api:
    return Api(client, tenant)


def error_of(response: httpx.Response) -> tuple[int, str]:
    """The status and error code of an error response (asserting the envelope's shape)."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "messages"}
    assert body["error"]["messages"]
    assert all(isinstance(m, str) and m for m in body["error"]["messages"])
    return response.status_code, body["error"]["code"]
