"""Tokens exist in clear only in the one response that issues them: the database keeps their
SHA-256, and a request's token is looked up by that hash and confirmed with compare_digest."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain import accounts
from custom_audiences.domain.accounts import KeyAccess, hash_token
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker.runner import Worker

from .conftest import Tenant, make_tenant

SETTINGS = Settings(embedded_worker=False, rate_limit="1000000/minute")


def exercise(store: Store, tenants: list[Tenant]) -> None:
    """A whole workflow with every key, revocation included, so every table gets written."""
    with TestClient(create_app(SETTINGS, store)) as client:
        for tenant in tenants:
            body = {"custom_audience": {"vendor_id": "aud", "name": "Audience"}}
            assert client.post(tenant.base, json=body, headers=tenant.headers).status_code == 201
            added = client.post(
                f"{tenant.base}/aud/users", json={"add": ["u1", "u2"]}, headers=tenant.headers
            )
            assert added.status_code == 202
            Worker(store, worker_id="secrets").run_once()
            assert client.get(f"{tenant.base}/aud/users", headers=tenant.headers).status_code == 200
    admin.revoke_api_key(store, tenants[0].key_id)


def secret_forms(token: str) -> list[bytes]:
    """The token, its random part, and both in the encodings a database might use."""
    random_part = token.removeprefix(accounts.TOKEN_PREFIX)
    forms = [token, random_part]
    return [f.encode() for f in forms] + [f.encode("utf-16-le") for f in forms]


def test_the_sqlite_files_hold_no_token(tmp_path: Path) -> None:
    """Not in the database file, its WAL, or any row: only the SHA-256 of each token."""
    path = tmp_path / "secrets.db"
    store = open_store(f"sqlite:///{path}")
    store.upgrade()
    tenants = [make_tenant(store) for _ in range(3)]
    exercise(store, tenants)
    files = sorted(tmp_path.glob("secrets.db*"))
    raw = b"".join(f.read_bytes() for f in files)  # read while the WAL still holds the writes
    store.close()
    raw += b"".join(f.read_bytes() for f in sorted(tmp_path.glob("secrets.db*")))
    assert len(files) >= 2, files
    for tenant in tenants:
        for form in secret_forms(tenant.token):
            assert form not in raw
    with sqlite3.connect(path) as conn:
        rows = _all_rows(conn.execute, "SELECT name FROM sqlite_master WHERE type = 'table'")
        stored = dict(conn.execute("SELECT id, token_hash FROM api_keys").fetchall())
    _assert_no_token_in(rows, tenants)
    for tenant in tenants:
        assert stored[tenant.key_id] == hashlib.sha256(tenant.token.encode()).hexdigest()


@pytest.mark.postgres
def test_the_postgres_rows_hold_no_token(postgres_schema_url: str) -> None:
    """Every row of every table, read back as text: no token, only its SHA-256."""
    store = open_store(postgres_schema_url)
    store.upgrade()
    tenants = [make_tenant(store) for _ in range(3)]
    exercise(store, tenants)
    store.close()
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        rows = _all_rows(
            conn.execute,
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema()",
        )
    _assert_no_token_in(rows, tenants)


def _all_rows(execute: Any, tables_query: str) -> list[str]:
    tables = [name for (name,) in execute(tables_query).fetchall()]
    assert "api_keys" in tables
    return [repr(row) for table in tables for row in execute(f'SELECT * FROM "{table}"').fetchall()]


def _assert_no_token_in(rows: list[str], tenants: list[Tenant]) -> None:
    text = "\n".join(rows)
    for tenant in tenants:
        assert tenant.token not in text
        assert tenant.token.removeprefix(accounts.TOKEN_PREFIX) not in text
        assert hash_token(tenant.token) in text


class RecordingStore(InMemoryStore):
    """Remembers what the keys were looked up by; can answer with a near-miss hash."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []
        self.near_miss = False

    def find_key_access(self, token_hash: str) -> KeyAccess | None:
        self.lookups.append(token_hash)
        found = super().find_key_access(token_hash)
        if found is None or not self.near_miss:
            return found
        # What a case-insensitive collation would return for an upper-cased hash.
        return KeyAccess(
            found.key_id, found.app_id, found.revoked, found.account_features, token_hash.upper()
        )


@pytest.fixture
def recording() -> Iterator[tuple[RecordingStore, Tenant, TestClient[Any]]]:
    store = RecordingStore()
    tenant = make_tenant(store)
    with TestClient(create_app(SETTINGS, store)) as client:
        yield store, tenant, client


def test_keys_are_looked_up_by_the_hash_of_the_token(
    recording: tuple[RecordingStore, Tenant, TestClient[Any]],
) -> None:
    """The store is asked for SHA-256 digests, never for a token."""
    store, tenant, client = recording
    assert client.get(tenant.base, headers=tenant.headers).status_code == 200
    client.get(tenant.base, headers={"Authorization": "Bearer ca_wrong"})
    assert store.lookups == [hash_token(tenant.token), hash_token("ca_wrong")]
    assert all(len(lookup) == 64 and tenant.token not in lookup for lookup in store.lookups)


def test_the_match_is_confirmed_with_compare_digest(
    recording: tuple[RecordingStore, Tenant, TestClient[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every authentication goes through hmac.compare_digest on the two hashes."""
    _store, tenant, client = recording
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(accounts.hmac, "compare_digest", compare_digest)
    assert client.get(tenant.base, headers=tenant.headers).status_code == 200
    expected = hash_token(tenant.token).encode()
    assert compared == [(expected, expected)]


def test_a_hash_the_database_matched_loosely_is_refused(
    recording: tuple[RecordingStore, Tenant, TestClient[Any]],
) -> None:
    """Were the database to match hashes case-insensitively, the exact comparison still says no."""
    store, tenant, client = recording
    store.near_miss = True
    response = client.get(tenant.base, headers=tenant.headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
