"""Store contract: creating, listing, archiving audiences and recording mutations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_audiences.domain import mutations
from custom_audiences.domain.audiences import AudienceStatus, IdentifierType, NewAudience
from custom_audiences.errors import (
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    MutationInProgress,
    RateLimitExceeded,
    ValidationFailed,
)

from .conftest import NOW, REPLACE_INTERVAL, World, add_app


def test_create_returns_a_ready_empty_audience(world: World) -> None:
    """A new audience is ready, empty, never synced, and reads back identically."""
    new = NewAudience("premium_users", "Premium Users", IdentifierType.ANONYMOUS_ID)
    created = world.store.create_audience("app_1", new, "caud_1", NOW)
    assert (created.id, created.app_id, created.vendor_id, created.name) == (
        "caud_1",
        "app_1",
        "premium_users",
        "Premium Users",
    )
    assert created.identifier_type is IdentifierType.ANONYMOUS_ID
    assert created.status is AudienceStatus.READY
    assert (created.user_count, created.last_synced_at, created.last_job_result) == (0, None, None)
    assert created.created_at == created.updated_at == NOW
    assert world.store.get_audience("app_1", "premium_users") == created


def test_vendor_id_is_unique_per_app_among_active_audiences(world: World) -> None:
    """A second active audience with the vendor_id is refused; another app may use it."""
    world.audience("dup")
    with pytest.raises(ValidationFailed):
        world.audience("dup", id="caud_other")
    add_app(world.store, "app_2")
    other = World(world.store, "app_2").audience("dup", id="caud_app2")
    assert other.app_id == "app_2"


def test_archive_hides_the_audience_and_frees_its_vendor_id(world: World) -> None:
    """Archiving returns the audience as it was; it is then absent and its vendor_id reusable."""
    created = world.audience("gone")
    archived = world.store.archive_audience("app_1", "gone", NOW + timedelta(minutes=1))
    assert archived == created
    assert world.store.get_audience("app_1", "gone") is None
    with pytest.raises(AudienceNotFound):
        world.store.archive_audience("app_1", "gone", NOW)
    with pytest.raises(AudienceNotFound):
        world.enqueue(mutations.clear(), "gone")
    with pytest.raises(AudienceNotFound):
        world.store.page_members("app_1", "gone", None, 10)
    again = world.audience("gone", id="caud_again")
    assert again.id == "caud_again"
    assert world.current("gone").id == "caud_again"


def test_archive_is_refused_while_a_mutation_is_pending(world: World) -> None:
    """An audience with a pending mutation cannot be archived."""
    world.audience()
    world.enqueue(mutations.add_remove(["u1"], None))
    with pytest.raises(CannotArchiveWhileProcessing):
        world.store.archive_audience("app_1", "aud", NOW)
    assert world.current().status is AudienceStatus.PROCESSING


def test_list_is_oldest_first_paged_with_the_active_total(world: World) -> None:
    """Active audiences of the app by (created_at, id), with offset, limit and total."""
    world.audience("late", at=NOW + timedelta(seconds=5), id="caud_a")
    world.audience("tie_b", id="caud_c")
    world.audience("tie_a", id="caud_b")
    world.audience("early", at=NOW - timedelta(seconds=5), id="caud_z")
    world.audience("archived", id="caud_0")
    world.store.archive_audience("app_1", "archived", NOW)
    add_app(world.store, "app_2")
    World(world.store, "app_2").audience("elsewhere", id="caud_elsewhere")

    page, total = world.store.list_audiences("app_1", 0, 25)
    assert [a.vendor_id for a in page] == ["early", "tie_a", "tie_b", "late"]
    assert total == 4
    page, total = world.store.list_audiences("app_1", 1, 2)
    assert ([a.vendor_id for a in page], total) == (["tie_a", "tie_b"], 4)
    assert world.store.list_audiences("app_1", 4, 25) == ([], 4)


def test_enqueue_flips_the_audience_to_processing(world: World) -> None:
    """Recording a mutation returns the audience processing, with the count before the job."""
    world.audience()
    later = NOW + timedelta(seconds=3)
    audience = world.enqueue(mutations.add_remove(["u1", "u2"], None), at=later)
    assert audience.status is AudienceStatus.PROCESSING
    assert (audience.user_count, audience.updated_at) == (0, later)
    assert world.current() == audience


def test_enqueue_unknown_audience_is_not_found(world: World) -> None:
    """No audience, no job."""
    with pytest.raises(AudienceNotFound):
        world.enqueue(mutations.add_remove(["u1"], None), "missing")
    assert world.store.claim_job("worker", NOW, timedelta(seconds=30)) is None


def test_one_pending_mutation_per_audience(world: World) -> None:
    """A second mutation while one is pending is refused; once applied, the next is accepted."""
    world.audience()
    world.audience("other")
    world.enqueue(mutations.add_remove(["u1"], None))
    for second in (mutations.add_remove(["u2"], None), mutations.clear(), mutations.replace(["x"])):
        with pytest.raises(MutationInProgress):
            world.enqueue(second)
    world.enqueue(mutations.clear(), "other")  # other audiences are not blocked
    job = world.store.claim_job("worker", NOW, timedelta(seconds=30))
    assert job is not None
    world.store.apply_job(job, "worker", NOW)
    assert world.enqueue(mutations.add_remove(["u2"], None)).status is AudienceStatus.PROCESSING


def test_replace_is_limited_per_interval_with_retry_after(world: World) -> None:
    """A replace within the interval of the last accepted one is 429 with the wait left."""
    world.audience()
    world.run(mutations.replace(["a"]))
    soon = NOW + REPLACE_INTERVAL - timedelta(seconds=90, milliseconds=500)
    with pytest.raises(RateLimitExceeded) as refused:
        world.enqueue(mutations.replace(["b"]), at=soon)
    assert refused.value.retry_after == 91
    assert world.current().status is AudienceStatus.READY
    world.run(mutations.add_remove(["c"], None), at=soon)  # add/remove is not limited
    world.run(mutations.clear(), at=soon)  # nor is clear
    assert world.enqueue(mutations.replace(["b"]), at=NOW + REPLACE_INTERVAL).last_replace_at == (
        NOW + REPLACE_INTERVAL
    )


def test_refused_replace_does_not_count_and_409_comes_first(world: World) -> None:
    """A replace refused because a job is pending neither counts nor reports 429."""
    world.audience()
    world.enqueue(mutations.replace(["a"]))
    with pytest.raises(MutationInProgress):
        world.enqueue(mutations.replace(["b"]), at=NOW + timedelta(seconds=1))
    assert world.current().last_replace_at == NOW
