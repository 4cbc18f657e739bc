"""Refusals that could tell an attacker what exists are byte-for-byte the same: a revoked key
answers like an unknown one, another tenant's app like an app that never existed, and an
archived or foreign audience like one that never was."""

from __future__ import annotations

import secrets

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.domain.accounts import new_token
from custom_audiences.services import admin
from custom_audiences.store.base import Store

from .conftest import Victim, make_tenant
from .test_isolation_matrix import calls

#: Differs between two otherwise identical answers only because a second may have passed.
CLOCK_HEADERS = {"x-ratelimit-reset", "date"}


def comparable(
    response: httpx.Response, ignore: frozenset[str] = frozenset()
) -> tuple[int, bytes, dict[str, str]]:
    skipped = CLOCK_HEADERS | ignore
    headers = {k: v for k, v in response.headers.items() if k not in skipped}
    return response.status_code, response.content, headers


def test_a_revoked_key_answers_exactly_like_an_unknown_one(
    client: TestClient[Litestar], store: Store, victim: Victim
) -> None:
    """Same status, body and headers on every endpoint: nothing says the key ever existed."""
    revoked = admin.create_api_key(store, victim.tenant.app_id, "old")
    admin.revoke_api_key(store, revoked.key.id)
    for method, path, kwargs in calls(victim):
        url = victim.tenant.base + path
        answers = [
            client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            for token in (revoked.token, new_token())
        ]
        assert answers[0].status_code == 401
        assert comparable(answers[0]) == comparable(answers[1]), (method, path)


def test_another_tenants_app_answers_exactly_like_an_app_that_does_not_exist(
    client: TestClient[Litestar], store: Store, victim: Victim
) -> None:
    """403 FORBIDDEN with the same body and headers, whoever owns the app (or no one)."""
    intruder = make_tenant(store)
    same_account = make_tenant(store, account_id=victim.tenant.account_id)
    apps = [victim.tenant.app_id, same_account.app_id, f"app_{secrets.token_urlsafe(15)}"]
    for method, path, kwargs in calls(victim):
        answers = [
            client.request(
                method,
                f"/client/mobile_applications/{app_id}/custom_audiences{path}",
                headers=intruder.headers,
                **kwargs,
            )
            for app_id in apps
        ]
        assert answers[0].status_code == 403
        assert comparable(answers[0]) == comparable(answers[1]) == comparable(answers[2])


def test_an_archived_audience_answers_exactly_like_one_that_never_was(
    client: TestClient[Litestar], victim: Victim
) -> None:
    """After DELETE, every endpoint of the audience gives the 404 of an unknown vendor_id."""
    tenant = victim.tenant
    archived = victim.vendor_ids[1]
    assert client.delete(f"{tenant.base}/{archived}", headers=tenant.headers).status_code == 200
    for method, path, kwargs in calls(victim):
        if not path:
            continue  # the collection itself has no vendor_id
        answers = [
            client.request(
                method,
                tenant.base + path.replace(victim.vendor_ids[0], vendor_id),
                headers=tenant.headers,
                **kwargs,
            )
            for vendor_id in (archived, "neverExisted")
        ]
        assert answers[0].status_code == 404, (method, path, answers[0].text)
        # Both requests count against the key: only the remaining allowance differs.
        counted = frozenset({"x-ratelimit-remaining"})
        assert comparable(answers[0], counted) == comparable(answers[1], counted), (method, path)
