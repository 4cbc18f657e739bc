"""The raw-engine baselines on SQLite: what stdlib sqlite3 alone does with the same ids.

Same table shape as the service's members table, WAL and synchronous=NORMAL, one
transaction per operation. The JSON text of the ids is prepared outside the timing (the
service reads it ready-made from its job row).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE members (
    audience_pk INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (audience_pk, generation, user_id)
) WITHOUT ROWID
"""
INSERT = (
    "INSERT OR IGNORE INTO members (audience_pk, generation, user_id) "
    "SELECT ?, 1, value FROM json_each(?) ORDER BY value"
)
PAGE = (
    "SELECT user_id FROM members WHERE audience_pk = ? AND generation = 1 AND user_id > ? "
    "ORDER BY user_id LIMIT ?"
)


class RawSqlite:
    insert_name = "raw sqlite3 json_each INSERT"
    export_name = "raw sqlite3 keyset SELECT"

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(SCHEMA)

    def insert(self, audience_pk: int, ids: list[str]) -> float:
        """Insert the ids in one transaction; return its seconds."""
        payload = json.dumps(ids)
        started = time.perf_counter()
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute(INSERT, (audience_pk, payload))
        self.connection.execute("COMMIT")
        return time.perf_counter() - started

    def export(self, audience_pk: int, limit: int) -> tuple[int, float]:
        """Keyset-page through the audience; return (count, seconds)."""
        count, after, started = 0, "", time.perf_counter()
        while True:
            rows = self.connection.execute(PAGE, (audience_pk, after, limit)).fetchall()
            count += len(rows)
            if len(rows) < limit:
                return count, time.perf_counter() - started
            after = rows[-1][0]

    def close(self) -> None:
        self.connection.close()
