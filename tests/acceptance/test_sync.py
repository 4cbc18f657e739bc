"""`custom-audiences sync` as a user runs it, against a real `custom-audiences serve`."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

from custom_audiences.client import Client
from custom_audiences.client.syncing.benchmark import run_sync_benchmark

from .support import CLI, Launcher, Server, all_users, audiences_path, read_demo


def run_sync(
    launcher: Launcher, server: Server, token: str, *args: str
) -> subprocess.CompletedProcess[str]:
    demo = read_demo(server.stdout)
    env = launcher.env() | {"CUSTOM_AUDIENCES_API_KEY": token}
    command = [str(CLI), "sync", *args, "--url", server.base_url, "--app", demo.app_id]
    return subprocess.run(
        command, cwd=launcher.workdir, env=env, capture_output=True, text=True, timeout=300
    )


def members(server: Server, token: str, vendor_id: str) -> list[str]:
    app_id = read_demo(server.stdout).app_id
    with server.client(token) as http:
        return list(all_users(http, audiences_path(app_id, f"/{vendor_id}/users")))


def test_sync_creates_fills_and_converges(launcher: Launcher, tmp_path: Path) -> None:
    """Text then gzipped CSV syncs give the exact members; dry run, bad key and bad file too."""
    server = launcher.serve()
    token = read_demo(server.stdout).token
    first = tmp_path / "ids.txt"
    first.write_text("".join(f"user_{n:06d}\n" for n in range(20_000)), encoding="utf-8")
    done = run_sync(
        launcher, server, token, "vip", str(first), "--create", "--name", "VIP", "--json"
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert (report["created"], report["added"], report["user_count"]) == (True, 20_000, 20_000)
    assert members(server, token, "vip") == [f"user_{n:06d}" for n in range(20_000)]

    wanted = [f"user_{n:06d}" for n in range(2_000, 22_000)]
    second = tmp_path / "ids.csv.gz"
    second.write_bytes(gzip.compress(("user_id\n" + "\n".join(wanted) + "\n\n").encode()))
    done = run_sync(launcher, server, token, "vip", str(second), "--mode", "diff", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["added"], report["removed"], report["unchanged"]) == (2_000, 2_000, 18_000)
    assert members(server, token, "vip") == wanted

    again = run_sync(launcher, server, token, "vip", str(second), "--mode", "diff", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["mutation_requests"] == 0

    # A dry run changes nothing; a bad key exits 2; a missing file exits 1.
    source = tmp_path / "ids.jsonl"
    source.write_text('{"user_id": "a"}\n"b"\n', encoding="utf-8")
    done = run_sync(
        launcher, server, token, "plan", str(source), "--create", "--name", "P", "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    assert "dry run" in done.stdout
    with server.client(token) as http:
        listed = http.get(audiences_path(read_demo(server.stdout).app_id)).json()
    assert [a["vendor_id"] for a in listed["custom_audiences"]] == ["vip"]

    refused = run_sync(launcher, server, "ca_not_a_key", "plan", str(source))
    assert refused.returncode == 2
    assert "UNAUTHORIZED" in refused.stderr
    missing = run_sync(launcher, server, token, "plan", str(tmp_path / "nope.txt"))
    assert missing.returncode == 1


def test_benchmark_function_runs_against_the_server(launcher: Launcher, tmp_path: Path) -> None:
    """run_sync_benchmark (small here) fills then changes an audience, reporting its costs."""
    server = launcher.serve()
    demo = read_demo(server.stdout)
    with Client(server.base_url, demo.app_id, demo.token) as client:
        initial, change = run_sync_benchmark(client, tmp_path, size=5_000, vendor_id="bench")
    assert (initial.added, initial.removed) == (5_000, 0)
    assert (change.added, change.removed) == (500, 500)
    assert change.mutation_requests == 1
    assert members(server, demo.token, "bench") == [f"user_{n:09d}" for n in range(500, 5_500)]
