"""Store contract: claiming and leasing jobs, applying and failing them, collecting garbage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_audiences.domain import mutations
from custom_audiences.domain.audiences import AudienceStatus, JobResult
from custom_audiences.domain.mutations import Mutation, MutationKind
from custom_audiences.store.base import LeaseLost

from .conftest import LEASE, NOW, World


def test_claim_takes_the_oldest_job_once(world: World) -> None:
    """Jobs are claimed oldest first, with their kind and counts, and only once per lease."""
    world.audience("first")
    world.audience("second")
    world.enqueue(mutations.add_remove(["a", "b", ""], ["c"]), "first")
    world.enqueue(mutations.clear(), "second")
    first = world.store.claim_job("w1", NOW, LEASE)
    second = world.store.claim_job("w2", NOW, LEASE)
    assert first is not None
    assert second is not None
    assert (first.kind, first.processed_count, first.skipped_count, first.attempts) == (
        MutationKind.ADD_REMOVE,
        3,
        1,
        1,
    )
    assert second.kind is MutationKind.CLEAR
    assert world.store.claim_job("w3", NOW, LEASE) is None


def test_an_expired_lease_is_taken_over(world: World) -> None:
    """After its lease expires a job goes to another worker; the first one lost it."""
    world.audience()
    world.enqueue(mutations.add_remove(["a"], None))
    job = world.store.claim_job("w1", NOW, LEASE)
    assert job is not None
    assert world.store.claim_job("w2", NOW + LEASE, LEASE) is None  # expiry is strict
    taken = world.store.claim_job("w2", NOW + LEASE + timedelta(milliseconds=1), LEASE)
    assert taken is not None
    assert (taken.id, taken.attempts) == (job.id, 2)
    assert not world.store.renew_lease(job.id, "w1", NOW + 2 * LEASE)
    with pytest.raises(LeaseLost):
        world.store.apply_job(job, "w1", NOW)
    with pytest.raises(LeaseLost):
        world.store.fail_job(job, "w1", NOW)
    assert world.members() == []
    assert world.current().status is AudienceStatus.PROCESSING
    world.store.apply_job(taken, "w2", NOW + LEASE)
    assert world.members() == ["a"]


def test_renewing_keeps_the_job(world: World) -> None:
    """A renewed lease is not taken over at the old expiry time."""
    world.audience()
    world.enqueue(mutations.add_remove(["a"], None))
    job = world.store.claim_job("w1", NOW, LEASE)
    assert job is not None
    assert world.store.renew_lease(job.id, "w1", NOW + 3 * LEASE)
    assert world.store.claim_job("w2", NOW + 2 * LEASE, LEASE) is None
    assert not world.store.renew_lease(job.id, "w2", NOW + 3 * LEASE)


def test_apply_add_sets_membership_counts_and_result(world: World) -> None:
    """An add lands exactly, the audience is ready with the job's result, the job is done."""
    world.audience()
    later = NOW + timedelta(seconds=7)
    result = world.run(mutations.add_remove(["u3", "u1", "u2", "u1", "\x00bad"], None), at=later)
    assert result == JobResult(3, 1, 0)
    audience = world.current()
    assert world.members() == ["u1", "u2", "u3"]
    assert (audience.user_count, audience.status, audience.last_job_result) == (
        3,
        AudienceStatus.READY,
        result,
    )
    assert audience.last_synced_at == audience.updated_at == later
    assert world.store.claim_job("w9", later + timedelta(days=1), LEASE) is None


def test_apply_add_and_remove_with_overlaps(world: World) -> None:
    """Adding members and removing non-members still counts; an id in both ends removed."""
    world.audience()
    world.run(mutations.add_remove(["a", "b", "c"], None))
    result = world.run(mutations.add_remove(["c", "d", "e", "x"], ["a", "zz", "x"]))
    assert result == JobResult(6, 0, 0)  # c, d, e added-or-present; a, zz, x removed-or-absent
    assert world.members() == ["b", "c", "d", "e"]
    assert world.current().user_count == 4
    world.run(mutations.add_remove(None, ["b", "c", "d", "e"]))
    assert (world.members(), world.current().user_count) == ([], 0)


def test_replace_sets_exactly_the_new_list(world: World) -> None:
    """Replace leaves exactly the new distinct identifiers; processed counts them."""
    world.audience()
    world.run(mutations.add_remove(["old1", "keep", "old2"], None))
    result = world.run(mutations.replace(["new2", "keep", "new1", "keep", ""]))
    assert result == JobResult(3, 1, 0)
    assert world.members() == ["keep", "new1", "new2"]
    assert world.current().user_count == 3


def test_clear_empties_and_counts_the_cleared(world: World) -> None:
    """Clear leaves no member; processed is the number of members it cleared."""
    world.audience()
    world.run(mutations.add_remove(["a", "b", "c"], None))
    assert world.run(mutations.clear()) == JobResult(3, 0, 0)
    assert (world.members(), world.current().user_count) == ([], 0)
    world.run(mutations.add_remove(["d"], None))
    assert world.members() == ["d"]


def test_a_failed_job_leaves_membership_untouched(world: World) -> None:
    """fail_job marks the audience failed with the job's counts as errors; nothing applied."""
    world.audience()
    world.run(mutations.add_remove(["a", "b"], None))
    world.enqueue(mutations.replace(["x", "y", "z", ""]), at=NOW + timedelta(seconds=1))
    job = world.store.claim_job("w1", NOW, LEASE)
    assert job is not None
    world.store.fail_job(job, "w1", NOW + timedelta(seconds=2))
    audience = world.current()
    assert audience.status is AudienceStatus.FAILED
    assert audience.last_job_result == JobResult(0, 1, 3)
    assert audience.updated_at == NOW + timedelta(seconds=2)
    assert (world.members(), audience.user_count) == (["a", "b"], 2)
    assert world.store.claim_job("w1", NOW + timedelta(days=1), LEASE) is None
    assert world.run(mutations.add_remove(["c"], None)) == JobResult(1, 0, 0)
    assert world.members() == ["a", "b", "c"]
    assert world.current().status is AudienceStatus.READY


@pytest.mark.parametrize("superseding", [mutations.clear(), mutations.replace(["new"])])
def test_garbage_is_collected_in_batches(world: World, superseding: Mutation) -> None:
    """Superseded rows go batch by batch, across generations; current members stay."""
    world.audience()
    world.run(mutations.add_remove(["a", "b", "c"], None))
    world.run(mutations.clear())
    world.run(mutations.add_remove(["d", "e"], None))
    world.run(superseding)
    current = world.members()
    assert [world.store.collect_garbage(2) for _ in range(4)] == [2, 2, 1, 0]
    assert world.members() == current
    world.run(mutations.add_remove(["f"], None))
    assert world.members() == sorted([*current, "f"])


def test_garbage_collection_spans_generations_in_one_call(world: World) -> None:
    """One call may finish a generation and continue with the next, up to the batch size."""
    world.audience()
    world.run(mutations.add_remove(["a", "b"], None))
    world.run(mutations.clear())
    world.run(mutations.add_remove(["c", "d"], None))
    world.run(mutations.clear())
    assert world.store.collect_garbage(100) == 4
    assert world.store.collect_garbage(100) == 0
