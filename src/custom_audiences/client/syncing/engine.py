"""``sync_audience``: make an audience's membership equal to the identifiers of a source.

Memory: the wanted identifiers are held once, in a set. A diff streams the current
members page by page; a member that is wanted leaves the set (which so ends holding
exactly the additions), one that is not is kept for removal. Nothing else holds them.

Stopping: ``should_stop`` is consulted between pages and after each accepted request;
when it says so the run ends with ``SyncInterrupted`` after the request in flight. Every
step is idempotent, so running the sync again converges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from custom_audiences.client.client import Client
from custom_audiences.client.encoding import encoded_size, split_batches
from custom_audiences.client.errors import AudienceNotFound, PayloadTooLarge, RateLimited
from custom_audiences.client.flows import MAX_USERS_PAGE, BatchSent
from custom_audiences.client.models import Audience
from custom_audiences.client.syncing.identifiers import Rejected, checked, is_plainly_valid
from custom_audiences.client.syncing.planning import SyncMode, choose_mode
from custom_audiences.client.syncing.report import (
    COMPARE,
    READ,
    SEND,
    WAIT,
    Progress,
    SyncReport,
)

_READ_EVERY = 1 << 16  # entries between two progress events (and stop checks) while reading


class SyncRefused(Exception):
    """The sync will not run as asked (an empty source would empty the audience)."""


class SyncInterrupted(Exception):
    """The sync stopped early on request; ``report`` tells what was done."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__("sync interrupted; run it again to finish")
        self.report = report


@dataclass(frozen=True, slots=True)
class SyncOptions:
    mode: SyncMode = SyncMode.AUTO
    dry_run: bool = False
    #: Create the audience with this name when it does not exist (else AudienceNotFound).
    create_name: str | None = None
    identifier_type: str = "user_id"
    #: Let a source without any valid identifier empty the audience.
    allow_empty: bool = False
    page_size: int = MAX_USERS_PAGE


