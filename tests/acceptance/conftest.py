"""Acceptance fixtures: every test here is marked ``acceptance`` and gets its own database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import CLI, Launcher

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.acceptance)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """Starts serve/worker on a fresh SQLite file; kills whatever is still running afterwards."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `make install`")
    started = Launcher(tmp_path, f"sqlite:///{tmp_path / 'audiences.db'}")
    try:
        yield started
    finally:
        started.kill_all()
