"""``python -m bench``: start a real server, run every scenario, print and save the figures."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench import engine, report, scenarios
from bench.engine import is_postgres
from bench.server import BenchServer
from bench.sync import sync_figures


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--database",
        help="sqlite:///PATH or postgresql://... (default: SQLite in a temporary directory);"
        " on PostgreSQL the run uses fresh schemas of that database and drops them",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1M instead of 5M members (checks the bench itself)"
    )
    return parser.parse_args()


def main() -> None:
    options = parse()
    sizes = scenarios.Sizes(big=1_000_000, export=500_000) if options.quick else scenarios.Sizes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="custom-audiences-bench-") as tmp:
        workdir = Path(tmp)
        with (
            engine.databases(options.database, workdir) as (database_url, raw),
            BenchServer(database_url, workdir) as server,
        ):
            bench = scenarios.Bench(server, raw, sizes)
            scenarios.create_audiences(bench)
            figures = scenarios.ingest(bench)
            figures += scenarios.replace_and_clear(bench)
            figures += scenarios.export(bench)
            figures += sync_figures(server, workdir, sizes.export)
            versions = engine.server_versions(database_url)
    info = report.machine() | {
        "engine": "postgresql" if is_postgres(database_url) else "sqlite",
        "database": "PostgreSQL" if is_postgres(database_url) else "SQLite (embedded)",
        "quick": options.quick,
        "elapsed_s": round(time.perf_counter() - started),
        **versions,
    }
    report.print_table(figures, info)
    print(f"saved {report.save(figures, info)}")


if __name__ == "__main__":
    main()
