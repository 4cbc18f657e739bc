"""Helpers for the CLI tests: run the real command tree in-process and read its output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import typer
from typer.testing import CliRunner, Result

from custom_audiences.cli import build_app


@dataclass
class Cli:
    """Runs ``custom-audiences ARGS`` in-process, stdout and stderr kept apart."""

    app: typer.Typer = field(default_factory=build_app)
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(self.app, list(args))

    def json(self, *args: str) -> dict[str, Any]:
        """Run with ``--json``; the command must succeed and print exactly one JSON object."""
        result = self(*args, "--json")
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""
        payload = json.loads(result.stdout)
        assert isinstance(payload, dict)
        return payload


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """A failed command: non-zero exit, nothing on stdout, one line on stderr."""
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
