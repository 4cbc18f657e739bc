"""Benchmark figures with baseline, ratio and target: printed as a table, saved as JSON."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    passed: bool | None
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    samples: list[float] = field(default_factory=list)
    note: str = ""


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def at_least(ratio: float, minimum: float) -> bool:
    return ratio >= minimum


def judged(
    name: str,
    samples: list[float],
    unit: str,
    target: str,
    check: Callable[[float, float | None], bool] | None,
    *,
    baseline: float | None = None,
    baseline_name: str = "",
    ratio_of: Callable[[float, float], float] | None = None,
    note: str = "",
) -> Figure:
    """A figure from its samples (median), its baseline and the target check (value, ratio).

    Without a check the figure is informational (no target, neither PASS nor MISS).
    """
    value = median(samples)
    ratio = ratio_of(value, baseline) if ratio_of and baseline else None
    return Figure(
        name,
        value,
        unit,
        target,
        check(value, ratio) if check else None,
        baseline,
        baseline_name,
        ratio,
        samples,
        note,
    )


def machine() -> dict[str, object]:
    meminfo = Path("/proc/meminfo")
    mem_kib = int(meminfo.read_text().split()[1]) if meminfo.exists() else 0
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "commit": commit,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ids/s":
        return f"{value / 1000:,.0f} k ids/s"
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:,.3g} {unit}".strip()


def print_table(figures: list[Figure], info: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"custom-audiences benchmark ({info['database']})")
    for column in ("figure", "n", "value", "baseline", "ratio", "target", "result"):
        table.add_column(column)
    for f in figures:
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline else "-"
        result = {True: "[green]PASS[/]", False: "[red]MISS[/]", None: "-"}[f.passed]
        table.add_row(
            f.name,
            str(len(f.samples)),
            _fmt(f.value, f.unit),
            baseline,
            _fmt(f.ratio, "x"),
            f.target,
            result,
        )
    console = Console(width=max(Console().width, 150))
    console.print(table)
    console.print(
        f"{info['cpus']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"SQLite {info['sqlite']}"
        + (f", PostgreSQL {info['postgresql']}" if "postgresql" in info else "")
        + f", commit {info['commit']}, {info['elapsed_s']} s in all"
    )


def save(figures: list[Figure], info: dict[str, object]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"bench-{info['engine']}-{stamp}.json"
    payload = {"machine": info, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
