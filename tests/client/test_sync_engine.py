"""sync_audience: converging diffs, replace when cheaper, dry runs, interruption, refusals."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_fake_api import APP, TOKEN, FakeApi, FakeClock, MakeClient

from custom_audiences.client import MAX_BODY_BYTES, AudienceNotFound, Client, RetryPolicy
from custom_audiences.client.syncing.engine import (
    SyncInterrupted,
    SyncOptions,
    SyncRefused,
    sync_audience,
)
from custom_audiences.client.syncing.identifiers import Rejected, checked
from custom_audiences.client.syncing.planning import SyncMode

DIFF = SyncOptions(mode=SyncMode.DIFF)


def items(*identifiers: str) -> list[str | Rejected]:
    """Entries as a source yields them: valid ids as is, others as Rejected."""
    return [checked(identifier, line) for line, identifier in enumerate(identifiers, 1)]


ids = st.text(alphabet="abcxyz", min_size=1, max_size=3)
invalid = st.sampled_from(["", "bad\x01", "q" * 256])


@settings(max_examples=60, deadline=None)
@given(
    remote=st.sets(ids, max_size=25),
    wanted=st.lists(ids | invalid, max_size=30),
    mode=st.sampled_from(list(SyncMode)),
)
def test_diff_converges_from_any_start(remote: set[str], wanted: list[str], mode: SyncMode) -> None:
    """Whatever the membership before, it equals the valid wanted ids after one sync."""
    clock = FakeClock()
    api = FakeApi(clock)
    api.seed("aud", remote)
    http = httpx.Client(transport=api.transport())
    client = Client("http://f", APP, TOKEN, http_client=http, sleep=clock.sleep, clock=clock)
    expected = {w for w in wanted if checked(w, 0) == w}
    options = SyncOptions(mode=mode, allow_empty=True, page_size=4)
    report = sync_audience(client, "aud", items(*wanted), options)
    assert api.audiences["aud"].members == expected
    assert report.user_count == len(expected)
    sent = b"".join(e.body for e in api.mutations())
    assert b"\\u0001" not in sent
    assert b"q" * 256 not in sent
    again = sync_audience(
        client, "aud", items(*wanted), SyncOptions(mode=SyncMode.DIFF, allow_empty=True)
    )
    assert again.planned_requests == 0
    http.close()


def test_diff_reports_and_sends_only_the_changes(client: Client, api: FakeApi) -> None:
    """A diff counts adds, removes, unchanged, duplicates and skipped; sends one body."""
    api.seed("aud", {"keep", "drop"})
    report = sync_audience(client, "aud", items("keep", "new", "new", "", "x" * 300), DIFF)
    assert (report.added, report.removed, report.unchanged) == (1, 1, 1)
    assert (report.entries, report.valid, report.duplicates, report.skipped) == (5, 2, 1, 2)
    assert report.rejections.counts == {"empty": 1, "too_long": 1}
    [mutation] = api.mutations()
    assert mutation.body == b'{"add":["new"],"remove":["drop"]}'
    assert report.mode == "diff"
    assert report.planned_requests == 1


def test_sync_of_1_2m_ids_splits_under_10_mib(client: Client, api: FakeApi) -> None:
    """1.2M new ids go in several requests, each at most 10 MiB, all applied."""
    api.seed("big")
    wanted = [f"user_{n:010d}" for n in range(1_200_000)]
    report = sync_audience(client, "big", wanted)
    sizes = [e.body_size for e in api.mutations()]
    assert len(sizes) == 3
    assert all(size <= MAX_BODY_BYTES for size in sizes)
    assert report.planned_requests == 3
    assert report.added == 1_200_000
    assert len(api.audiences["big"].members) == 1_200_000


def test_auto_replaces_when_cheaper(client: Client, api: FakeApi) -> None:
    """auto uses one replace when a diff would need a read and a write."""
    api.seed("aud", {f"u{n}" for n in range(50)})
    report = sync_audience(client, "aud", items("a", "b"))
    assert report.mode == "replace"
    assert [e.method for e in api.mutations()] == ["PUT"]
    assert api.audiences["aud"].members == {"a", "b"}


def test_auto_diffs_into_an_empty_audience(client: Client, api: FakeApi) -> None:
    """On a tie (empty audience) auto takes the diff and keeps the replace window free."""
    api.seed("aud")
    report = sync_audience(client, "aud", items("a", "b"))
    assert report.mode == "diff"
    assert [e.method for e in api.mutations()] == ["POST"]


def test_replace_refused_by_the_window_falls_back_to_diff(
    client: Client, api: FakeApi, clock: FakeClock
) -> None:
    """A 429 on replace (12 h window) falls back to diff, which converges."""
    record = api.seed("aud", {"a"})
    record.last_replace = clock.now
    report = sync_audience(client, "aud", items("b", "c"), SyncOptions(mode=SyncMode.REPLACE))
    assert report.mode == "diff"
    assert any("replace refused" in note for note in report.notes)
    assert api.audiences["aud"].members == {"b", "c"}
    assert [e.status for e in api.mutations()] == [429, 202]


def test_replace_mode_with_a_list_too_big_diffs(make_client: MakeClient, api: FakeApi) -> None:
    """--mode replace on a list over one body falls back to diff, saying so."""
    client = make_client(max_body_bytes=60)
    api.seed("aud", {"old"})
    wanted = [f"user_{n:03d}" for n in range(20)]
    report = sync_audience(client, "aud", wanted, SyncOptions(mode=SyncMode.REPLACE))
    assert report.mode == "diff"
    assert report.notes == ["the list does not fit in one request: used diff"]
    assert api.audiences["aud"].members == set(wanted)


def test_dry_run_sends_no_mutation(client: Client, api: FakeApi) -> None:
    """A dry run reads and plans but sends no mutation."""
    api.seed("aud", {"a", "b"})
    report = sync_audience(
        client, "aud", items("b", "c"), SyncOptions(mode=SyncMode.DIFF, dry_run=True)
    )
    assert api.mutations() == []
    assert (report.added, report.removed, report.planned_requests) == (1, 1, 1)
    assert report.user_count is None
    assert api.audiences["aud"].members == {"a", "b"}


def test_dry_run_of_a_missing_audience_creates_nothing(client: Client, api: FakeApi) -> None:
    """With --create, a dry run plans the creation without any POST."""
    options = SyncOptions(dry_run=True, create_name="New")
    report = sync_audience(client, "new", items("a", "b"), options)
    assert report.created
    assert report.added == 2
    assert all(e.method == "GET" for e in api.log)
    assert api.audiences == {}


def test_missing_audience_is_created_when_asked(client: Client, api: FakeApi) -> None:
    """--create makes the audience, fills it, and skips reading the empty membership."""
    report = sync_audience(client, "vip", items("a"), SyncOptions(create_name="VIP"))
    assert report.created
    assert api.audiences["vip"].name == "VIP"
    assert api.audiences["vip"].members == {"a"}
    assert not any(e.path.endswith("/users") and e.method == "GET" for e in api.log)


def test_missing_audience_without_create_raises(client: Client) -> None:
    """Without --create a missing audience is AudienceNotFound."""
    with pytest.raises(AudienceNotFound):
        sync_audience(client, "nope", items("a"))


def test_empty_source_is_refused_unless_allowed(client: Client, api: FakeApi) -> None:
    """A source with no valid id would empty the audience: refused, or cleared when allowed."""
    api.seed("aud", {"a"})
    with pytest.raises(SyncRefused):
        sync_audience(client, "aud", items("", "\x00"))
    assert api.mutations() == []
    report = sync_audience(client, "aud", items(), SyncOptions(allow_empty=True))
    assert report.mode == "clear"
    assert api.audiences["aud"].members == set()


def test_interrupt_stops_after_the_request_in_flight(make_client: MakeClient, api: FakeApi) -> None:
    """A stop requested during a split mutation ends after that request; a rerun converges."""
    client = make_client(max_body_bytes=1000)
    api.seed("aud", {"gone"})
    wanted = [f"user_{n:04d}" for n in range(300)]  # 13 bytes each: 4 requests
    stop_after_first = {"asked": False}

    def should_stop() -> bool:
        return stop_after_first["asked"]

    def on_progress(event: object) -> None:
        stop_after_first["asked"] = bool(api.mutations())

    with pytest.raises(SyncInterrupted) as caught:
        sync_audience(client, "aud", wanted, DIFF, on_progress=on_progress, should_stop=should_stop)
    assert len(api.mutations()) == 1
    assert caught.value.report.planned_requests == 1
    assert "interrupted" in caught.value.report.notes
    report = sync_audience(client, "aud", wanted, DIFF)
    assert api.audiences["aud"].members == set(wanted)
    assert report.planned_requests == 3


def test_raw_strings_are_validated_too(client: Client, api: FakeApi) -> None:
    """Identifiers passed as plain strings are checked: invalid ones are reported, not sent."""
    api.seed("aud")
    report = sync_audience(client, "aud", ["ok", "", "bell\x07", "x" * 256, "a\u00a0b"], DIFF)
    assert report.rejections.counts == {"control_character": 1, "empty": 1, "too_long": 1}
    assert [(s.line, s.value) for s in report.rejections.samples["control_character"]] == [
        (3, "bell\x07")
    ]
    assert api.audiences["aud"].members == {"ok", "a\u00a0b"}


def test_progress_reports_each_phase(client: Client, api: FakeApi) -> None:
    """Progress events cover reading, comparing and sending, each finished."""
    api.seed("aud", {"a"})
    events: list[tuple[str, bool]] = []
    sync_audience(
        client, "aud", items("b"), DIFF, on_progress=lambda e: events.append((e.phase, e.finished))
    )
    finished = [phase for phase, done in events if done]
    assert finished == ["read", "compare", "send"]


def test_a_processing_audience_is_waited_for_first(make_client: MakeClient, api: FakeApi) -> None:
    """A sync started while another mutation runs waits, then diffs the settled membership."""
    api.seed("aud")
    api.job_seconds = 3.0
    make_client().add_and_remove_users("aud", add=["theirs"], wait=False)
    client = make_client(retry=RetryPolicy(jitter=lambda: 0.5))
    report = sync_audience(client, "aud", items("mine"), DIFF)
    assert (report.added, report.removed) == (1, 1)
    assert api.audiences["aud"].members == {"mine"}
