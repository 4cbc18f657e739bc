"""PostgreSQL specifics: an unreachable or read-only server is StoreUnavailable."""

from __future__ import annotations

import pytest

from custom_audiences.store import open_store
from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.sql import SqlStore
from custom_audiences.store.sql.postgres import PostgresDatabase

from .conftest import add_app, with_settings


def test_an_unreachable_server_is_unavailable() -> None:
    """No server listening: the call fails with StoreUnavailable once the pool gives up."""
    store = SqlStore(PostgresDatabase("postgresql://postgres@127.0.0.1:1/test", pool_timeout=0.5))
    with pytest.raises(StoreUnavailable):
        store.ping()
    store.close()


@pytest.mark.postgres
def test_a_read_only_server_is_unavailable_for_writes(
    postgres_url: str, postgres_schema: str, postgres_store_url: str
) -> None:
    """Against a server that refuses writes, reads work and writes raise StoreUnavailable."""
    writable = open_store(postgres_store_url)
    writable.upgrade()
    add_app(writable, "app_1")
    writable.close()
    read_only = open_store(
        with_settings(postgres_url, search_path=postgres_schema, default_transaction_read_only="on")
    )
    assert read_only.get_app("app_1") is not None
    with pytest.raises(StoreUnavailable, match="read-only"):
        add_app(read_only, "app_2", "acct_2")
    read_only.close()


@pytest.mark.postgres
def test_statements_are_planned_for_their_parameters(postgres_store_url: str) -> None:
    """Pooled connections never reuse a generic plan (audience sizes are too skewed for one)."""
    store = open_store(postgres_store_url)
    assert isinstance(store, SqlStore)
    with store.database.read() as tx:
        assert tx.one("SHOW plan_cache_mode") == ("force_custom_plan",)
    store.close()
