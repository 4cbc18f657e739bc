"""Alembic environment: migrates through the connection that ``upgrade_to_head`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from custom_audiences.store.tables import metadata

# Any fixed number works; it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 0x0C_A0_D1_E5


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later revisions rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Serialises concurrent upgrades (serve and workers start together); released
            # at commit, after which the next one sees the schema at head and does nothing.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        context.run_migrations()


run_migrations(context.config.attributes["connection"])
