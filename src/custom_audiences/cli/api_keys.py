"""``custom-audiences api-keys``: issue, list and revoke the bearer tokens of an app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from custom_audiences.cli.output import JsonFlag, admin_store, print_human, print_json

if TYPE_CHECKING:
    from custom_audiences.domain.accounts import ApiKey

AppOption = Annotated[str, typer.Option("--app", help="App id (app_...).")]


def key_json(key: ApiKey) -> dict[str, object]:
    """A key as shown to operators: never its token or token hash."""
    from custom_audiences.clock import format_timestamp

    return {
        "id": key.id,
        "app_id": key.app_id,
        "name": key.name,
        "created_at": format_timestamp(key.created_at),
        "revoked_at": format_timestamp(key.revoked_at),
    }


def build() -> typer.Typer:
    group = typer.Typer(help="API keys (bearer tokens) of an app.", no_args_is_help=True)

    @group.command("create")
    def create(
        app: AppOption,
        name: Annotated[str, typer.Option("--name", help="What the key is for.")],
        as_json: JsonFlag = False,
    ) -> None:
        """Issue a key; its token is printed this once only."""
        from custom_audiences.services.admin import create_api_key

        with admin_store() as store:
            issued = create_api_key(store, app, name)
        if as_json:
            print_json({**key_json(issued.key), "token": issued.token})
        else:
            print_human(
                f"Created API key {issued.key.id} ({issued.key.name}) for app {app}",
                "Token (shown this once only; store it now):",
                f"  {issued.token}",
            )

    @group.command("list")
    def list_keys(app: AppOption, as_json: JsonFlag = False) -> None:
        """List an app's keys, revoked ones included."""
        from rich.table import Table

        from custom_audiences.services.admin import list_api_keys

        with admin_store() as store:
            keys = list_api_keys(store, app)
        rows = [key_json(key) for key in keys]
        if as_json:
            print_json({"app_id": app, "api_keys": rows})
            return
        if not rows:
            print_human(f"App {app} has no API keys")
            return
        table = Table("id", "name", "created_at", "revoked_at")
        for row in rows:
            table.add_row(*(str(row[c] or "-") for c in ("id", "name", "created_at", "revoked_at")))
        print_human(table)

    @group.command("revoke")
    def revoke(
        key_id: Annotated[str, typer.Argument(help="Key id (key_...).")],
        as_json: JsonFlag = False,
    ) -> None:
        """Revoke a key at once (idempotent); requests with its token then get 401."""
        from custom_audiences.services.admin import revoke_api_key

        with admin_store() as store:
            key = revoke_api_key(store, key_id)
        if as_json:
            print_json(key_json(key))
        else:
            print_human(f"Revoked API key {key.id} ({key.name}) of app {key.app_id}")

    return group
