"""Accounts, apps and API keys in SQL."""

from __future__ import annotations

from datetime import datetime

from custom_audiences.domain.accounts import Account, ApiKey, App, KeyAccess
from custom_audiences.store.sql import rows
from custom_audiences.store.sql.database import Database
from custom_audiences.store.sql.rows import ACCOUNT_COLUMNS, API_KEY_COLUMNS, APP_COLUMNS


class AccountQueries:
    _db: Database

    def has_accounts(self) -> bool:
        with self._db.read() as tx:
            return tx.one("SELECT 1 FROM accounts LIMIT 1") is not None

    def add_account(self, account: Account) -> None:
        with self._db.write() as tx:
            tx.run(
                f"INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?)",
                (
                    account.id,
                    account.name,
                    rows.encode_features(account.features),
                    rows.millis(account.created_at),
                ),
            )

    def get_account(self, account_id: str) -> Account | None:
        with self._db.read() as tx:
            row = tx.one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else rows.account(row)

    def set_account_features(self, account_id: str, features: frozenset[str]) -> None:
        with self._db.write() as tx:
            tx.run(
                "UPDATE accounts SET features = ? WHERE id = ?",
                (rows.encode_features(features), account_id),
            )

    def add_app(self, app: App) -> None:
        with self._db.write() as tx:
            tx.run(
                f"INSERT INTO apps ({APP_COLUMNS}) VALUES (?, ?, ?, ?)",
                (app.id, app.account_id, app.name, rows.millis(app.created_at)),
            )

    def get_app(self, app_id: str) -> App | None:
        with self._db.read() as tx:
            row = tx.one(f"SELECT {APP_COLUMNS} FROM apps WHERE id = ?", (app_id,))
        return None if row is None else rows.app(row)

    def add_api_key(self, key: ApiKey) -> None:
        with self._db.write() as tx:
            tx.run(
                f"INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.app_id,
                    key.name,
                    key.token_hash,
                    rows.millis(key.created_at),
                    rows.millis(key.revoked_at),
                ),
            )

    def list_api_keys(self, app_id: str) -> list[ApiKey]:
        with self._db.read() as tx:
            found = tx.all(
                f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE app_id = ? ORDER BY created_at, id",
                (app_id,),
            )
        return [rows.api_key(row) for row in found]

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        with self._db.write() as tx:
            # COALESCE keeps the first revocation time: revoking twice is harmless.
            row = tx.one(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"
                f" RETURNING {API_KEY_COLUMNS}",
                (rows.millis(at), key_id),
            )
        return None if row is None else rows.api_key(row)

    def find_key_access(self, token_hash: str) -> KeyAccess | None:
        with self._db.read() as tx:
            row = tx.one(
                "SELECT k.id, k.app_id, k.revoked_at, a.features, k.token_hash FROM api_keys k"
                " JOIN apps p ON p.id = k.app_id JOIN accounts a ON a.id = p.account_id"
                " WHERE k.token_hash = ?",
                (token_hash,),
            )
        if row is None:
            return None
        return KeyAccess(row[0], row[1], row[2] is not None, rows.decode_features(row[3]), row[4])
