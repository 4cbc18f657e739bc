"""How admin commands report: readable text or one JSON object on stdout, errors on one line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn
from urllib.parse import urlsplit, urlunsplit

import typer

if TYPE_CHECKING:
    from rich.console import RenderableType

    from custom_audiences.config import Settings
    from custom_audiences.store.base import Store

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
]


def print_json(payload: Mapping[str, object]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False))


def print_human(*renderables: RenderableType) -> None:
    from rich.console import Console

    # soft_wrap: ids and tokens must stay on one line so they can be copied whole.
    console = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
    for renderable in renderables:
        console.print(renderable)


def fail(message: str) -> NoReturn:
    """Exit 1 with ``error: ...`` as a single line on stderr."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def describe(exc: BaseException) -> str:
    """The first line of an exception's message (driver errors run over several lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def redact(database_url: str) -> str:
    """The URL without its password, fit for an error message."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def load_settings() -> Settings:
    """Settings from the environment; a malformed value is a one-line error."""
    from custom_audiences.config import Settings

    try:
        return Settings.from_env()
    except ValueError as exc:
        fail(f"invalid configuration: {describe(exc)}")


def open_migrated_store(database_url: str) -> Store:
    """Open and migrate the database; failing that, exit with a one-line error."""
    from custom_audiences.store import open_store

    try:
        store = open_store(database_url)
    except Exception as exc:
        fail(f"cannot open the database {redact(database_url)}: {describe(exc)}")
    try:
        store.upgrade()
    except Exception as exc:
        store.close()
        fail(f"cannot migrate the database {redact(database_url)}: {describe(exc)}")
    return store


@contextmanager
def admin_store() -> Iterator[Store]:
    """The configured database, migrated; any failure inside becomes a one-line error."""
    store = open_migrated_store(load_settings().database_url)
    try:
        yield store
    except typer.Exit:
        raise
    except Exception as exc:
        # AdminError (unknown id or feature) and database failures alike: one line.
        fail(describe(exc))
    finally:
        store.close()
