"""Request bodies: read within the size limit, then decoded with msgspec into mutations.

Mutation bodies are decoded straight into typed Structs (``list[str]``), which is the
fastest way to check 500k identifiers. Outcomes:

- not JSON at all (an empty body included): 400 INVALID_JSON;
- JSON that is not an object (an array, a string, ``null``): 422 INVALID_PAYLOAD, since
  the mutation payload itself has the wrong shape (create answers VALIDATION_FAILED);
- ``add``/``remove``/``users`` present but not an array of strings (``null`` included):
  422 INVALID_PAYLOAD naming the field;
- unknown fields are ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

import msgspec
from litestar.exceptions import InternalServerException

from custom_audiences.api.handler_types import AnyRequest
from custom_audiences.api.schemas import AddRemoveRequest, ReplaceRequest
from custom_audiences.domain import mutations
from custom_audiences.domain.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    body_may_hold_control_characters,
)
from custom_audiences.domain.mutations import Mutation
from custom_audiences.errors import InvalidJson, InvalidPayload, RequestTimeout

BodyT = TypeVar("BodyT", AddRemoveRequest, ReplaceRequest)

_FIELD_IN_ERROR = re.compile(r"at `\$\.(\w+)")

# The usual body has no identifier of a wrong length. Decoding straight into
# length-constrained strings checks that inside msgspec at almost no cost, sparing a
# Python-level pass over 500k identifiers; a body that fails it is decoded again with the
# plain types and filtered identifier by identifier.
_CheckedId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_IDENTIFIER_LENGTH)]


class _AddRemoveOfCheckedLengths(msgspec.Struct):
    add: list[_CheckedId] | msgspec.UnsetType = msgspec.UNSET
    remove: list[_CheckedId] | msgspec.UnsetType = msgspec.UNSET


class _ReplaceOfCheckedLengths(msgspec.Struct):
    users: list[_CheckedId] | msgspec.UnsetType = msgspec.UNSET


async def read_body(request: AnyRequest) -> bytes:
    """The whole body; over the app's limit (Content-Length, or bytes counted as they
    stream in) Litestar raises ``RequestEntityTooLarge`` before buffering more.

    A body cut short (the client went away, or stalled past the server's read timeout)
    is ``RequestTimeout``, not the 500 Litestar raises for it: nobody is left to answer,
    and it is no fault of the server.
    """
    try:
        return await request.body()
    except InternalServerException:  # Litestar's "client disconnected prematurely"
        raise RequestTimeout("The request body was not received whole") from None


def decode_json(raw: bytes) -> object:
    """Any JSON document, as plain Python values."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise InvalidJson from None


def add_remove_mutation(raw: bytes) -> Mutation:
    try:
        checked = msgspec.json.decode(raw, type=_AddRemoveOfCheckedLengths)
        add, remove, lengths_checked = checked.add, checked.remove, True
    except msgspec.DecodeError:
        body = _decode(raw, AddRemoveRequest)
        add, remove, lengths_checked = body.add, body.remove, False
    return mutations.add_remove(
        _present(add),
        _present(remove),
        check_characters=body_may_hold_control_characters(raw),
        check_lengths=not lengths_checked,
    )


def replace_mutation(raw: bytes) -> Mutation:
    try:
        users, lengths_checked = msgspec.json.decode(raw, type=_ReplaceOfCheckedLengths).users, True
    except msgspec.DecodeError:
        users, lengths_checked = _decode(raw, ReplaceRequest).users, False
    return mutations.replace(
        _present(users),
        check_characters=body_may_hold_control_characters(raw),
        check_lengths=not lengths_checked,
    )


def _present(value: list[str] | msgspec.UnsetType) -> list[str] | None:
    return None if isinstance(value, msgspec.UnsetType) else value


def _decode(raw: bytes, body_type: type[BodyT]) -> BodyT:
    try:
        return msgspec.json.decode(raw, type=body_type)
    except msgspec.ValidationError as error:
        # Typed decoding stops at the first wrong type: make sure the rest is JSON at all.
        decode_json(raw)
        raise _invalid_payload(error, body_type) from None
    except msgspec.DecodeError:
        raise InvalidJson from None


def _invalid_payload(
    error: msgspec.ValidationError, body_type: type[msgspec.Struct]
) -> InvalidPayload:
    match = _FIELD_IN_ERROR.search(str(error))
    if match is None:
        names = " and/or ".join(repr(field.name) for field in msgspec.structs.fields(body_type))
        return InvalidPayload(f"request body must be a JSON object with {names} arrays of strings")
    return InvalidPayload(f"{match.group(1)} must be an array of strings")
