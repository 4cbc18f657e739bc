"""Listing an audience's members: keyset pages in byte order, empty while a job runs."""

from __future__ import annotations

from dataclasses import dataclass

from custom_audiences.domain.audiences import AudienceStatus, require_possible_vendor_id
from custom_audiences.store.base import Store

DEFAULT_LIMIT = 1000
MIN_LIMIT = 1
MAX_LIMIT = 10_000
PROCESSING_WARNING = "Custom audience is currently being updated"


@dataclass(frozen=True, slots=True)
class MemberListing:
    users: list[str]
    next_cursor: str | None
    has_more: bool
    warning: str | None


class MemberService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def list_page(
        self, app_id: str, vendor_id: str, cursor: str | None, limit: int
    ) -> MemberListing:
        """Up to ``limit`` members strictly after ``cursor``; ``next_cursor`` is the last one.

        While a mutation is pending the membership is about to change, so no page is
        served: the list is empty, with a warning, and there is no next page.
        """
        require_possible_vendor_id(vendor_id)
        page = self._store.page_members(app_id, vendor_id, cursor, limit)
        if page.audience.status is AudienceStatus.PROCESSING:
            return MemberListing([], None, False, PROCESSING_WARNING)
        next_cursor = page.users[-1] if page.has_more else None
        return MemberListing(page.users, next_cursor, page.has_more, None)
