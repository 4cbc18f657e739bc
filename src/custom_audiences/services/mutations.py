"""Accepting membership mutations: checks in a fixed order, then one durable enqueue.

Order of the endpoint's own checks: the audience exists (404), the body decodes (400) and
holds a valid mutation (422), no other mutation is pending (409), and for a replace, the
replace interval has passed (429). The enqueue records the job and flips the audience to
``processing`` in one transaction, so the 202 is only sent once the job is durable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from custom_audiences.clock import utc_now
from custom_audiences.domain.audiences import (
    Audience,
    AudienceStatus,
    require_possible_vendor_id,
)
from custom_audiences.domain.mutations import Mutation, clear
from custom_audiences.errors import AudienceNotFound, MutationInProgress
from custom_audiences.store.base import Store


def _nothing() -> None:
    """The default hook: no in-process worker to wake."""


class MutationService:
    def __init__(
        self,
        store: Store,
        replace_interval: timedelta,
        *,
        on_accepted: Callable[[], None] = _nothing,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._replace_interval = replace_interval
        self._on_accepted = on_accepted
        self._clock = clock

    def submit(self, app_id: str, vendor_id: str, build: Callable[[], Mutation]) -> Audience:
        """Check the audience, build the mutation (decoding happens here), enqueue it.

        ``build`` runs only once the audience is known to exist, so a missing audience
        answers 404 whatever the body holds.
        """
        require_possible_vendor_id(vendor_id)
        current = self._store.get_audience(app_id, vendor_id)
        if current is None:
            raise AudienceNotFound
        mutation = build()
        if current.status is AudienceStatus.PROCESSING:
            # Pending when the request came: refused without queueing for the write lock
            # (under load most mutations of a busy audience end here). The enqueue checks
            # again, under the lock, for one that starts in between.
            raise MutationInProgress
        audience = self._store.enqueue_mutation(
            app_id, vendor_id, mutation, self._clock(), self._replace_interval
        )
        self._on_accepted()
        return audience

    def clear(self, app_id: str, vendor_id: str) -> Audience:
        return self.submit(app_id, vendor_id, clear)
