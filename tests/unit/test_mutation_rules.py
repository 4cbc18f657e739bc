"""How a request becomes a Mutation: skipping, de-duplication, overlap, emptiness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_audiences.domain import mutations
from custom_audiences.domain.mutations import MutationKind
from custom_audiences.errors import EmptyPayload

ids = st.lists(st.text(alphabet="abc\x00", max_size=3), max_size=12)


@pytest.mark.parametrize(("add", "remove"), [(None, None), ([], None), (None, []), ([], [])])
def test_add_remove_without_identifiers_is_empty(
    add: list[str] | None, remove: list[str] | None
) -> None:
    """Absent or empty on both sides: EmptyPayload."""
    with pytest.raises(EmptyPayload):
        mutations.add_remove(add, remove)


def test_replace_without_identifiers_is_empty() -> None:
    """An absent or empty users list: EmptyPayload."""
    for users in (None, []):
        with pytest.raises(EmptyPayload):
            mutations.replace(users)


def test_add_remove_overlap_is_removed_and_duplicates_collapse() -> None:
    """An id on both sides is only removed; each id appears once."""
    mutation = mutations.add_remove(["a", "b", "a", "c"], ["c", "d", "d"])
    assert mutation.kind is MutationKind.ADD_REMOVE
    assert sorted(mutation.add) == ["a", "b"]
    assert sorted(mutation.remove) == ["c", "d"]
    assert mutation.processed_count == 4


def test_invalid_identifiers_are_counted_as_skipped_on_both_sides() -> None:
    """Skipped ids never reach add/remove."""
    mutation = mutations.add_remove(["ok", "", "\x00"], ["x" * 256, "gone"])
    assert (mutation.add, mutation.remove, mutation.skipped_count) == (["ok"], ["gone"], 3)


def test_replace_de_duplicates_and_skips() -> None:
    """The replacement is the distinct valid ids."""
    mutation = mutations.replace(["b", "a", "b", ""])
    assert mutation.kind is MutationKind.REPLACE
    assert sorted(mutation.add) == ["a", "b"]
    assert (mutation.remove, mutation.skipped_count, mutation.processed_count) == ([], 1, 2)


def test_clear_carries_no_identifiers() -> None:
    """A clear is a kind, not a list."""
    mutation = mutations.clear()
    assert (mutation.kind, mutation.add, mutation.remove) == (MutationKind.CLEAR, [], [])


@given(ids, ids)
def test_add_remove_sets_are_disjoint_distinct_and_account_for_every_id(
    add: list[str], remove: list[str]
) -> None:
    """Whatever is sent: disjoint, duplicate-free sets; valid ids applied, the rest skipped."""
    if not add and not remove:
        return
    mutation = mutations.add_remove(add, remove)
    assert len(set(mutation.add)) == len(mutation.add)
    assert len(set(mutation.remove)) == len(mutation.remove)
    assert not set(mutation.add) & set(mutation.remove)
    valid = {i for i in add + remove if i and "\x00" not in i}
    assert set(mutation.add) | set(mutation.remove) == valid
    assert set(mutation.remove) == {i for i in remove if i in valid}
    invalid = [i for i in add + remove if i not in valid]
    assert mutation.skipped_count == len(invalid)