def sync_audience(
    client: Client,
    vendor_id: str,
    items: Iterable[str | Rejected],
    options: SyncOptions | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SyncReport:
    """Sync ``vendor_id`` to ``items``: identifiers, and ``Rejected`` entries to report.

    Identifiers the API would skip are reported (their "line" being their position in
    ``items``) and never sent.
    """
    run = _SyncRun(client, vendor_id, options or SyncOptions(), on_progress, should_stop)
    return run.execute(items)


class _SyncRun:
    def __init__(
        self,
        client: Client,
        vendor_id: str,
        options: SyncOptions,
        on_progress: Callable[[Progress], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.client = client
        self.vendor_id = vendor_id
        self.options = options
        self.report = SyncReport(vendor_id, options.mode.value, options.dry_run)
        self._on_progress = on_progress
        self._should_stop = should_stop
        self._started = time.perf_counter()
        self._requests_before = client.stats.requests
        self._bytes_before = client.stats.bytes_sent
        self._sent = 0
        self._total = 0

    def execute(self, items: Iterable[str | Rejected]) -> SyncReport:
        wanted = self._collect(items)
        if not wanted and not self.options.allow_empty:
            raise SyncRefused(
                "the source holds no valid identifier; refusing to empty the audience "
                "(allow it explicitly to do so)"
            )
        audience = self._audience()
        if not wanted:
            self._clear(audience)
        elif not self._replaced(audience, wanted):
            self._diff(audience, wanted)
        return self._finish()

    # -- steps -------------------------------------------------------------------------
    def _collect(self, items: Iterable[str | Rejected]) -> set[str]:
        wanted: set[str] = set()
        keep = wanted.add
        rejections = self.report.rejections
        entries = 0
        for item in items:
            entries += 1
            # Sources have checked their identifiers already, but any iterable may come in:
            # the cheap test passes the valid ones, ``checked`` sorts out the rest.
            if isinstance(item, str) and not is_plainly_valid(item):
                item = checked(item, entries)
            if isinstance(item, str):
                keep(item)
            else:
                rejections.add(item)
            if not entries % _READ_EVERY:
                self._progress(Progress(READ, entries))
                self._check_stop()
        self.report.entries = entries
        self.report.valid = len(wanted)
        self.report.duplicates = entries - rejections.total - len(wanted)
        self._progress(Progress(READ, entries, entries, finished=True))
        return wanted

    def _audience(self) -> Audience | None:
        """The audience, ready; None in a dry run that would create it."""
        try:
            audience = self.client.get_audience(self.vendor_id)
        except AudienceNotFound:
            if self.options.create_name is None:
                raise
            self.report.created = True
            if self.options.dry_run:
                return None
            return self.client.create_audience(
                self.vendor_id, self.options.create_name, self.options.identifier_type
            )
        if audience.is_processing:
            self._progress(Progress(WAIT, 0))
            audience = self.client.wait_until_ready(self.vendor_id, raise_on_failed=False)
        if audience.is_failed:
            self.report.notes.append("the audience's previous mutation had failed")
        return audience

    def _clear(self, audience: Audience | None) -> None:
        count = audience.user_count if audience is not None else 0
        self.report.added, self.report.removed, self.report.unchanged = 0, count, 0
        if count == 0:
            self.report.mode = "none"
            self.report.user_count = None if self.options.dry_run else 0
            return
        self.report.mode = "clear"
        self.report.planned_requests = 1
        if not self.options.dry_run:
            self.report.user_count = self.client.clear_users(self.vendor_id).user_count

    def _replaced(self, audience: Audience | None, wanted: set[str]) -> bool:
        """Run a replace when it is the mode to use; False when a diff must run instead."""
        if self.options.mode is SyncMode.DIFF:
            return False
        limit = self.client.max_body_bytes
        # At least 3 bytes per identifier (a character, two quotes): skip sizing hopeless lists.
        wanted_bytes = _list_bytes(wanted) if 3 * len(wanted) <= limit else limit + 1
        mode = choose_mode(
            self.options.mode,
            wanted_count=len(wanted),
            wanted_bytes=wanted_bytes,
            remote_count=audience.user_count if audience is not None else 0,
            max_body_bytes=limit,
            page_size=self.options.page_size,
        )
        if mode is not SyncMode.REPLACE:
            if self.options.mode is SyncMode.REPLACE:
                self.report.notes.append("the list does not fit in one request: used diff")
            return False
        self.report.mode = "replace"
        self.report.planned_requests = 1
        if self.options.dry_run:
            return True
        self._check_stop()
        try:
            final = self.client.replace_users(self.vendor_id, list(wanted))
        except RateLimited as exc:
            after = f" (retry after {exc.retry_after:.0f} s)" if exc.retry_after else ""
            self.report.notes.append(f"replace refused by the rate limit{after}: used diff")
            return False
        except PayloadTooLarge:
            self.report.notes.append("replace refused as too large by the server: used diff")
            return False
        self.report.user_count = final.user_count
        return True

    def _diff(self, audience: Audience | None, wanted: set[str]) -> None:
        self.report.mode = "diff"
        self.report.planned_requests = 0
        removals: list[str] = []
        unchanged = 0
        if audience is not None and not (self.report.created and audience.user_count == 0):
            total = audience.user_count
            for page in self.client.iter_user_pages(
                self.vendor_id, page_size=self.options.page_size
            ):
                for user in page.users:
                    if user in wanted:
                        wanted.remove(user)
                        unchanged += 1
                    else:
                        removals.append(user)
                self._progress(Progress(COMPARE, unchanged + len(removals), total))
                self._check_stop()
            self._progress(Progress(COMPARE, unchanged + len(removals), total, finished=True))
        report = self.report
        report.added, report.removed, report.unchanged = len(wanted), len(removals), unchanged
        if not wanted and not removals:
            report.user_count = None if self.options.dry_run else unchanged
            report.notes.append("already in sync")
            return
        if self.options.dry_run:
            limit = self.client.max_body_bytes
            report.planned_requests = sum(1 for _ in split_batches(wanted, removals, limit))
            return
        self._total = len(wanted) + len(removals)
        self._progress(Progress(SEND, 0, self._total))
        final = self.client.add_and_remove_users(
            self.vendor_id, wanted, removals, on_batch=self._batch_sent
        )
        self._progress(Progress(SEND, self._total, self._total, finished=True))
        report.user_count = final.user_count

    # -- plumbing ----------------------------------------------------------------------
    def _batch_sent(self, batch: BatchSent) -> None:
        self.report.planned_requests += 1
        self._sent += batch.added + batch.removed
        self._progress(Progress(SEND, self._sent, self._total))
        self._check_stop()

    def _progress(self, event: Progress) -> None:
        if self._on_progress is not None:
            self._on_progress(event)

    def _check_stop(self) -> None:
        if self._should_stop is not None and self._should_stop():
            self.report.notes.append("interrupted")
            raise SyncInterrupted(self._finish())

    def _finish(self) -> SyncReport:
        self.report.seconds = time.perf_counter() - self._started
        self.report.requests = self.client.stats.requests - self._requests_before
        self.report.bytes_sent = self.client.stats.bytes_sent - self._bytes_before
        return self.report


def _list_bytes(identifiers: set[str]) -> int:
    """Bytes of the identifiers as a JSON array's items (commas included, brackets not)."""
    return sum(encoded_size(i) for i in identifiers) + max(0, len(identifiers) - 1)
