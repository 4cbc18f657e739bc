"""Acceptance fixtures: every test here is marked ``acceptance`` and gets its own database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import CLI, Launcher

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.acceptance)


@pytest.fixture(scope="session", autouse=True)
def compiled_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let the CLI subprocesses cache their bytecode, outside the tree, for the whole session.

    Where PYTHONDONTWRITEBYTECODE is set, every start would compile the web stack again
    (seconds of CPU each time, and the crash loops restart the server dozens of times).
    """
    saved = {
        name: os.environ.get(name) for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("bytecode"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
