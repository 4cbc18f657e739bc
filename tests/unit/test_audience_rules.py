"""Validation of a create request: one message per problem, naming the field."""

from __future__ import annotations

import pytest

from custom_audiences.domain.audiences import IdentifierType, parse_new_audience
from custom_audiences.errors import ValidationFailed


def body(**fields: object) -> dict[str, object]:
    return {"custom_audience": fields}


def test_a_valid_body_with_the_default_identifier_type() -> None:
    """identifier_type defaults to user_id; unknown fields are ignored."""
    new = parse_new_audience(body(vendor_id="A-z_0.9", name="N", extra=1))
    assert (new.vendor_id, new.name, new.identifier_type) == (
        "A-z_0.9",
        "N",
        IdentifierType.USER_ID,
    )


def test_anonymous_id_is_accepted() -> None:
    """The second identifier type."""
    new = parse_new_audience(body(vendor_id="v", name="n", identifier_type="anonymous_id"))
    assert new.identifier_type is IdentifierType.ANONYMOUS_ID


@pytest.mark.parametrize("value", [None, "x", [], {"custom_audience": None}, {"other": {}}])
def test_a_missing_custom_audience_object_is_one_problem(value: object) -> None:
    """Not an object, or no custom_audience object in it."""
    with pytest.raises(ValidationFailed) as raised:
        parse_new_audience(value)
    assert len(raised.value.messages) == 1
    assert "custom_audience" in raised.value.messages[0]


def test_every_problem_is_reported_at_once() -> None:
    """Three bad fields, three messages in field order."""
    with pytest.raises(ValidationFailed) as raised:
        parse_new_audience(body(vendor_id="no spaces", name="", identifier_type="email"))
    fields = ["vendor_id", "name", "identifier_type"]
    assert [f for f, m in zip(fields, raised.value.messages, strict=True) if f in m] == fields


@pytest.mark.parametrize("vendor_id", ["", "a b", "a/b", "é", "v" * 256, 5, True])
def test_invalid_vendor_ids(vendor_id: object) -> None:
    """1-255 characters of A-Z a-z 0-9 _ - . only."""
    with pytest.raises(ValidationFailed, match="vendor_id"):
        parse_new_audience(body(vendor_id=vendor_id, name="n"))


@pytest.mark.parametrize("name", ["", "n" * 256, 5, ["n"]])
def test_invalid_names(name: object) -> None:
    """A string of 1-255 characters."""
    with pytest.raises(ValidationFailed, match="name"):
        parse_new_audience(body(vendor_id="v", name=name))


def test_the_longest_allowed_values() -> None:
    """255 characters is within the limits of both fields."""
    new = parse_new_audience(body(vendor_id="v" * 255, name="é" * 255))
    assert (len(new.vendor_id), len(new.name)) == (255, 255)


@pytest.mark.parametrize("identifier_type", [[], {}, 5, None, "USER_ID", ""])
def test_invalid_identifier_types_are_a_validation_problem(identifier_type: object) -> None:
    """Any value but the two names, unhashable ones included, is one message, never a crash."""
    with pytest.raises(ValidationFailed, match="identifier_type"):
        parse_new_audience(body(vendor_id="v", name="n", identifier_type=identifier_type))
