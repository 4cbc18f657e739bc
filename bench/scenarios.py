"""The measured scenarios: each runs against the server and the raw engine, returns figures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import msgspec

from bench import payloads
from bench.engine import RawEngine, wait_for_garbage_collection
from bench.report import Figure, at_least, judged, median
from bench.server import BenchServer

BUILD_BATCH = 500_000
SMALL = 100_000
EXPORT_LIMIT = 10_000


@dataclass
class Sizes:
    big: int = 5_000_000  #: the large audience
    export: int = 1_000_000  #: members paged through by the export figure


@dataclass
class Bench:
    server: BenchServer
    raw: RawEngine
    sizes: Sizes
    log: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        self.log.append(message)
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def fill(self, vendor_id: str, prefix: str, count: int) -> None:
        """Bring an audience to ``count`` members through the API, in 500k-id adds."""
        for start in range(0, count, BUILD_BATCH):
            batch = payloads.ids(prefix, min(BUILD_BATCH, count - start), start)
            self.server.mutate_and_wait("POST", vendor_id, "/users", payloads.add_body(batch))


def ingest(bench: Bench) -> list[Figure]:
    """Time to 202 of a 10 MiB add, and apply rates into an empty and into a big audience."""
    server, raw, big = bench.server, bench.raw, bench.sizes.big
    new_ids = payloads.ids("n", payloads.FULL_BODY_IDS)
    body = payloads.add_body(new_ids)
    bench.say(f"10 MiB body: {len(body):,} bytes, {len(new_ids):,} ids")
    decode = []
    for _ in range(5):
        started = time.perf_counter()
        msgspec.json.decode(body, type=payloads.AddRequest)
        decode.append(time.perf_counter() - started)

    to_202, apply_empty, raw_empty = [], [], []
    for run in range(3):
        server.create(f"empty-{run}")
        accepted, total = server.mutate_and_wait("POST", f"empty-{run}", "/users", body)
        to_202.append(accepted)
        apply_empty.append(len(new_ids) / (total - accepted))
        raw_empty.append(len(new_ids) / raw.insert(100 + run, new_ids))
    bench.say(f"into empty: {median(apply_empty):,.0f} ids/s (raw {median(raw_empty):,.0f})")

    apply_big, raw_big = [], []
    for pk, (vendor_id, prefix) in enumerate([("big-a", "p"), ("big-b", "q")], start=1):
        server.create(vendor_id)
        started = time.perf_counter()
        bench.fill(vendor_id, "m", big)
        for start in range(0, big, BUILD_BATCH):
            raw.insert(pk, payloads.ids("m", min(BUILD_BATCH, big - start), start))
        bench.say(f"{vendor_id}: {big:,} members built in {time.perf_counter() - started:.0f} s")
        extra = payloads.ids(prefix, payloads.FULL_BODY_IDS)
        accepted, total = server.mutate_and_wait(
            "POST", vendor_id, "/users", payloads.add_body(extra)
        )
        to_202.append(accepted)
        apply_big.append(len(extra) / (total - accepted))
        raw_big.append(len(extra) / raw.insert(pk, extra))
    bench.say(f"into {big:,}: {median(apply_big):,.0f} ids/s (raw {median(raw_big):,.0f})")

    def ratio(value: float, baseline: float) -> float:
        return value / baseline

    return [
        judged(
            f"time to 202, 10 MiB add ({len(new_ids) // 1000}k ids)",
            to_202,
            "s",
            "< 0.3 s",
            lambda v, _: v < 0.3,
            baseline=median(decode),
            baseline_name="msgspec decode in-process",
            ratio_of=ratio,
        ),
        judged(
            "apply 10 MiB add into an empty audience",
            apply_empty,
            "ids/s",
            "ratio >= 0.6",
            lambda _, r: r is not None and at_least(r, 0.6),
            baseline=median(raw_empty),
            baseline_name=raw.insert_name,
            ratio_of=ratio,
        ),
        judged(
            f"apply 10 MiB add into a {big // 1_000_000}M audience",
            apply_big,
            "ids/s",
            "ratio >= 0.6",
            lambda _, r: r is not None and at_least(r, 0.6),
            baseline=median(raw_big),
            baseline_name=raw.insert_name,
            ratio_of=ratio,
        ),
    ]


def replace_and_clear(bench: Bench) -> list[Figure]:
    """Clear and replace cost must not depend on the audience's size (generation switch)."""
    server = bench.server
    database_url = server.database_url
    fresh = payloads.replace_body(payloads.ids("r", SMALL))

    server.create("small-replace")
    bench.fill("small-replace", "s", SMALL)
    replace_small = []
    for _ in range(3):
        replace_small.append(
            server.mutate_and_wait("PUT", "small-replace", "/users/replace", fresh)[1]
        )
        wait_for_garbage_collection(database_url)
    replace_big = [server.mutate_and_wait("PUT", "big-a", "/users/replace", fresh)[1]]
    gc_seconds = wait_for_garbage_collection(database_url)
    bench.say(f"garbage collection after the big replace: {gc_seconds:.1f} s")

    server.create("small-clear")
    clear_small = []
    for _ in range(3):
        bench.fill("small-clear", "c", SMALL)
        clear_small.append(server.mutate_and_wait("DELETE", "small-clear", "/users/clear", None)[1])
        wait_for_garbage_collection(database_url)
    big_count = server.user_count("big-b")
    clear_big = [server.mutate_and_wait("DELETE", "big-b", "/users/clear", None)[1]]
    gc_seconds = wait_for_garbage_collection(database_url)
    bench.say(f"garbage collection after the big clear: {gc_seconds:.1f} s")

    millions = f"{big_count / 1_000_000:.1f}M"
    return [
        judged(
            f"clear a {SMALL // 1000}k audience (request to ready)",
            clear_small,
            "s",
            "< 50 ms",
            lambda v, _: v < 0.05,
        ),
        judged(
            f"clear a {millions} audience (request to ready)",
            clear_big,
            "s",
            "< 50 ms",
            lambda v, _: v < 0.05,
        ),
        judged(
            f"replace a {SMALL // 1000}k audience with {SMALL // 1000}k ids",
            replace_small,
            "s",
            "-",
            None,
        ),
        judged(
            f"replace a {millions} audience with {SMALL // 1000}k ids",
            replace_big,
            "s",
            "ratio <= 1.2",
            lambda _, r: r is not None and r <= 1.2,
            baseline=median(replace_small),
            baseline_name="replace of the 100k audience",
            ratio_of=lambda v, b: v / b,
        ),
    ]


def export(bench: Bench) -> list[Figure]:
    """List users over HTTP against raw keyset paging of the same rows."""
    server, raw, size = bench.server, bench.raw, bench.sizes.export
    server.create("export")
    bench.fill("export", "g", size)
    for start in range(0, size, BUILD_BATCH):
        raw.insert(3, payloads.ids("g", min(BUILD_BATCH, size - start), start))
    served, baseline = [], []
    for _ in range(3):
        count, seconds = server.export("export", EXPORT_LIMIT)
        assert count == size, count
        served.append(count / seconds)
        count, seconds = raw.export(3, EXPORT_LIMIT)
        assert count == size, count
        baseline.append(count / seconds)
    return [
        judged(
            f"export {size:,} members, List users limit={EXPORT_LIMIT}",
            served,
            "ids/s",
            "ratio >= 0.5",
            lambda _, r: r is not None and r >= 0.5,
            baseline=median(baseline),
            baseline_name=raw.export_name,
            ratio_of=lambda v, b: v / b,
        )
    ]
