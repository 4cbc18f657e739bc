"""One API per engine for the fuzz module: a tenant to fuzz with, an audience that exists,
and the Authorization values that must be refused."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from litestar import Litestar
from psycopg import sql

from custom_audiences.api.app import create_app
from custom_audiences.clock import new_id, utc_now
from custom_audiences.config import Settings
from custom_audiences.domain import mutations
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.domain.audiences import IdentifierType, NewAudience
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker

ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
#: An audience that exists, with members, so that generated calls get past the 404.
EXISTING = "fuzz_existing"


@dataclass
class FuzzTarget:
    app: Litestar
    store: Store
    worker: Worker
    app_id: str
    token: str
    #: Authorization values (None: no header) that must not get past the access checks.
    refused: dict[str, str | None]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def settle(self) -> None:
        """Apply what a call queued and bring back the existing audience if it was archived,
        so that the next call meets neither a 409 nor a 404 it did not ask for."""
        while self.worker.run_once():
            pass
        if self.store.get_audience(self.app_id, EXISTING) is None:
            new = NewAudience(EXISTING, "Existing", IdentifierType.USER_ID)
            self.store.create_audience(self.app_id, new, new_id("caud"), utc_now())
            mutation = mutations.add_remove(["u1", "u2", "é"], None)
            self.store.enqueue_mutation(self.app_id, EXISTING, mutation, utc_now(), timedelta(0))
            self.worker.run_once()


def issue(store: Store, *, feature: bool) -> tuple[str, str, str]:
    features = frozenset({CUSTOM_AUDIENCES_FEATURE}) if feature else frozenset()
    account = admin.create_account(store, "Fuzz", features)
    app = admin.create_app(store, account.id, "Fuzz app")
    issued = admin.create_api_key(store, app.id, "fuzz")
    return app.id, issued.key.id, issued.token


@pytest.fixture(scope="module")
def postgres_fuzz_url(postgres_url: str) -> Iterator[str]:
    schema = f"fuzz_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    parts = urlsplit(postgres_url)
    query = [*parse_qsl(parts.query), ("options", f"-c search_path={schema}")]
    yield parts._replace(query=urlencode(query, quote_via=quote)).geturl()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module", params=ENGINES)
def fuzz_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "memory":
        store = open_store("memory://")
    elif request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    else:
        store = open_store(request.getfixturevalue("postgres_fuzz_url"))
    store.upgrade()
    yield store
    store.close()


@dataclass(frozen=True)
class Keys:
    app_id: str
    token: str
    refused: dict[str, str | None]


@pytest.fixture(scope="module")
def keys(fuzz_store: Store) -> Keys:
    """The fuzzing tenant, and the Authorization values that must be refused on its app."""
    store = fuzz_store
    app_id, _, token = issue(store, feature=True)
    _, _, other_token = issue(store, feature=True)
    _, revoked_key, revoked_token = issue(store, feature=True)
    admin.revoke_api_key(store, revoked_key)
    _, _, featureless_token = issue(store, feature=False)
    refused: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "unknown token": "Bearer ca_" + secrets.token_urlsafe(32),
        "revoked key": f"Bearer {revoked_token}",
        "another app's key": f"Bearer {other_token}",
        "key of an account without the feature": f"Bearer {featureless_token}",
        "lower-case scheme": f"bearer {token}",
        "no scheme": token,
        "Basic": "Basic dXNlcjpwYXNz",
    }
    return Keys(app_id, token, refused)


@pytest.fixture
def target(fuzz_store: Store, keys: Keys) -> FuzzTarget:
    """A fresh app per test: schemathesis ends the app's lifespan after every test."""
    settings = Settings(
        embedded_worker=False, rate_limit="1000000/minute", replace_interval_seconds=0
    )
    target = FuzzTarget(
        app=create_app(settings, fuzz_store),
        store=fuzz_store,
        worker=Worker(fuzz_store, worker_id="fuzz"),
        app_id=keys.app_id,
        token=keys.token,
        refused=keys.refused,
    )
    target.settle()
    return target
