"""The raw-engine baselines on PostgreSQL: what psycopg alone does with the same ids.

Same table shape as the service's members table (``user_id text COLLATE "C"``), in a
schema of its own. An add is the fastest way measured for a merge: COPY into a temporary
staging table, then ``INSERT ... SELECT ... ORDER BY ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

PAGE = (
    "SELECT user_id FROM members WHERE audience_pk = %s AND generation = 1 AND user_id > %s "
    "ORDER BY user_id LIMIT %s"
)


class RawPostgres:
    insert_name = "raw psycopg COPY + INSERT ... SELECT"
    export_name = "raw psycopg keyset SELECT"

    def __init__(self, database_url: str, schema: str) -> None:
        self.schema = schema
        self.connection = psycopg.connect(database_url, autocommit=True)
        self.connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        self.connection.execute(
            "CREATE TABLE members (audience_pk bigint NOT NULL, generation bigint NOT NULL,"
            ' user_id text COLLATE "C" NOT NULL, PRIMARY KEY (audience_pk, generation, user_id))'
        )

    def insert(self, audience_pk: int, ids: list[str]) -> float:
        """Merge the ids in one transaction; return its seconds."""
        # The bench's ids are hex digits: nothing for COPY's text format to escape.
        payload = "\n".join(ids) + "\n"
        started = time.perf_counter()
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute('CREATE TEMP TABLE staging (user_id text COLLATE "C") ON COMMIT DROP')
            with cursor.copy("COPY staging (user_id) FROM STDIN") as copy:
                copy.write(payload)
            cursor.execute(
                "INSERT INTO members (audience_pk, generation, user_id) SELECT %s, 1, user_id"
                " FROM staging ORDER BY user_id ON CONFLICT DO NOTHING",
                (audience_pk,),
            )
        return time.perf_counter() - started

    def export(self, audience_pk: int, limit: int) -> tuple[int, float]:
        """Keyset-page through the audience (prepared statement); return (count, seconds)."""
        count, after, started = 0, "", time.perf_counter()
        with self.connection.cursor() as cursor:
            while True:
                rows = cursor.execute(PAGE, (audience_pk, after, limit), prepare=True).fetchall()
                count += len(rows)
                if len(rows) < limit:
                    return count, time.perf_counter() - started
                after = rows[-1][0]

    def close(self) -> None:
        self.connection.execute(
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.schema))
        )
        self.connection.close()
