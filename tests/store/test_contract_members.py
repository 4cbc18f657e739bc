"""Store contract: List users pages members in UTF-8 byte order with a keyset cursor."""

from __future__ import annotations

import pytest

from custom_audiences.domain import mutations
from custom_audiences.domain.audiences import AudienceStatus
from custom_audiences.errors import AudienceNotFound

from .conftest import World

IDENTIFIERS = ["é", "Z", "a", "\u00ff", "😀", "A", "z", "0", "\uffff", "éa", "中文"]


def test_members_come_in_utf8_byte_order(world: World) -> None:
    """Order is byte-wise on the UTF-8 encoding, not code-point or locale order."""
    world.audience()
    world.run(mutations.add_remove(IDENTIFIERS, None))
    expected = sorted(IDENTIFIERS, key=lambda user_id: user_id.encode())
    page = world.store.page_members("app_1", "aud", None, 100)
    assert page.users == expected
    assert not page.has_more
    assert world.members() == expected  # the same order through cursor pages


def test_cursor_pages_strictly_after_the_last_id(world: World) -> None:
    """A page starts strictly after the cursor, which need not be a member; has_more is exact."""
    world.audience()
    world.run(mutations.add_remove(["b", "d", "f", "h"], None))
    first = world.store.page_members("app_1", "aud", None, 2)
    assert (first.users, first.has_more) == (["b", "d"], True)
    second = world.store.page_members("app_1", "aud", "d", 2)
    assert (second.users, second.has_more) == (["f", "h"], False)
    between = world.store.page_members("app_1", "aud", "e", 10)
    assert between.users == ["f", "h"]
    assert world.store.page_members("app_1", "aud", "h", 10).users == []


def test_page_reports_the_audience_read_with_it(world: World) -> None:
    """While a job is pending the page shows the previous members and a processing audience."""
    world.audience()
    world.run(mutations.add_remove(["a"], None))
    world.enqueue(mutations.replace(["b"]))
    page = world.store.page_members("app_1", "aud", None, 10)
    assert page.audience.status is AudienceStatus.PROCESSING
    assert (page.users, page.audience.user_count) == (["a"], 1)


def test_unknown_audience_has_no_members(world: World) -> None:
    """Paging an unknown audience is not found."""
    with pytest.raises(AudienceNotFound):
        world.store.page_members("app_1", "missing", None, 10)
