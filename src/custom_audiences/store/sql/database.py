"""The seam between the engine-neutral SQL store and one database driver (SQLite or PostgreSQL)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from custom_audiences.errors import ApiError

Row = tuple[Any, ...]
Params = tuple[object, ...]
#: The jobs column a bulk membership operation reads its JSON array of identifiers from.
IdsColumn = Literal["add_ids", "remove_ids"]


class Tx(Protocol):
    """One open transaction. SQL uses ``?`` placeholders; the driver adapts them."""

    def one(self, sql: str, params: Params = ()) -> Row | None: ...

    def all(self, sql: str, params: Params = ()) -> list[Row]: ...

    def run(self, sql: str, params: Params = ()) -> int:
        """Execute a statement and return the number of rows it changed."""

    def add_members(self, job_id: int, column: IdsColumn, audience_pk: int, generation: int) -> int:
        """Insert the job's identifiers into a generation in one set-based statement.

        Identifiers already present are ignored; returns how many rows were inserted.
        """

    def remove_members(
        self, job_id: int, column: IdsColumn, audience_pk: int, generation: int
    ) -> int:
        """Delete the job's identifiers from a generation; returns how many rows went."""


class Database(Protocol):
    """Connections, transactions and error translation for one engine."""

    #: Appended to a SELECT that must lock the rows it reads until the transaction ends
    #: (PostgreSQL); empty where the write transaction already holds the database lock.
    row_lock: str
    #: Same, but rows locked by another transaction are skipped instead of waited for.
    skip_locked: str
    #: A query returning a row when the Alembic version table exists.
    version_table_query: str

    def read(self, *, snapshot: bool = False) -> AbstractContextManager[Tx]:
        """A read-only transaction; ``snapshot`` when several statements must agree."""

    def write(self, *, on_duplicate: ApiError | None = None) -> AbstractContextManager[Tx]:
        """A write transaction, committed when the block exits normally.

        A unique-constraint violation raises ``on_duplicate`` (``InternalError`` if None).
        Operational failures raise ``StoreUnavailable``.
        """

    def upgrade(self) -> None:
        """Run the Alembic migrations up to the latest revision."""

    def ping(self) -> None: ...

    def close(self) -> None: ...
