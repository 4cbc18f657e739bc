"""Fixtures for the CLI tests: the real command tree on a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_audiences.store import open_store
from custom_audiences.store.base import Store

from .support import Cli


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # Run from an empty directory so that no stray .env can point elsewhere.
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CUSTOM_AUDIENCES_DATABASE_URL", url)
    return url


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The same database the commands write, opened directly to check what they did."""
    opened = open_store(database_url)
    opened.upgrade()
    yield opened
    opened.close()
