"""The Alembic migrations produce exactly the schema declared in store/tables.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import create_engine, text

from custom_audiences.store import open_store
from custom_audiences.store.tables import metadata

from .conftest import add_app, open_sqlite, with_settings

# Every column, index and constraint of a schema, as PostgreSQL describes them.
PG_CATALOG = """
SELECT 'column', table_name || '.' || column_name, concat_ws(' ', data_type,
       character_maximum_length, is_nullable, column_default, collation_name)
  FROM information_schema.columns WHERE table_schema = %(schema)s
UNION ALL
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'constraint', t.relname || '.' || c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'storage', t.relname || '.' || a.attname, a.attstorage::text
  FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE n.nspname = %(schema)s AND t.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
"""


def _sqlite_ddl(path: Path) -> dict[str, str]:
    """Each table's and index's CREATE statement as SQLite stored it, whitespace-normalised."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                " AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        )
        ddl = {name: re.sub(r"\s+", " ", sql) for name, sql in found}
    engine.dispose()
    return ddl


def test_sqlite_upgrade_yields_the_declared_schema(tmp_path: Path) -> None:
    """Autogenerate sees no difference, and the stored DDL equals create_all's, statement by
    statement (which also covers WITHOUT ROWID and the partial indexes' WHERE clauses)."""
    migrated = tmp_path / "migrated.db"
    open_sqlite(migrated).close()
    engine = create_engine(f"sqlite:///{migrated}")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()

    declared = tmp_path / "declared.db"
    engine = create_engine(f"sqlite:///{declared}")
    metadata.create_all(engine)
    engine.dispose()
    assert _sqlite_ddl(migrated) == _sqlite_ddl(declared)
    assert "WITHOUT ROWID" in _sqlite_ddl(migrated)["members"]


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    """A second upgrade on an up-to-date database keeps the schema and the data."""
    path = tmp_path / "ca.db"
    store = open_sqlite(path)
    add_app(store, "app_1")
    before = _sqlite_ddl(path)
    store.upgrade()
    assert _sqlite_ddl(path) == before
    assert store.get_app("app_1") is not None
    store.close()


def _pg_catalog(postgres_url: str, schema: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(postgres_url) as connection:
        found = connection.execute(PG_CATALOG, {"schema": schema}).fetchall()
    return {
        (kind, name, description.replace(f"{schema}.", ""))
        for kind, name, description in found
        if not name.startswith("alembic_version")
    }


@pytest.mark.postgres
def test_postgres_upgrade_yields_the_declared_schema(
    postgres_url: str, postgres_schema: str, postgres_store_url: str
) -> None:
    """Autogenerate sees no difference, and the catalog (types, collations, defaults, partial
    indexes, constraints, column storage) equals that of create_all in a second schema."""
    store = open_store(postgres_store_url)
    store.upgrade()
    store.close()
    engine = create_engine("postgresql+psycopg://" + postgres_store_url.split("://", 1)[1])
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()

    declared = f"{postgres_schema}_declared"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(declared)))
    try:
        declared_url = with_settings(postgres_url, search_path=declared)
        engine = create_engine("postgresql+psycopg://" + declared_url.split("://", 1)[1])
        metadata.create_all(engine)
        engine.dispose()
        migrated_catalog = _pg_catalog(postgres_url, postgres_schema)
        assert migrated_catalog == _pg_catalog(postgres_url, declared)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(declared)))
    assert ("column", "members.user_id", "text NO C") in migrated_catalog
    assert ("storage", "jobs.add_ids", "e") in migrated_catalog  # EXTERNAL: no compression


def test_head_revision_constant_names_the_newest_migration() -> None:
    """HEAD_REVISION, which spares loading Alembic, is the head of the migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from custom_audiences.store.migrations import HEAD_REVISION
    from custom_audiences.store.migrations.runner import SCRIPT_LOCATION

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    assert list(ScriptDirectory.from_config(config).get_heads()) == [HEAD_REVISION]


def test_schema_revision_is_none_before_and_head_after_upgrade(tmp_path: Path) -> None:
    """A fresh SQLite file reports no revision; after upgrade() it reports the head."""
    from custom_audiences.store.migrations import HEAD_REVISION
    from custom_audiences.store.sql.store import SqlStore

    store = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert isinstance(store, SqlStore)
    assert store.schema_revision() is None
    store.upgrade()
    assert store.schema_revision() == HEAD_REVISION
    store.close()


@pytest.mark.postgres
def test_postgres_schema_revision_is_none_before_and_head_after_upgrade(
    postgres_store_url: str,
) -> None:
    """A fresh PostgreSQL schema reports no revision; after upgrade() it reports the head."""
    from custom_audiences.store.migrations import HEAD_REVISION
    from custom_audiences.store.sql.store import SqlStore

    store = open_store(postgres_store_url)
    assert isinstance(store, SqlStore)
    assert store.schema_revision() is None
    store.upgrade()
    assert store.schema_revision() == HEAD_REVISION
    store.close()


def test_upgrading_a_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    """Once migrated, upgrade() costs one query: Alembic is never imported."""
    url = f"sqlite:///{tmp_path / 'current.db'}"
    first = open_store(url)
    first.upgrade()
    first.close()
    script = (
        "import sys\n"
        "from custom_audiences.store import open_store\n"
        f"store = open_store({url!r})\n"
        "store.upgrade()\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
