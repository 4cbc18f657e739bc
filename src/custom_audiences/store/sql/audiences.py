"""Audiences in SQL: create, list, archive, record a mutation, and page through members."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from custom_audiences.domain.audiences import Audience, AudienceStatus, NewAudience
from custom_audiences.domain.mutations import Mutation, MutationKind, check_replace_allowed
from custom_audiences.errors import (
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    MutationInProgress,
    ValidationFailed,
)
from custom_audiences.store.base import MemberPage
from custom_audiences.store.sql import rows
from custom_audiences.store.sql.database import Database, Tx
from custom_audiences.store.sql.rows import AUDIENCE_COLUMNS

DUPLICATE_VENDOR_ID = "vendor_id is already used by another custom audience"
ACTIVE_AUDIENCE = (
    f"SELECT {AUDIENCE_COLUMNS} FROM audiences"
    " WHERE app_id = ? AND vendor_id = ? AND archived_at IS NULL"
)


class AudienceQueries:
    _db: Database

    def create_audience(
        self, app_id: str, new: NewAudience, audience_id: str, now: datetime
    ) -> Audience:
        # The partial unique index decides, also between two concurrent creates.
        with self._db.write(on_duplicate=ValidationFailed(DUPLICATE_VENDOR_ID)) as tx:
            row = tx.one(
                "INSERT INTO audiences (id, app_id, vendor_id, name, identifier_type, status,"
                " generation, user_count, created_at, updated_at)"
                f" VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?) RETURNING {AUDIENCE_COLUMNS}",
                (
                    audience_id,
                    app_id,
                    new.vendor_id,
                    new.name,
                    new.identifier_type.value,
                    AudienceStatus.READY.value,
                    rows.millis(now),
                    rows.millis(now),
                ),
            )
        assert row is not None
        return rows.audience(row)

    def list_audiences(self, app_id: str, offset: int, limit: int) -> tuple[list[Audience], int]:
        with self._db.read(snapshot=True) as tx:
            page = tx.all(
                f"SELECT {AUDIENCE_COLUMNS} FROM audiences"
                " WHERE app_id = ? AND archived_at IS NULL"
                " ORDER BY created_at, id LIMIT ? OFFSET ?",
                (app_id, limit, offset),
            )
            total = tx.one(
                "SELECT count(*) FROM audiences WHERE app_id = ? AND archived_at IS NULL",
                (app_id,),
            )
        assert total is not None
        return [rows.audience(row) for row in page], total[0]

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        with self._db.read() as tx:
            row = tx.one(ACTIVE_AUDIENCE, (app_id, vendor_id))
        return None if row is None else rows.audience(row)

    def archive_audience(self, app_id: str, vendor_id: str, now: datetime) -> Audience:
        with self._db.write() as tx:
            audience = self._locked_audience(tx, app_id, vendor_id)
            if audience.status is AudienceStatus.PROCESSING:
                raise CannotArchiveWhileProcessing
            tx.run(
                "UPDATE audiences SET archived_at = ? WHERE pk = ?", (rows.millis(now), audience.pk)
            )
        return audience

    def enqueue_mutation(
        self,
        app_id: str,
        vendor_id: str,
        mutation: Mutation,
        now: datetime,
        replace_interval: timedelta,
    ) -> Audience:
        # The audience is locked from the checks to the writes; should two enqueues still
        # race, the one-pending-job index refuses the second.
        with self._db.write(on_duplicate=MutationInProgress()) as tx:
            audience = self._locked_audience(tx, app_id, vendor_id)
            if audience.status is AudienceStatus.PROCESSING:
                raise MutationInProgress
            last_replace_at = audience.last_replace_at
            if mutation.kind is MutationKind.REPLACE:
                check_replace_allowed(last_replace_at, now, replace_interval)
                last_replace_at = now
            tx.run(
                "INSERT INTO jobs (audience_pk, kind, state, add_ids, remove_ids,"
                " processed_count, skipped_count, attempts, created_at)"
                " VALUES (?, ?, 'queued', ?, ?, ?, ?, 0, ?)",
                (
                    audience.pk,
                    mutation.kind.value,
                    _json_array(mutation.add),
                    _json_array(mutation.remove),
                    mutation.processed_count,
                    mutation.skipped_count,
                    rows.millis(now),
                ),
            )
            row = tx.one(
                "UPDATE audiences SET status = ?, updated_at = ?, last_replace_at = ?"
                f" WHERE pk = ? RETURNING {AUDIENCE_COLUMNS}",
                (
                    AudienceStatus.PROCESSING.value,
                    rows.millis(now),
                    rows.millis(last_replace_at),
                    audience.pk,
                ),
            )
        assert row is not None
        return rows.audience(row)

    def page_members(
        self, app_id: str, vendor_id: str, after: str | None, limit: int
    ) -> MemberPage:
        # One snapshot: the audience's generation and the rows read belong together.
        with self._db.read(snapshot=True) as tx:
            row = tx.one(ACTIVE_AUDIENCE, (app_id, vendor_id))
            if row is None:
                raise AudienceNotFound
            audience = rows.audience(row)
            members = "SELECT user_id FROM members WHERE audience_pk = ? AND generation = ?"
            params: tuple[object, ...] = (audience.pk, audience.generation)
            if after is not None:
                members += " AND user_id > ?"
                params += (after,)
            found = tx.all(members + " ORDER BY user_id LIMIT ?", (*params, limit + 1))
        users = [user_id for (user_id,) in found]
        return MemberPage(audience, users[:limit], len(users) > limit)

    def _locked_audience(self, tx: Tx, app_id: str, vendor_id: str) -> Audience:
        row = tx.one(ACTIVE_AUDIENCE + self._db.row_lock, (app_id, vendor_id))
        if row is None:
            raise AudienceNotFound
        return rows.audience(row)


def _json_array(identifiers: list[str]) -> str | None:
    """The identifiers as one JSON text, in request order (sorting happens in the database)."""
    return msgspec.json.encode(identifiers).decode() if identifiers else None
