"""The ``store`` fixture, one per engine, and a ``World`` of helpers the contract suite shares."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from psycopg import sql

from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE, Account, App
from custom_audiences.domain.audiences import Audience, IdentifierType, JobResult, NewAudience
from custom_audiences.domain.mutations import Mutation
from custom_audiences.store import open_store
from custom_audiences.store.base import Store

NOW = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
REPLACE_INTERVAL = timedelta(hours=12)
ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def open_sqlite(path: Path) -> Store:
    store = open_store(f"sqlite:///{path}")
    store.upgrade()
    return store


def with_settings(url: str, **settings: str) -> str:
    """The URL with server settings applied to every connection (e.g. its search_path)."""
    parts = urlsplit(url)
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    query = [*parse_qsl(parts.query), ("options", options)]
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema on the test database, dropped with everything in it afterwards."""
    schema = f"store_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def postgres_store_url(postgres_url: str, postgres_schema: str) -> str:
    return with_settings(postgres_url, search_path=postgres_schema)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    engine = request.param
    if engine == "memory":
        opened = open_store("memory://")
    elif engine == "sqlite":
        opened = open_sqlite(tmp_path / "ca.db")
    else:
        opened = open_store(request.getfixturevalue("postgres_store_url"))
        opened.upgrade()
    yield opened
    opened.close()


@dataclass
class World:
    """A store holding one account and app, with shortcuts for the usual steps."""

    store: Store
    app_id: str = "app_1"

    def audience(self, vendor_id: str = "aud", *, at: datetime = NOW, id: str = "") -> Audience:
        new = NewAudience(vendor_id, f"Audience {vendor_id}", IdentifierType.USER_ID)
        return self.store.create_audience(self.app_id, new, id or f"caud_{vendor_id}", at)

    def enqueue(self, mutation: Mutation, vendor_id: str = "aud", at: datetime = NOW) -> Audience:
        return self.store.enqueue_mutation(self.app_id, vendor_id, mutation, at, REPLACE_INTERVAL)

    def run(self, mutation: Mutation, vendor_id: str = "aud", at: datetime = NOW) -> JobResult:
        """Enqueue, claim and apply one mutation."""
        self.enqueue(mutation, vendor_id, at)
        job = self.store.claim_job("worker", at, LEASE)
        assert job is not None
        return self.store.apply_job(job, "worker", at)

    def members(self, vendor_id: str = "aud") -> list[str]:
        """Every member, read through pages of 2 to exercise the cursor."""
        users: list[str] = []
        after = None
        while True:
            page = self.store.page_members(self.app_id, vendor_id, after, 2)
            users += page.users
            if not page.has_more:
                return users
            after = page.users[-1]

    def current(self, vendor_id: str = "aud") -> Audience:
        audience = self.store.get_audience(self.app_id, vendor_id)
        assert audience is not None
        return audience


def add_app(store: Store, app_id: str, account_id: str = "acct_1") -> None:
    if store.get_account(account_id) is None:
        features = frozenset({CUSTOM_AUDIENCES_FEATURE})
        store.add_account(Account(account_id, "Account", features, NOW))
    store.add_app(App(app_id, account_id, f"App {app_id}", NOW))


@pytest.fixture
def world(store: Store) -> World:
    add_app(store, "app_1")
    return World(store)
