"""Creating, listing, getting and archiving custom audiences over HTTP."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.store.base import Store

from .conftest import Api, error_of, make_tenant

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
AUDIENCE_FIELDS = {
    "id",
    "vendor_id",
    "name",
    "identifier_type",
    "user_count",
    "status",
    "last_synced_at",
    "last_job_result",
    "created_at",
    "updated_at",
}


def test_create_returns_201_with_a_ready_empty_audience(api: Api) -> None:
    """The created audience has exactly the documented fields, and no internal ones."""
    response = api.post(
        json={"custom_audience": {"vendor_id": "premium_users", "name": "Premium Users"}}
    )
    assert response.status_code == 201
    audience = response.json()["custom_audience"]
    assert set(audience) == AUDIENCE_FIELDS
    assert audience["id"].startswith("caud_")
    assert audience["vendor_id"] == "premium_users"
    assert audience["name"] == "Premium Users"
    assert audience["identifier_type"] == "user_id"
    assert (audience["user_count"], audience["status"]) == (0, "ready")
    assert audience["last_synced_at"] is None
    assert audience["last_job_result"] is None
    assert TIMESTAMP.fullmatch(audience["created_at"])
    assert audience["created_at"] == audience["updated_at"]


def test_create_accepts_anonymous_id_and_ignores_unknown_fields(api: Api) -> None:
    """identifier_type may be anonymous_id; extra fields at any level are ignored."""
    body = {
        "custom_audience": {
            "vendor_id": "anon.v-1",
            "name": "Anonymous",
            "identifier_type": "anonymous_id",
            "color": "blue",
        },
        "extra": [1, {"x": None}],
    }
    response = api.post(json=body)
    assert response.status_code == 201
    assert response.json()["custom_audience"]["identifier_type"] == "anonymous_id"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["custom_audience"]),
        ({"custom_audience": "x"}, ["custom_audience"]),
        ([], ["custom_audience"]),
        ({"custom_audience": {}}, ["vendor_id", "name"]),
        ({"custom_audience": {"vendor_id": "a b", "name": "A"}}, ["vendor_id"]),
        ({"custom_audience": {"vendor_id": "a/b", "name": "A"}}, ["vendor_id"]),
        ({"custom_audience": {"vendor_id": "v" * 256, "name": "A"}}, ["vendor_id"]),
        ({"custom_audience": {"vendor_id": "", "name": "A"}}, ["vendor_id"]),
        ({"custom_audience": {"vendor_id": 7, "name": "A"}}, ["vendor_id"]),
        ({"custom_audience": {"vendor_id": "a", "name": ""}}, ["name"]),
        ({"custom_audience": {"vendor_id": "a", "name": "n" * 256}}, ["name"]),
        (
            {"custom_audience": {"vendor_id": "a", "name": "A", "identifier_type": "email"}},
            ["identifier_type"],
        ),
        (
            {"custom_audience": {"vendor_id": "a", "name": "A", "identifier_type": ["x"]}},
            ["identifier_type"],
        ),
    ],
)
def test_create_rejects_invalid_fields_with_one_message_per_field(
    api: Api, body: object, fields: list[str]
) -> None:
    """422 VALIDATION_FAILED, each message naming the field at fault."""
    response = api.post(json=body)
    assert error_of(response) == (422, "VALIDATION_FAILED")
    messages = response.json()["error"]["messages"]
    assert len(messages) == len(fields)
    for message, field in zip(messages, fields, strict=True):
        assert field in message


def test_create_with_a_body_that_is_not_json_is_400(api: Api) -> None:
    """Broken and empty bodies are INVALID_JSON."""
    assert error_of(api.post(content=b'{"custom_audience": ')) == (400, "INVALID_JSON")
    assert error_of(api.post(content=b"")) == (400, "INVALID_JSON")


def test_vendor_id_must_be_unique_among_active_audiences(api: Api) -> None:
    """A duplicate is 422; once the first is archived the vendor_id is free again."""
    first = api.create("dup")
    response = api.post(json={"custom_audience": {"vendor_id": "dup", "name": "Again"}})
    assert error_of(response) == (422, "VALIDATION_FAILED")
    assert "vendor_id" in response.json()["error"]["messages"][0]
    assert api.delete("/dup").status_code == 200
    second = api.create("dup")
    assert second["id"] != first["id"]


def test_vendor_ids_are_scoped_to_their_app(
    api: Api, client: TestClient[Litestar], store: Store
) -> None:
    """Another app can use the same vendor_id and cannot see this app's audience."""
    api.create("shared")
    other = Api(client, make_tenant(store))
    assert error_of(other.get("/shared")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")
    assert other.create("shared")["vendor_id"] == "shared"


def test_list_pages_oldest_first_25_per_page_with_meta(api: Api) -> None:
    """27 audiences: 25 on page 1, 2 on page 2, none on page 3, in creation order."""
    created = [api.create(f"aud{i:02d}")["id"] for i in range(27)]
    pages = [api.get(params={"page": page}).json() for page in (1, 2, 3)]
    listed = [a["id"] for page in pages for a in page["custom_audiences"]]
    assert listed == created
    assert [len(page["custom_audiences"]) for page in pages] == [25, 2, 0]
    assert pages[1]["meta"] == {"page": 2, "per_page": 25, "total_count": 27, "total_pages": 2}
    assert api.get().json()["meta"]["page"] == 1


def test_list_of_an_empty_app(api: Api) -> None:
    """No audiences: an empty list and zero totals."""
    body = api.get().json()
    assert body == {
        "custom_audiences": [],
        "meta": {"page": 1, "per_page": 25, "total_count": 0, "total_pages": 0},
    }


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", " 1", "١"])
def test_list_rejects_a_page_that_is_not_a_positive_integer(api: Api, page: str) -> None:
    """422 VALIDATION_FAILED naming page."""
    response = api.get(params={"page": page})
    assert error_of(response) == (422, "VALIDATION_FAILED")
    assert "page" in response.json()["error"]["messages"][0]


def test_list_far_past_the_end_is_empty(api: Api) -> None:
    """Even an absurd page number is just past the end."""
    api.create("one")
    for page in ("99", "9" * 40):
        body = api.get(params={"page": page}).json()
        assert body["custom_audiences"] == []
        assert body["meta"]["total_count"] == 1


def test_get_returns_the_audience_and_404_for_unknown_ones(api: Api) -> None:
    """GET by vendor_id; an unknown vendor_id is CUSTOM_AUDIENCE_NOT_FOUND."""
    created = api.create("known")
    assert api.audience("known") == created
    assert error_of(api.get("/unknown")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")


def test_delete_archives_the_audience(api: Api) -> None:
    """200 with the audience; afterwards it is absent everywhere."""
    created = api.create("gone")
    api.create("kept")
    response = api.delete("/gone")
    assert response.status_code == 200
    assert response.json()["custom_audience"]["id"] == created["id"]
    assert error_of(api.get("/gone")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")
    assert error_of(api.delete("/gone")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")
    assert error_of(api.get("/gone/users")) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")
    assert error_of(api.post("/gone/users", json={"add": ["u"]})) == (
        404,
        "CUSTOM_AUDIENCE_NOT_FOUND",
    )
    listed = api.get().json()
    assert [a["vendor_id"] for a in listed["custom_audiences"]] == ["kept"]
    assert listed["meta"]["total_count"] == 1


def test_delete_while_processing_is_409(api: Api) -> None:
    """A pending mutation blocks archiving: CANNOT_ARCHIVE_WHILE_PROCESSING."""
    api.create("busy")
    assert api.post("/busy/users", json={"add": ["u1"]}).status_code == 202
    assert error_of(api.delete("/busy")) == (409, "CANNOT_ARCHIVE_WHILE_PROCESSING")
    assert api.audience("busy")["status"] == "processing"
