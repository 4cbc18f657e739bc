"""``SqlStore``: the storage port over SQL, one transaction per method, for any ``Database``."""

from __future__ import annotations

from custom_audiences.store.migrations import HEAD_REVISION
from custom_audiences.store.sql.accounts import AccountQueries
from custom_audiences.store.sql.audiences import AudienceQueries
from custom_audiences.store.sql.database import Database
from custom_audiences.store.sql.jobs import JobQueries


class SqlStore(AccountQueries, AudienceQueries, JobQueries):
    """The same SQL on SQLite and PostgreSQL; the ``Database`` adapts locking and bulk writes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        return self._db

    def upgrade(self) -> None:
        # Every CLI command upgrades first: a current schema must cost one query, not the
        # second it takes to load Alembic.
        if self.schema_revision() != HEAD_REVISION:
            self._db.upgrade()

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at; None before the first migration."""
        with self._db.read(snapshot=True) as tx:
            if tx.one(self._db.version_table_query) is None:
                return None
            row = tx.one("SELECT version_num FROM alembic_version")
        return None if row is None else str(row[0])

    def ping(self) -> None:
        self._db.ping()

    def close(self) -> None:
        self._db.close()
