"""The SDK package: its public names, and its independence from the server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import custom_audiences.client as sdk

CLIENT_DIR = Path(sdk.__file__).parent


def test_all_lists_exactly_the_public_names() -> None:
    """__all__ names every public re-export, each of which exists."""
    public = {name for name in vars(sdk) if not name.startswith("_")} - {
        "async_client",
        "client",
        "encoding",
        "errors",
        "exchange",
        "flows",
        "models",
        "retry",
        "transport",
        "syncing",
    }
    assert sorted(sdk.__all__) == sorted(public)
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None


def test_every_api_error_class_is_exported() -> None:
    """Each ApiError subclass of the errors module is public."""
    from custom_audiences.client import errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.CustomAudiencesError)
    }
    assert classes <= set(sdk.__all__)


def test_client_imports_nothing_from_the_server() -> None:
    """No module under client/ imports custom_audiences outside custom_audiences.client."""
    offenders = []
    for path in CLIENT_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            for name in names:
                if name.startswith("custom_audiences") and not name.startswith(
                    "custom_audiences.client"
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_importing_the_sdk_loads_no_server_module() -> None:
    """A fresh interpreter importing the SDK and the sync engine loads no server module."""
    code = (
        "import sys, custom_audiences.client, custom_audiences.client.syncing.engine, "
        "custom_audiences.client.syncing.sources\n"
        "print(sorted(m for m in sys.modules if m.startswith('custom_audiences') "
        "and not m.startswith('custom_audiences.client')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['custom_audiences']"
