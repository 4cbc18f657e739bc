"""``custom-audiences apps``: create the apps whose audiences the API serves."""

from __future__ import annotations

from typing import Annotated

import typer

from custom_audiences.cli.output import JsonFlag, admin_store, print_human, print_json


def build() -> typer.Typer:
    group = typer.Typer(
        help="Apps (each has its own audiences and API keys).", no_args_is_help=True
    )

    @group.command("create")
    def create(
        account: Annotated[str, typer.Option("--account", help="Owning account id (acct_...).")],
        name: Annotated[str, typer.Option("--name", help="Display name of the app.")],
        as_json: JsonFlag = False,
    ) -> None:
        """Create an app under an account; prints its id (app_...)."""
        from custom_audiences.clock import format_timestamp
        from custom_audiences.services.admin import create_app

        with admin_store() as store:
            app = create_app(store, account, name)
        if as_json:
            print_json(
                {
                    "id": app.id,
                    "account_id": app.account_id,
                    "name": app.name,
                    "created_at": format_timestamp(app.created_at),
                }
            )
        else:
            print_human(f"Created app {app.id} ({app.name}) for account {app.account_id}")

    return group
