"""The worker's side in SQL: claim and lease jobs, apply them set-based, collect garbage."""

from __future__ import annotations

from datetime import datetime, timedelta

from custom_audiences.domain.audiences import AudienceStatus, JobResult
from custom_audiences.domain.mutations import MutationKind
from custom_audiences.store.base import Job, LeaseLost
from custom_audiences.store.sql import rows
from custom_audiences.store.sql.database import Database, Row, Tx
from custom_audiences.store.sql.rows import JOB_COLUMNS

PENDING = "state IN ('queued', 'running')"  # spelled as in the partial indexes, which need it


class JobQueries:
    _db: Database

    def claim_job(self, worker_id: str, now: datetime, lease: timedelta) -> Job | None:
        with self._db.write() as tx:
            row = tx.one(
                "UPDATE jobs SET state = 'running', worker_id = ?, lease_until = ?,"
                " attempts = attempts + 1"
                f" WHERE id = (SELECT id FROM jobs WHERE {PENDING}"
                " AND (state = 'queued' OR lease_until < ?)"
                f" ORDER BY id LIMIT 1{self._db.skip_locked})"
                f" RETURNING {JOB_COLUMNS}",
                (worker_id, rows.millis(now + lease), rows.millis(now)),
            )
        return None if row is None else rows.job(row)

    def renew_lease(self, job_id: int, worker_id: str, until: datetime) -> bool:
        with self._db.write() as tx:
            changed = tx.run(
                "UPDATE jobs SET lease_until = ?"
                " WHERE id = ? AND state = 'running' AND worker_id = ?",
                (rows.millis(until), job_id, worker_id),
            )
        return changed == 1

    def apply_job(self, job: Job, worker_id: str, now: datetime) -> JobResult:
        with self._db.write() as tx:
            self._check_lease(tx, job.id, worker_id)
            processed = job.processed_count
            audience = tx.one(
                f"SELECT generation, user_count FROM audiences WHERE pk = ?{self._db.row_lock}",
                (job.audience_pk,),
            )
            assert audience is not None
            generation, user_count = audience
            if job.kind is MutationKind.ADD_REMOVE:
                removed = tx.remove_members(job.id, "remove_ids", job.audience_pk, generation)
                added = tx.add_members(job.id, "add_ids", job.audience_pk, generation)
                user_count += added - removed
            else:
                # Fill a fresh generation and switch to it: the cost does not depend on the
                # old membership, whose rows collect_garbage deletes later.
                tx.run(
                    "INSERT INTO stale_generations (audience_pk, generation, created_at)"
                    " VALUES (?, ?, ?)",
                    (job.audience_pk, generation, rows.millis(now)),
                )
                generation += 1
                if job.kind is MutationKind.REPLACE:
                    user_count = processed = tx.add_members(
                        job.id, "add_ids", job.audience_pk, generation
                    )
                else:
                    processed, user_count = user_count, 0
            result = JobResult(processed, job.skipped_count, 0)
            tx.run(
                "UPDATE audiences SET status = ?, generation = ?, user_count = ?,"
                " last_synced_at = ?, last_processed_count = ?, last_skipped_count = ?,"
                " last_error_count = ?, updated_at = ? WHERE pk = ?",
                (
                    AudienceStatus.READY.value,
                    generation,
                    user_count,
                    rows.millis(now),
                    *_counts(result),
                    rows.millis(now),
                    job.audience_pk,
                ),
            )
            self._finish(tx, job.id, "done", now)
        return result

    def fail_job(self, job: Job, worker_id: str, now: datetime) -> None:
        with self._db.write() as tx:
            self._check_lease(tx, job.id, worker_id)
            tx.run(
                "UPDATE audiences SET status = ?, last_processed_count = ?,"
                " last_skipped_count = ?, last_error_count = ?, updated_at = ? WHERE pk = ?",
                (
                    AudienceStatus.FAILED.value,
                    *_counts(JobResult(0, job.skipped_count, job.processed_count)),
                    rows.millis(now),
                    job.audience_pk,
                ),
            )
            self._finish(tx, job.id, "failed", now)

    def collect_garbage(self, batch_size: int) -> int:
        deleted = 0
        # One short transaction: the write lock is held for at most batch_size deletions.
        with self._db.write() as tx:
            while deleted < batch_size:
                stale = tx.one(
                    "SELECT audience_pk, generation FROM stale_generations"
                    f" ORDER BY created_at, audience_pk, generation LIMIT 1{self._db.skip_locked}"
                )
                if stale is None:
                    break
                wanted = batch_size - deleted
                gone = _delete_first_members(tx, stale, wanted)
                deleted += gone
                if gone == wanted and _has_members(tx, stale):
                    break
                tx.run(
                    "DELETE FROM stale_generations WHERE audience_pk = ? AND generation = ?",
                    stale,
                )
        return deleted

    def _check_lease(self, tx: Tx, job_id: int, worker_id: str) -> None:
        """Raise ``LeaseLost`` unless this worker still holds the job (locked until commit)."""
        row = tx.one(
            f"SELECT state, worker_id FROM jobs WHERE id = ?{self._db.row_lock}", (job_id,)
        )
        if row != ("running", worker_id):
            raise LeaseLost

    @staticmethod
    def _finish(tx: Tx, job_id: int, state: str, now: datetime) -> None:
        # The identifiers are not needed any more: free their space.
        tx.run(
            "UPDATE jobs SET state = ?, add_ids = NULL, remove_ids = NULL, lease_until = NULL,"
            " finished_at = ? WHERE id = ?",
            (state, rows.millis(now), job_id),
        )


def _counts(result: JobResult) -> tuple[int, int, int]:
    return result.processed_count, result.skipped_count, result.error_count


def _delete_first_members(tx: Tx, stale: Row, count: int) -> int:
    """Delete the generation's first ``count`` members in key order: one range deletion
    (3x faster than deleting a list of keys); fewer left means all of them."""
    generation = "FROM members WHERE audience_pk = ? AND generation = ?"
    last = tx.one(
        f"SELECT user_id {generation} ORDER BY user_id LIMIT 1 OFFSET ?", (*stale, count - 1)
    )
    if last is None:
        return tx.run(f"DELETE {generation}", stale)
    return tx.run(f"DELETE {generation} AND user_id <= ?", (*stale, last[0]))


def _has_members(tx: Tx, stale: Row) -> bool:
    return (
        tx.one(
            "SELECT 1 FROM members WHERE audience_pk = ? AND generation = ? LIMIT 1",
            (stale[0], stale[1]),
        )
        is not None
    )
