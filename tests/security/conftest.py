"""A victim app full of recognisable data, and everyone who must not see it.

Every marker string (vendor ids, names, user ids) carries a random part, so that finding
one in a response can only mean it leaked from the victim's app.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker


@dataclass
class Tenant:
    account_id: str
    app_id: str
    key_id: str
    token: str

    @property
    def base(self) -> str:
        return f"/client/mobile_applications/{self.app_id}/custom_audiences"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_tenant(store: Store, *, feature: bool = True, account_id: str | None = None) -> Tenant:
    if account_id is None:
        features = frozenset({CUSTOM_AUDIENCES_FEATURE}) if feature else frozenset()
        account_id = admin.create_account(store, "Tenant", features).id
    app = admin.create_app(store, account_id, "Tenant app")
    issued = admin.create_api_key(store, app.id, "tenant")
    return Tenant(account_id, app.id, issued.key.id, issued.token)


@dataclass
class Victim:
    tenant: Tenant
    vendor_ids: list[str]
    names: list[str]
    user_ids: list[str]
    audience_ids: list[str] = field(default_factory=list)

    @property
    def markers(self) -> list[str]:
        """Everything of the victim's that no one else may ever read."""
        return [*self.vendor_ids, *self.names, *self.user_ids, *self.audience_ids]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'sec.db'}"
    opened = open_store(url)
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture
def app(store: Store) -> Litestar:
    return create_app(Settings(embedded_worker=False, rate_limit="1000000/minute"), store)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def victim(store: Store, client: TestClient[Litestar]) -> Victim:
    """An app with two audiences whose members are applied."""
    tag = secrets.token_hex(4)
    victim = Victim(
        make_tenant(store),
        vendor_ids=[f"victimVendor{tag}A", f"victimVendor{tag}B"],
        names=[f"Victim Name {tag} A", f"Victim Name {tag} B"],
        user_ids=[f"victim-user-{tag}-{n}" for n in range(3)],
    )
    tenant = victim.tenant
    for vendor_id, name in zip(victim.vendor_ids, victim.names, strict=True):
        body = {"custom_audience": {"vendor_id": vendor_id, "name": name}}
        created = client.post(tenant.base, json=body, headers=tenant.headers)
        assert created.status_code == 201, created.text
        victim.audience_ids.append(created.json()["custom_audience"]["id"])
        added = client.post(
            f"{tenant.base}/{vendor_id}/users",
            json={"add": victim.user_ids},
            headers=tenant.headers,
        )
        assert added.status_code == 202, added.text
    worker = Worker(store, worker_id="security")
    while worker.run_once():
        pass
    return victim
