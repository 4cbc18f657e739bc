"""Audience, mutation and member services on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_audiences.domain import mutations
from custom_audiences.domain.audiences import Audience, AudienceStatus
from custom_audiences.errors import (
    AudienceNotFound,
    InvalidPayload,
    MutationInProgress,
    RateLimitExceeded,
)
from custom_audiences.services.audiences import AudienceService
from custom_audiences.services.members import PROCESSING_WARNING, MemberService
from custom_audiences.services.mutations import MutationService
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker.runner import Worker

APP = "app_1"
NOW = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audiences(store: InMemoryStore, clock: Clock) -> AudienceService:
    return AudienceService(store, clock)


@pytest.fixture
def woken() -> list[str]:
    return []


@pytest.fixture
def submit(store: InMemoryStore, clock: Clock, woken: list[str]) -> MutationService:
    return MutationService(
        store, timedelta(hours=12), on_accepted=lambda: woken.append("wake"), clock=clock
    )


def create(audiences: AudienceService, vendor_id: str = "aud") -> None:
    audiences.create(APP, {"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}})


def test_create_uses_the_clock_and_a_caud_id(audiences: AudienceService) -> None:
    """The new audience is ready, empty, stamped with the service's clock."""
    audience = audiences.create(APP, {"custom_audience": {"vendor_id": "v", "name": "n"}})
    assert audience.id.startswith("caud_")
    assert (audience.created_at, audience.status, audience.user_count) == (
        NOW,
        AudienceStatus.READY,
        0,
    )


def test_list_page_counts_pages(audiences: AudienceService) -> None:
    """26 audiences make two pages of 25."""
    for i in range(26):
        create(audiences, f"a{i}")
    first, second = audiences.list_page(APP, 1), audiences.list_page(APP, 2)
    assert (len(first.audiences), len(second.audiences)) == (25, 1)
    assert (second.total_count, second.total_pages) == (26, 2)


def test_a_huge_page_number_stays_within_integer_bounds(audiences: AudienceService) -> None:
    """The offset is capped so no store overflows; the page is simply empty."""
    create(audiences)
    page = audiences.list_page(APP, 10**18)
    assert (page.audiences, page.total_count) == ([], 1)


def test_get_and_archive_unknown_audiences_raise_not_found(audiences: AudienceService) -> None:
    """AudienceNotFound from both."""
    with pytest.raises(AudienceNotFound):
        audiences.get(APP, "nope")
    with pytest.raises(AudienceNotFound):
        audiences.archive(APP, "nope")


def test_an_accepted_mutation_wakes_the_worker(
    audiences: AudienceService, submit: MutationService, woken: list[str]
) -> None:
    """The hook runs once per accepted mutation, after the enqueue."""
    create(audiences)
    audience = submit.submit(APP, "aud", lambda: mutations.add_remove(["a"], None))
    assert audience.status is AudienceStatus.PROCESSING
    assert woken == ["wake"]


def test_refused_mutations_do_not_wake_the_worker(
    audiences: AudienceService, submit: MutationService, woken: list[str]
) -> None:
    """404, 422 and 409 refusals leave the hook alone."""
    create(audiences)

    def invalid() -> mutations.Mutation:
        raise InvalidPayload

    with pytest.raises(AudienceNotFound):
        submit.clear(APP, "missing")
    with pytest.raises(InvalidPayload):
        submit.submit(APP, "aud", invalid)
    submit.clear(APP, "aud")
    with pytest.raises(MutationInProgress):
        submit.clear(APP, "aud")
    assert woken == ["wake"]


def test_the_body_is_not_decoded_for_a_missing_audience(submit: MutationService) -> None:
    """404 comes before any look at the body."""
    built: list[bool] = []

    def build() -> mutations.Mutation:
        built.append(True)
        return mutations.clear()

    with pytest.raises(AudienceNotFound):
        submit.submit(APP, "missing", build)
    assert built == []


def test_replace_is_allowed_again_once_the_interval_has_passed(
    store: InMemoryStore, audiences: AudienceService, submit: MutationService, clock: Clock
) -> None:
    """Refused for 12 hours after an accepted replace (Retry-After counts down), then allowed."""
    create(audiences)
    worker = Worker(store)
    submit.submit(APP, "aud", lambda: mutations.replace(["a"]))
    worker.run_once()
    clock.now = NOW + timedelta(hours=11)
    with pytest.raises(RateLimitExceeded) as refused:
        submit.submit(APP, "aud", lambda: mutations.replace(["b"]))
    assert refused.value.retry_after == 3600
    clock.now = NOW + timedelta(hours=12)
    assert submit.submit(APP, "aud", lambda: mutations.replace(["b"])).status is (
        AudienceStatus.PROCESSING
    )


def test_member_pages_carry_the_next_cursor_only_when_more_follow(
    store: InMemoryStore, audiences: AudienceService, submit: MutationService
) -> None:
    """next_cursor is the page's last id while has_more, else None."""
    create(audiences)
    submit.submit(APP, "aud", lambda: mutations.add_remove(["c", "a", "b"], None))
    Worker(store).run_once()
    members = MemberService(store)
    first = members.list_page(APP, "aud", None, 2)
    assert (first.users, first.next_cursor, first.has_more) == (["a", "b"], "b", True)
    last = members.list_page(APP, "aud", first.next_cursor, 2)
    assert (last.users, last.next_cursor, last.has_more, last.warning) == (["c"], None, False, None)


def test_member_pages_are_empty_with_a_warning_while_processing(
    store: InMemoryStore, audiences: AudienceService, submit: MutationService
) -> None:
    """A pending job hides the membership that is about to change."""
    create(audiences)
    submit.submit(APP, "aud", lambda: mutations.add_remove(["a"], None))
    Worker(store).run_once()
    submit.clear(APP, "aud")
    listing = MemberService(store).list_page(APP, "aud", None, 10)
    assert (listing.users, listing.has_more, listing.warning) == ([], False, PROCESSING_WARNING)


class CountingStore(InMemoryStore):
    """Counts enqueue attempts (each a write transaction on a SQL store)."""

    def __init__(self) -> None:
        super().__init__()
        self.enqueues = 0

    def enqueue_mutation(self, *args: Any, **kwargs: Any) -> Audience:
        self.enqueues += 1
        return super().enqueue_mutation(*args, **kwargs)


def test_a_mutation_of_a_processing_audience_is_refused_before_any_write(clock: Clock) -> None:
    """409 for an audience already processing is decided on the read, after the body checks."""
    store = CountingStore()
    audiences = AudienceService(store, clock)
    submit = MutationService(store, timedelta(hours=12), clock=clock)
    create(audiences)
    submit.clear(APP, "aud")

    def invalid() -> mutations.Mutation:
        raise InvalidPayload

    with pytest.raises(InvalidPayload):  # the body is still checked first
        submit.submit(APP, "aud", invalid)
    with pytest.raises(MutationInProgress):
        submit.clear(APP, "aud")
    assert store.enqueues == 1
