"""Running the Alembic migrations programmatically (no ``alembic.ini`` needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from custom_audiences.store.base import StoreUnavailable

SCRIPT_LOCATION = Path(__file__).resolve().parent
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def config_for(connection: Connection) -> Config:
    """An Alembic configuration that migrates through an open connection."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def run_upgrade(sqlalchemy_url: str) -> None:
    """Create or migrate the schema in one transaction; concurrent callers wait their turn."""
    engine = _engine(sqlalchemy_url)
    try:
        with engine.begin() as connection:
            command.upgrade(config_for(connection), "head")
    except DBAPIError as error:
        raise StoreUnavailable(f"schema upgrade failed: {error.orig}") from error
    finally:
        engine.dispose()


def _engine(sqlalchemy_url: str) -> Engine:
    if not sqlalchemy_url.startswith("sqlite"):
        return create_engine(sqlalchemy_url, poolclass=NullPool)
    engine = create_engine(
        sqlalchemy_url,
        poolclass=NullPool,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )

    # pysqlite would run DDL outside any transaction; take the write lock up front instead,
    # so the whole upgrade is atomic and two processes upgrading at once are serialised.
    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
