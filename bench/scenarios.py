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
# Disjoint ranges of id numbers (see payloads.ids): every set below is distinct from the others.
EMPTY_IDS = 100_000_000  # the 10 MiB add into empty audiences
BIG_IDS = 0  # the members of the big audiences
BIG_AUDIENCES = ("big-a", "big-b", "big-c")  # two get replaced, one cleared
EXTRA_IDS = (110_000_000, 115_000_000, 120_000_000)  # the 10 MiB add into each big audience
REPLACE_FILL_IDS, REPLACE_IDS = 130_000_000, 140_000_000
CLEAR_FILL_IDS = 150_000_000
EXPORT_IDS = 160_000_000
# Audience keys in the raw baseline's table: the big audiences take 1, 2, 3.
RAW_EMPTY_PK, RAW_EXPORT_PK = 100, 200


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

    def fill(self, vendor_id: str, first: int, count: int) -> None:
        """Add ids ``first``... to an audience through the API, in 500k-id adds."""
        for offset in range(0, count, BUILD_BATCH):
            batch = payloads.ids(first + offset, min(BUILD_BATCH, count - offset))
            self.server.mutate_and_wait("POST", vendor_id, "/users", payloads.add_body(batch))


# Creation order fixes where each audience's rows sit in the members table (it is ordered
# by audience). The small audiences come first so that, like the big ones, their rows lie
# in the middle of the table: a replace of either then writes its new generation in the
# middle, and the two compare as like for like (appending at the table's end is cheaper).
AUDIENCES = (
    "small-replace",
    "small-clear",
    "empty-0",
    "empty-1",
    "empty-2",
    *BIG_AUDIENCES,
    "export",
)


def create_audiences(bench: Bench) -> None:
    for vendor_id in AUDIENCES:
        bench.server.create(vendor_id)


def ingest(bench: Bench) -> list[Figure]:
    """Time to 202 of a 10 MiB add, and apply rates into an empty and into a big audience."""
    server, raw, big = bench.server, bench.raw, bench.sizes.big
    new_ids = payloads.ids(EMPTY_IDS, payloads.FULL_BODY_IDS)
    body = payloads.add_body(new_ids)
    bench.say(f"10 MiB body: {len(body):,} bytes, {len(new_ids):,} ids")
    decode = []
    for _ in range(5):
        started = time.perf_counter()
        msgspec.json.decode(body, type=payloads.AddRequest)
        decode.append(time.perf_counter() - started)

    to_202, apply_empty, raw_empty = [], [], []
    for run in range(3):
        accepted, total = server.mutate_and_wait("POST", f"empty-{run}", "/users", body)
        to_202.append(accepted)
        apply_empty.append(len(new_ids) / (total - accepted))
        raw_empty.append(len(new_ids) / raw.insert(RAW_EMPTY_PK + run, new_ids))
    bench.say(f"into empty: {median(apply_empty):,.0f} ids/s (raw {median(raw_empty):,.0f})")

    apply_big, raw_big = [], []
    big_audiences = zip(BIG_AUDIENCES, EXTRA_IDS, strict=True)
    for pk, (vendor_id, extra_first) in enumerate(big_audiences, start=1):
        started = time.perf_counter()
        bench.fill(vendor_id, BIG_IDS, big)
        for offset in range(0, big, BUILD_BATCH):
            raw.insert(pk, payloads.ids(BIG_IDS + offset, min(BUILD_BATCH, big - offset)))
        bench.say(f"{vendor_id}: {big:,} members built in {time.perf_counter() - started:.0f} s")
        extra = payloads.ids(extra_first, payloads.FULL_BODY_IDS)
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
    fresh = payloads.replace_body(payloads.ids(REPLACE_IDS, SMALL))

    def timed(method: str, vendor_id: str, suffix: str, body: bytes | None) -> float:
        """Request to ready, then wait out the clean-up so it cannot slow the next one."""
        seconds = server.mutate_and_wait(method, vendor_id, suffix, body)[1]
        gc_seconds = wait_for_garbage_collection(database_url)
        bench.say(f"{method} {vendor_id}{suffix}: {seconds * 1000:.0f} ms (GC {gc_seconds:.1f} s)")
        return seconds

    # Small and big replaces alternate, so that drift on the machine hits both alike.
    bench.fill("small-replace", REPLACE_FILL_IDS, SMALL)
    big_count = server.user_count(BIG_AUDIENCES[0])
    replace_small, replace_big = [], []
    for big_vendor_id in BIG_AUDIENCES[:2]:
        replace_small.append(timed("PUT", "small-replace", "/users/replace", fresh))
        replace_big.append(timed("PUT", big_vendor_id, "/users/replace", fresh))
    replace_small.append(timed("PUT", "small-replace", "/users/replace", fresh))

    clear_small = []
    for _ in range(3):
        bench.fill("small-clear", CLEAR_FILL_IDS, SMALL)
        clear_small.append(timed("DELETE", "small-clear", "/users/clear", None))
    clear_big = [timed("DELETE", BIG_AUDIENCES[2], "/users/clear", None)]

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
            "within 20%",
            lambda _, r: r is not None and max(r, 1 / r) <= 1.2,
            baseline=median(replace_small),
            baseline_name="replace of the 100k audience",
            ratio_of=lambda v, b: v / b,
        ),
    ]


def export(bench: Bench) -> list[Figure]:
    """List users over HTTP against raw keyset paging of the same rows."""
    server, raw, size = bench.server, bench.raw, bench.sizes.export
    bench.fill("export", EXPORT_IDS, size)
    for offset in range(0, size, BUILD_BATCH):
        raw.insert(
            RAW_EXPORT_PK, payloads.ids(EXPORT_IDS + offset, min(BUILD_BATCH, size - offset))
        )
    served, baseline = [], []
    for _ in range(3):
        count, seconds = server.export("export", EXPORT_LIMIT)
        assert count == size, count
        served.append(count / seconds)
        count, seconds = raw.export(RAW_EXPORT_PK, EXPORT_LIMIT)
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
