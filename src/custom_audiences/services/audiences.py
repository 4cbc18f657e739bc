"""Use cases on audiences themselves: create, list (paged), get and archive."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from custom_audiences.clock import new_id, utc_now
from custom_audiences.domain.audiences import (
    PAGE_SIZE,
    Audience,
    parse_new_audience,
    require_possible_vendor_id,
)
from custom_audiences.errors import AudienceNotFound
from custom_audiences.store.base import Store

# Offsets stay inside a signed 64-bit integer whatever page number a client sends.
_MAX_OFFSET = 2**62


@dataclass(frozen=True, slots=True)
class AudiencePage:
    audiences: list[Audience]
    page: int
    per_page: int
    total_count: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.per_page)


class AudienceService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def create(self, app_id: str, body: object) -> Audience:
        """Validate a decoded create body and insert a ready, empty audience."""
        new = parse_new_audience(body)
        return self._store.create_audience(app_id, new, new_id("caud"), self._clock())

    def list_page(self, app_id: str, page: int) -> AudiencePage:
        """Page ``page`` (1-based) of the app's active audiences, oldest first."""
        offset = min((page - 1) * PAGE_SIZE, _MAX_OFFSET)
        audiences, total = self._store.list_audiences(app_id, offset, PAGE_SIZE)
        return AudiencePage(audiences, page, PAGE_SIZE, total)

    def get(self, app_id: str, vendor_id: str) -> Audience:
        require_possible_vendor_id(vendor_id)
        audience = self._store.get_audience(app_id, vendor_id)
        if audience is None:
            raise AudienceNotFound
        return audience

    def archive(self, app_id: str, vendor_id: str) -> Audience:
        """Archive the audience; returns it as it was just before."""
        require_possible_vendor_id(vendor_id)
        return self._store.archive_audience(app_id, vendor_id, self._clock())
