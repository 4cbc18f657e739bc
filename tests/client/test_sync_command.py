"""The `sync` command: options, formats, output, exit codes, dry run and Ctrl-C."""

from __future__ import annotations

import gzip
import io
import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from sdk_fake_api import APP, TOKEN, FakeApi, FakeClock
from typer.testing import CliRunner

from custom_audiences.cli import sync as sync_module
from custom_audiences.cli.sync import summary_lines, sync_command
from custom_audiences.client import Client
from custom_audiences.client.syncing.report import Progress, SyncReport

ARGS = ["--url", "http://fake", "--app", APP, "--api-key", TOKEN]


@pytest.fixture
def app(api: FakeApi, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The command on a one-command app, its Client bound to the fake API."""

    def fake_client(url: str, app_id: str, api_key: str) -> Client:
        http = httpx.Client(transport=api.transport())
        return Client(url, app_id, api_key, http_client=http, sleep=clock.sleep, clock=clock)

    monkeypatch.setattr(sync_module, "Client", fake_client)
    typer_app = typer.Typer()
    typer_app.command()(sync_command)
    return typer_app


def invoke(app: typer.Typer, *args: str, **kwargs: Any) -> Any:
    return CliRunner().invoke(app, list(args), **kwargs)


def test_sync_prints_a_summary_and_exits_0(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """A sync of a text file applies the diff and prints what it did."""
    api.seed("aud", {"old"})
    source = tmp_path / "ids.txt"
    source.write_text("a\nb\n\n", encoding="utf-8")
    result = invoke(app, "aud", str(source), *ARGS, "--mode", "diff")
    assert result.exit_code == 0, result.output
    assert api.audiences["aud"].members == {"a", "b"}
    assert "+2 added, -1 removed" in result.stdout
    assert "skipped   empty: 1 (e.g. line 3: '')" in result.stdout


def test_json_output_is_one_object(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """--json prints exactly one JSON object with the counts on stdout."""
    api.seed("aud")
    source = tmp_path / "ids.csv"
    source.write_text("user_id\nu1\nu2\nu2\n", encoding="utf-8")
    result = invoke(app, "aud", str(source), *ARGS, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 2
    assert report["duplicates"] == 1
    assert report["user_count"] == 2
    assert report["dry_run"] is False
    assert report["requests"] >= 3


def test_dry_run_sends_no_mutation(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """--dry-run prints the plan and sends no mutation."""
    api.seed("aud", {"x"})
    source = tmp_path / "ids.jsonl"
    source.write_text('{"user_id": "a"}\n', encoding="utf-8")
    result = invoke(app, "aud", str(source), *ARGS, "--dry-run", "--mode", "diff", "--json")
    assert result.exit_code == 0, result.output
    assert api.mutations() == []
    report = json.loads(result.stdout)
    assert (report["added"], report["removed"], report["mutation_requests"]) == (1, 1, 1)


def test_stdin_gzip_and_env_api_key(app: typer.Typer, api: FakeApi) -> None:
    """SOURCE '-' reads stdin (gzipped here); the key may come from CUSTOM_AUDIENCES_API_KEY."""
    api.seed("aud")
    result = invoke(
        app,
        "aud",
        "-",
        "--url",
        "http://fake",
        "--app",
        APP,
        input=gzip.compress(b"s1\ns2\n"),
        env={"CUSTOM_AUDIENCES_API_KEY": TOKEN},
    )
    assert result.exit_code == 0, result.output
    assert api.audiences["aud"].members == {"s1", "s2"}


def test_create_makes_the_audience(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """--create --name creates a missing audience before filling it."""
    source = tmp_path / "ids.txt"
    source.write_text("a\n", encoding="utf-8")
    result = invoke(app, "new_aud", str(source), *ARGS, "--create", "--name", "New")
    assert result.exit_code == 0, result.output
    assert api.audiences["new_aud"].name == "New"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["aud", "ids.txt", "--app", APP, "--api-key", TOKEN], "missing --url"),
        (["aud", "--url", "http://fake", "--app", APP, "--api-key", TOKEN], "missing SOURCE"),
        (["aud", "ids.txt", *ARGS, "--create"], "--create needs --name"),
        (["aud", "ids.txt", "--url", "localhost:8000", "--app", APP, "--api-key", "k"], "http://"),
        (["aud", "/nonexistent/ids.txt", *ARGS], "cannot read /nonexistent/ids.txt"),
    ],
)
def test_usage_and_input_errors_exit_1(
    app: typer.Typer, api: FakeApi, tmp_path: Path, args: list[str], message: str
) -> None:
    """Missing options, --create without --name and unreadable sources exit 1 on one line."""
    (tmp_path / "ids.txt").write_text("a\n", encoding="utf-8")
    result = invoke(app, *args, env={"CUSTOM_AUDIENCES_API_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert api.mutations() == []


def test_empty_source_exits_1(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """A source without a valid id is refused (exit 1) unless --allow-empty."""
    api.seed("aud", {"a"})
    source = tmp_path / "ids.txt"
    source.write_text("\n\n", encoding="utf-8")
    assert invoke(app, "aud", str(source), *ARGS).exit_code == 1
    assert invoke(app, "aud", str(source), *ARGS, "--allow-empty").exit_code == 0
    assert api.audiences["aud"].members == set()


def test_api_errors_exit_2(app: typer.Typer, api: FakeApi, tmp_path: Path) -> None:
    """A refused token or a missing audience exits 2 with the API's code on stderr."""
    source = tmp_path / "ids.txt"
    source.write_text("a\n", encoding="utf-8")
    bad_key = ["--url", "http://fake", "--app", APP, "--api-key", "wrong"]
    result = invoke(app, "aud", str(source), *bad_key)
    assert result.exit_code == 2
    assert "UNAUTHORIZED" in result.stderr
    result = invoke(app, "missing", str(source), *ARGS)
    assert result.exit_code == 2
    assert "CUSTOM_AUDIENCE_NOT_FOUND" in result.stderr


def test_ctrl_c_stops_after_the_request_in_flight(
    app: typer.Typer, api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT during a mutation lets it finish, exits 130, and a rerun converges."""
    api.seed("aud")
    source = tmp_path / "ids.txt"
    source.write_text("".join(f"user_{n:05d}\n" for n in range(3000)), encoding="utf-8")
    original = api.handle

    def interrupt_on_first_mutation(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not api.mutations():
            signal.raise_signal(signal.SIGINT)
        return original(request)

    monkeypatch.setattr(api, "handle", interrupt_on_first_mutation)
    monkeypatch.setattr(sync_module, "Client", _small_body_client(api, sync_module.Client))
    result = invoke(app, "aud", str(source), *ARGS, "--mode", "diff")
    assert result.exit_code == 130, result.output
    assert "stopping after the request in flight" in result.stderr
    assert [e.status for e in api.mutations()] == [202]
    assert invoke(app, "aud", str(source), *ARGS, "--mode", "diff").exit_code == 0
    assert len(api.audiences["aud"].members) == 3000


def _small_body_client(api: FakeApi, make: Any) -> Any:
    def factory(url: str, app_id: str, api_key: str) -> Client:
        client: Client = make(url, app_id, api_key)
        client._flows.max_body_bytes = 10_000  # several requests for a few thousand ids
        return client

    return factory


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a TTY the progress is a rich bar that accepts every phase."""
    stream = io.StringIO()
    monkeypatch.setattr(stream, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sync_module.sys, "stderr", stream)
    with sync_module._ProgressDisplay() as show:
        for phase in ("read", "compare", "send", "wait"):
            show(Progress(phase, 5, 10))
            show(Progress(phase, 10, 10, finished=True))


def test_summary_of_a_replace_leaves_counts_unknown() -> None:
    """A replace summary gives the final count, not made-up additions."""
    report = SyncReport("aud", "auto", False, mode="replace", user_count=3, entries=3, valid=3)
    lines = summary_lines(report)
    assert lines[0] == "custom audience aud: replace"
    assert not any("added" in line for line in lines)
    assert "  audience  3 users" in lines
