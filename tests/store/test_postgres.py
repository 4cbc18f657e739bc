"""PostgreSQL specifics: unreachable or read-only servers, query planning and statistics."""

from __future__ import annotations

import pytest

from custom_audiences.domain import mutations
from custom_audiences.store import open_store
from custom_audiences.store.base import StoreUnavailable
from custom_audiences.store.sql import SqlStore, postgres
from custom_audiences.store.sql.postgres import PostgresDatabase

from .conftest import World, add_app, with_settings


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


def _members_reltuples(store: SqlStore) -> float:
    with store.database.read() as tx:
        row = tx.one("SELECT reltuples FROM pg_class WHERE oid = 'members'::regclass")
    assert row is not None
    return float(row[0])


@pytest.mark.postgres
def test_a_large_insert_refreshes_the_planner_statistics(
    postgres_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the threshold the members table stays unanalysed (-1); an insert at the threshold
    is followed by ANALYZE (at most one per interval), so that a big new generation is paged
    by index, not sorted whole."""
    monkeypatch.setattr(postgres, "ANALYZE_AFTER_ROWS", 1_000)
    store = open_store(postgres_store_url)
    assert isinstance(store, SqlStore)
    store.upgrade()
    world = World(store)
    add_app(store, "app_1")
    world.audience()
    world.run(mutations.add_remove([f"s{n}" for n in range(10)], None))
    assert _members_reltuples(store) == -1
    world.run(mutations.add_remove([f"b{n:04d}" for n in range(1_000)], None))
    assert _members_reltuples(store) == 1_010
    # Another large insert within ANALYZE_EVERY_SECONDS waits for the next one after it.
    world.run(mutations.add_remove([f"c{n:04d}" for n in range(1_000)], None))
    assert _members_reltuples(store) == 1_010
    store.close()
    # The pause is per process: another one analyzes after its first large insert.
    other = open_store(postgres_store_url)
    assert isinstance(other, SqlStore)
    World(other).run(mutations.add_remove([f"d{n:04d}" for n in range(1_000)], None))
    assert _members_reltuples(other) == 3_010
    other.close()
