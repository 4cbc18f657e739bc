"""Every endpoint against every way of not being the victim: the right 401/403, and not one
byte of the victim's data (vendor ids, names, user ids, audience ids) in any answer."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.operations import OPERATIONS
from custom_audiences.services import admin
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker

from .conftest import Victim, make_tenant

Call = tuple[str, str, dict[str, Any]]


def calls(victim: Victim) -> list[Call]:
    """One request per authenticated endpoint, aimed at the victim's first audience."""
    vendor_id = victim.vendor_ids[0]
    audience = f"/{vendor_id}"
    return [
        ("POST", "", {"json": {"custom_audience": {"vendor_id": "intruder", "name": "x"}}}),
        ("GET", "", {"params": {"page": 1}}),
        ("GET", audience, {}),
        ("DELETE", audience, {}),
        ("POST", audience + "/users", {"json": {"add": ["intruder"], "remove": victim.user_ids}}),
        ("PUT", audience + "/users/replace", {"json": {"users": ["intruder"]}}),
        ("DELETE", audience + "/users/clear", {}),
        ("GET", audience + "/users", {"params": {"limit": 10_000}}),
    ]


def test_the_matrix_covers_every_authenticated_endpoint(victim: Victim) -> None:
    """A new endpoint cannot escape the matrix: its calls match the documented operations."""
    documented = {(op.method.upper(), op.path) for op in OPERATIONS if op.authenticated}
    template = re.escape(victim.vendor_ids[0])
    covered = {
        (method, "/client/mobile_applications/{app_id}/custom_audiences"
         + re.sub(template, "{vendor_id}", path))
        for method, path, _ in calls(victim)
    }  # fmt: skip
    assert covered == documented


def malformed(token: str) -> dict[str, str | bytes | None]:
    """Authorization values that carry the victim's own valid token, wrongly."""
    basic = base64.b64encode(f"user:{token}".encode()).decode()
    return {
        "missing": None,
        "no scheme": token,
        "Basic": f"Basic {basic}",
        "Bearer alone": "Bearer",
        "Bearer and a space": "Bearer ",
        "two spaces": f"Bearer  {token}",
        "lower-case bearer": f"bearer {token}",
        "tab instead of space": f"Bearer\t{token}",
        "very long token": f"Bearer {token}{'A' * 100_000}",
        "non-ASCII after the token": f"Bearer {token}é".encode(),
        "non-ASCII token": "Bearer tökén".encode(),
    }


def assert_refused(response: httpx.Response, status: int, code: str, victim: Victim) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {
        "error": {"code": code, "messages": [response.json()["error"]["messages"][0]]}
    }
    shown = response.content + repr(sorted(response.headers.items())).encode()
    for marker in victim.markers:
        assert marker.encode() not in shown, marker


def victim_state(client: TestClient[Litestar], victim: Victim) -> list[Any]:
    tenant = victim.tenant
    state: list[Any] = [client.get(tenant.base, headers=tenant.headers).json()]
    for vendor_id in victim.vendor_ids:
        users = client.get(f"{tenant.base}/{vendor_id}/users", headers=tenant.headers)
        state.append(users.json())
    return state


def test_no_one_else_gets_through_or_sees_anything(
    client: TestClient[Litestar], store: Store, victim: Victim
) -> None:
    """Foreign, featureless, revoked and malformed credentials on every endpoint of the
    victim's app: refused with the right code, nothing shown, nothing changed."""
    before = victim_state(client, victim)
    other_account = make_tenant(store)
    same_account = make_tenant(store, account_id=victim.tenant.account_id)
    featureless = make_tenant(store, feature=False)
    revoked = admin.create_api_key(store, victim.tenant.app_id, "to revoke")
    admin.revoke_api_key(store, revoked.key.id)
    credentials: dict[str, tuple[str | bytes | None, int, str]] = {
        "another account's key": (f"Bearer {other_account.token}", 403, "FORBIDDEN"),
        "another app's key, same account": (f"Bearer {same_account.token}", 403, "FORBIDDEN"),
        "key of an account without the feature": (
            f"Bearer {featureless.token}",
            403,
            "FORBIDDEN",
        ),
        "revoked key of the victim's app": (f"Bearer {revoked.token}", 401, "UNAUTHORIZED"),
    }
    for name, value in malformed(victim.tenant.token).items():
        credentials[name] = (value, 401, "UNAUTHORIZED")
    for name, (authorization, status, code) in credentials.items():
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, path, kwargs in calls(victim):
            response = client.request(method, victim.tenant.base + path, headers=headers, **kwargs)
            try:
                assert_refused(response, status, code, victim)
            except AssertionError as error:
                raise AssertionError(f"{name}: {method} {path}: {error}") from error
    assert not Worker(store, worker_id="security-check").run_once(), "a mutation was queued"
    assert victim_state(client, victim) == before


def test_an_account_without_the_feature_is_refused_on_its_own_app(
    client: TestClient[Litestar], store: Store, victim: Victim
) -> None:
    """Its own key on its own app: 403 FEATURE_NOT_ENABLED on every endpoint."""
    featureless = make_tenant(store, feature=False)
    for method, path, kwargs in calls(victim):
        response = client.request(
            method, featureless.base + path, headers=featureless.headers, **kwargs
        )
        assert_refused(response, 403, "FEATURE_NOT_ENABLED", victim)


@pytest.mark.parametrize("suffix", ["", "/users"])
def test_the_victims_vendor_ids_mean_nothing_in_another_app(
    client: TestClient[Litestar], store: Store, victim: Victim, suffix: str
) -> None:
    """Another tenant naming the victim's vendor_id on its own app gets exactly the 404 of a
    vendor_id that never existed anywhere."""
    other = make_tenant(store)
    for vendor_id in victim.vendor_ids:
        taken = client.get(f"{other.base}/{vendor_id}{suffix}", headers=other.headers)
        never = client.get(f"{other.base}/neverExisted{suffix}", headers=other.headers)
        assert taken.status_code == never.status_code == 404
        assert taken.content == never.content
    listing = client.get(other.base, headers=other.headers)
    assert listing.json()["custom_audiences"] == []


def test_the_same_vendor_id_in_another_app_is_another_audience(
    client: TestClient[Litestar], store: Store, victim: Victim
) -> None:
    """Creating, filling and clearing an audience of the same vendor_id elsewhere leaves the
    victim's untouched."""
    before = victim_state(client, victim)
    other = make_tenant(store)
    vendor_id = victim.vendor_ids[0]
    body = {"custom_audience": {"vendor_id": vendor_id, "name": "Mine"}}
    assert client.post(other.base, json=body, headers=other.headers).status_code == 201
    path = f"{other.base}/{vendor_id}/users"
    added = client.post(
        path, json={"add": ["mine"], "remove": victim.user_ids}, headers=other.headers
    )
    assert added.status_code == 202
    worker = Worker(store, worker_id="security-other")
    assert worker.run_once()
    assert client.get(path, headers=other.headers).json()["users"] == ["mine"]
    assert client.delete(f"{path}/clear", headers=other.headers).status_code == 202
    assert worker.run_once()
    assert client.delete(f"{other.base}/{vendor_id}", headers=other.headers).status_code == 200
    assert victim_state(client, victim) == before
