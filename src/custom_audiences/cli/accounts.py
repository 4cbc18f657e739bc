"""``custom-audiences accounts``: create the accounts that own apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from custom_audiences.cli.output import JsonFlag, admin_store, print_human, print_json

if TYPE_CHECKING:
    from custom_audiences.domain.accounts import Account


def account_json(account: Account) -> dict[str, object]:
    from custom_audiences.clock import format_timestamp

    return {
        "id": account.id,
        "name": account.name,
        "features": sorted(account.features),
        "created_at": format_timestamp(account.created_at),
    }


def features_text(account: Account) -> str:
    return ", ".join(sorted(account.features)) or "none"


def build() -> typer.Typer:
    group = typer.Typer(help="Accounts (each owns apps and feature flags).", no_args_is_help=True)

    @group.command("create")
    def create(
        name: Annotated[str, typer.Option("--name", help="Display name of the account.")],
        feature: Annotated[
            list[str] | None,
            typer.Option("--feature", help="Enable a feature at once (custom-audiences)."),
        ] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Create an account; prints its id (acct_...)."""
        from custom_audiences.services.admin import create_account

        with admin_store() as store:
            account = create_account(store, name, frozenset(feature or ()))
        if as_json:
            print_json(account_json(account))
        else:
            print_human(
                f"Created account {account.id} ({account.name}); features: {features_text(account)}"
            )

    return group
