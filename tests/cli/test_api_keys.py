"""api-keys create, list and revoke: the token is shown once and works, revocation sticks."""

from __future__ import annotations

from custom_audiences.domain.accounts import hash_token
from custom_audiences.store.base import Store

from .support import Cli, assert_one_line_error


def make_app(cli: Cli) -> str:
    account_id = cli.json("accounts", "create", "--name", "A", "--feature", "custom-audiences")[
        "id"
    ]
    return str(cli.json("apps", "create", "--account", account_id, "--name", "iOS")["id"])


def test_create_prints_a_token_that_authenticates_for_the_app(cli: Cli, store: Store) -> None:
    """The printed token's hash finds the new key, for this app, not revoked."""
    app_id = make_app(cli)
    issued = cli.json("api-keys", "create", "--app", app_id, "--name", "ci")
    assert issued["id"].startswith("key_")
    access = store.find_key_access(hash_token(issued["token"]))
    assert access is not None
    assert (access.key_id, access.app_id, access.revoked) == (issued["id"], app_id, False)


def test_human_create_shows_the_token_on_a_line_of_its_own(cli: Cli, store: Store) -> None:
    """The readable output carries the whole token, unwrapped, on its own line."""
    app_id = make_app(cli)
    result = cli("api-keys", "create", "--app", app_id, "--name", "ci")
    assert result.exit_code == 0
    token = result.stdout.splitlines()[-1].strip()
    assert token.startswith("ca_")
    assert store.find_key_access(hash_token(token)) is not None


def test_list_never_shows_tokens(cli: Cli) -> None:
    """Listing shows ids and names, never the token (it was shown once only)."""
    app_id = make_app(cli)
    issued = cli.json("api-keys", "create", "--app", app_id, "--name", "ci")
    listed = cli.json("api-keys", "list", "--app", app_id)
    assert [k["id"] for k in listed["api_keys"]] == [issued["id"]]
    assert "token" not in listed["api_keys"][0]
    human = cli("api-keys", "list", "--app", app_id)
    assert issued["id"] in human.stdout
    assert issued["token"] not in human.stdout + str(listed)


def test_list_of_an_app_without_keys_says_so(cli: Cli) -> None:
    """An app with no keys lists as empty, in both modes."""
    app_id = make_app(cli)
    assert cli.json("api-keys", "list", "--app", app_id) == {"app_id": app_id, "api_keys": []}
    assert cli("api-keys", "list", "--app", app_id).stdout == f"App {app_id} has no API keys\n"


def test_revoke_marks_the_key_revoked_once(cli: Cli, store: Store) -> None:
    """Revoking sets revoked_at; revoking again keeps the first time; the token stops working."""
    app_id = make_app(cli)
    issued = cli.json("api-keys", "create", "--app", app_id, "--name", "ci")
    first = cli.json("api-keys", "revoke", issued["id"])
    assert first["revoked_at"] is not None
    assert cli.json("api-keys", "revoke", issued["id"])["revoked_at"] == first["revoked_at"]
    listed = cli.json("api-keys", "list", "--app", app_id)["api_keys"]
    assert listed[0]["revoked_at"] == first["revoked_at"]
    access = store.find_key_access(hash_token(issued["token"]))
    assert access is not None
    assert access.revoked


def test_revoke_human_output_names_the_key(cli: Cli) -> None:
    """The readable revoke result names the key and its app."""
    app_id = make_app(cli)
    key_id = cli.json("api-keys", "create", "--app", app_id, "--name", "ci")["id"]
    result = cli("api-keys", "revoke", key_id)
    assert result.stdout == f"Revoked API key {key_id} (ci) of app {app_id}\n"


def test_unknown_app_or_key_is_a_one_line_error(cli: Cli) -> None:
    """create/list on a missing app and revoke of a missing key fail on one line."""
    assert_one_line_error(
        cli("api-keys", "create", "--app", "app_missing", "--name", "x"), "app_missing"
    )
    assert_one_line_error(cli("api-keys", "list", "--app", "app_missing"), "app_missing")
    assert_one_line_error(cli("api-keys", "revoke", "key_missing"), "key_missing")
    assert_one_line_error(cli("api-keys", "revoke", "key_missing", "--json"), "key_missing")
