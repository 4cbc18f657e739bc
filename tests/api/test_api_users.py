"""List users: keyset pages in byte order, limits, and the warning while processing."""

from __future__ import annotations

import pytest

from custom_audiences.worker.runner import Worker

from .conftest import Api, error_of


@pytest.fixture
def audience(api: Api, worker: Worker) -> str:
    """An audience holding u00 ... u24."""
    api.create("aud")
    api.post("/aud/users", json={"add": [f"u{i:02d}" for i in reversed(range(25))]})
    worker.run_once()
    return "aud"


def test_pages_follow_the_cursor_to_the_end(api: Api, audience: str) -> None:
    """Pages of 10, 10 and 5; next_cursor is the page's last id, then null."""
    pages = []
    params: dict[str, str | int] = {"limit": 10}
    while True:
        body = api.get(f"/{audience}/users", params=params).json()
        pages.append(body)
        if not body["has_more"]:
            break
        params["cursor"] = body["next_cursor"]
    assert [len(p["users"]) for p in pages] == [10, 10, 5]
    assert [p["next_cursor"] for p in pages] == ["u09", "u19", None]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [u for p in pages for u in p["users"]] == [f"u{i:02d}" for i in range(25)]
    assert all(p["warning"] is None for p in pages)


def test_the_default_limit_is_1000_and_the_bounds_are_accepted(api: Api, audience: str) -> None:
    """limit 1 and 10000 are valid; no limit returns everything up to 1000."""
    assert len(api.get(f"/{audience}/users").json()["users"]) == 25
    assert api.get(f"/{audience}/users", params={"limit": 1}).json()["users"] == ["u00"]
    assert len(api.get(f"/{audience}/users", params={"limit": 10000}).json()["users"]) == 25


def test_a_page_that_ends_exactly_at_the_last_member_has_no_more(api: Api, audience: str) -> None:
    """has_more is false and next_cursor null when nothing follows."""
    body = api.get(f"/{audience}/users", params={"limit": 25}).json()
    assert (body["has_more"], body["next_cursor"]) == (False, None)


def test_a_cursor_need_not_be_a_member(api: Api, audience: str) -> None:
    """Listing resumes strictly after the cursor's position; empty means the start."""
    body = api.get(f"/{audience}/users", params={"cursor": "u105", "limit": 2}).json()
    assert body["users"] == ["u11", "u12"]
    assert api.get(f"/{audience}/users", params={"cursor": "", "limit": 1}).json()["users"] == [
        "u00"
    ]
    assert api.get(f"/{audience}/users", params={"cursor": "z"}).json()["users"] == []


def test_members_are_ordered_by_their_utf8_bytes(api: Api, worker: Worker) -> None:
    """Byte order, not code-point-in-UTF-16 or locale order (U+FB01 sorts before U+1F600)."""
    ids = ["b", "B", "a", "é", "Z", "aa", "😀", "\ufb01", "ÿ", "~", "0"]
    api.create("bytes")
    api.post("/bytes/users", json={"add": ids})
    worker.run_once()
    expected = sorted(ids, key=lambda i: i.encode("utf-8"))
    assert expected[-2:] == ["\ufb01", "😀"]
    assert api.members("bytes", limit=3) == expected


@pytest.mark.parametrize("limit", ["0", "10001", "-1", "abc", "1.5", "", "1e3", "99999999999999"])
def test_a_limit_outside_1_to_10000_is_422(api: Api, audience: str, limit: str) -> None:
    """VALIDATION_FAILED naming limit."""
    response = api.get(f"/{audience}/users", params={"limit": limit})
    assert error_of(response) == (422, "VALIDATION_FAILED")
    assert "limit" in response.json()["error"]["messages"][0]


def test_while_processing_the_list_is_empty_with_a_warning(
    api: Api, worker: Worker, audience: str
) -> None:
    """No users, no cursor, a warning; the full list returns once the job is done."""
    api.delete(f"/{audience}/users/clear")
    body = api.get(f"/{audience}/users").json()
    assert body == {
        "users": [],
        "next_cursor": None,
        "has_more": False,
        "warning": "Custom audience is currently being updated",
    }
    worker.run_once()
    assert api.get(f"/{audience}/users").json()["warning"] is None


def test_listing_users_of_an_unknown_audience_is_404(api: Api) -> None:
    """CUSTOM_AUDIENCE_NOT_FOUND."""
    assert error_of(api.get("/nope/users")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")
