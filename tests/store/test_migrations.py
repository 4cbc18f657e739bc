"""The Alembic migrations produce exactly the schema declared in store/tables.py."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from custom_audiences.store.tables import metadata

from .conftest import add_app, open_sqlite


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
