"""Reading identifiers from a file or stdin: plain text, CSV or JSON Lines, gzipped or not.

Readers stream: each valid identifier is yielded as it is read, each refused entry as a
``Rejected`` (with its line), so the caller decides what to keep. Formats:

- text: one identifier per line, kept exactly as written (only the line end is removed);
- CSV (``.csv``; ``.tsv`` is tab-separated): the first column, or ``column`` (a header
  name, or a 1-based number). The first row is a header when it holds the named column,
  or when its cell is a usual id header such as ``user_id`` or ``id``;
- JSON Lines: a JSON string per line, or an object whose ``column`` (default: the first of
  ``user_id``, ``id``, ``anonymous_id`` present) holds the identifier; integers are taken
  as their decimal text. Blank lines are ignored.

Compression is recognised by content (the gzip magic bytes), the format by the file name,
else by content: a first character ``{`` or ``"`` means JSON Lines; ``column`` given
means CSV; anything else is text.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

import msgspec

from custom_audiences.client.syncing.identifiers import (
    INVALID_JSON,
    MAX_IDENTIFIER_LENGTH,
    MISSING_COLUMN,
    NOT_A_STRING,
    Rejected,
    checked,
)

STDIN = "-"
HEADER_NAMES = frozenset(
    {"user_id", "userid", "user", "id", "uid", "anonymous_id", "identifier", "external_id"}
)
JSON_KEYS = ("user_id", "id", "anonymous_id")
_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error, csv.Error)

Item = str | Rejected


class SourceError(Exception):
    """The source cannot be read as asked (no such file, unknown column, corrupt gzip...)."""


class SourceFormat(StrEnum):
    AUTO = "auto"
    TEXT = "text"
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class IdentifierSource:
    """An opened source: what was detected, and its entries (to be iterated once)."""

    name: str
    format: SourceFormat
    header: str | None
    items: Iterator[Item]


@contextmanager
def open_identifiers(
    path: str,
    *,
    format: SourceFormat = SourceFormat.AUTO,
    column: str | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[IdentifierSource]:
    """Open ``path`` (``-``: stdin) and detect what is needed to read it."""
    name = "stdin" if path == STDIN else path
    with ExitStack() as stack:
        try:
            raw = _open_raw(path, stdin, stack)
            binary = _decompressed(raw, stack)
            head = binary.peek(4096)
        except _READ_ERRORS as exc:
            raise SourceError(f"cannot read {name}: {exc}") from exc
        chosen = detect_format(path, head, column) if format is SourceFormat.AUTO else format
        header: str | None = None
        if chosen is SourceFormat.CSV:
            delimiter = "\t" if path.lower().removesuffix(".gz").endswith(".tsv") else ","
            try:
                items, header = _csv_items(
                    _text(binary, stack, newline=""), delimiter, column, name
                )
            except _READ_ERRORS as exc:
                raise SourceError(f"cannot read {name}: {exc}") from exc
        elif chosen is SourceFormat.JSONL:
            items = _jsonl_items(binary, column)
        else:
            items = _text_items(_text(binary, stack, newline="\n"))
        yield IdentifierSource(name, chosen, header, _guarded(items, name))


def detect_format(path: str, head: bytes, column: str | None) -> SourceFormat:
    lower = path.lower().removesuffix(".gz")
    if lower.endswith((".csv", ".tsv")):
        return SourceFormat.CSV
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return SourceFormat.JSONL
    if head.lstrip()[:1] in (b"{", b'"'):
        return SourceFormat.JSONL
    return SourceFormat.CSV if column is not None else SourceFormat.TEXT


def _open_raw(path: str, stdin: BinaryIO | None, stack: ExitStack) -> io.BufferedReader:
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        if isinstance(stream, io.BufferedReader):
            return stream
        return io.BufferedReader(stream)  # type: ignore[arg-type]  # any raw binary stream
    return stack.enter_context(open(path, "rb"))


def _decompressed(raw: io.BufferedReader, stack: ExitStack) -> io.BufferedReader:
    if raw.peek(2)[:2] != _GZIP_MAGIC:
        return raw
    unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
    return io.BufferedReader(unzipped, buffer_size=1 << 16)


def _text(binary: io.BufferedReader, stack: ExitStack, *, newline: str) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; surrogateescape lets a bad line be reported, not fatal.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline=newline)
    # Detached, not closed, at the end: closing would close stdin too; the file has its own close.
    stack.callback(text.detach)
    return text


def _guarded(items: Iterator[Item], name: str) -> Iterator[Item]:
    try:
        yield from items
    except _READ_ERRORS as exc:
        raise SourceError(f"cannot read {name}: {exc}") from exc


def _text_items(text: io.TextIOWrapper) -> Iterator[Item]:
    for number, line in enumerate(text, 1):
        identifier = line.rstrip("\r\n")
        # The common case in one pass of cheap C checks; anything else takes the full test.
        if (
            0 < len(identifier) <= MAX_IDENTIFIER_LENGTH
            and identifier.isascii()
            and identifier.isprintable()
        ):
            yield identifier
            continue
        yield checked(identifier, number)


def _csv_items(
    text: io.TextIOWrapper, delimiter: str, column: str | None, name: str
) -> tuple[Iterator[Item], str | None]:
    """The entries of a CSV source, and its header cell when the first row is a header."""
    reader = csv.reader(text, delimiter=delimiter)
    first = next(reader, None)
    if first is None:
        return iter(()), None
    index, header = _column_of(first, column, name)

    def items() -> Iterator[Item]:
        if header is None:
            yield _cell(first, index, 1)
        for row in reader:
            if row:  # a blank line is no entry
                yield _cell(row, index, reader.line_num)

    return items(), header


def _column_of(first: list[str], column: str | None, name: str) -> tuple[int, str | None]:
    """The column's index, and the header's cell when the first row is a header."""
    if column is not None and not column.isdigit():
        for index, cell in enumerate(first):
            if cell.strip() == column:
                return index, cell
        raise SourceError(f"{name}: no column {column!r} in the header row {first!r}")
    index = int(column) - 1 if column is not None else 0
    if index < 0:
        raise SourceError("--column numbers start at 1")
    cell = first[index] if index < len(first) else ""
    return index, (cell if cell.strip().lower() in HEADER_NAMES else None)


def _cell(row: list[str], index: int, line: int) -> Item:
    if index >= len(row):
        return Rejected(MISSING_COLUMN, line, ",".join(row))
    return checked(row[index], line)


def _jsonl_items(binary: io.BufferedReader, column: str | None) -> Iterator[Item]:
    decode = msgspec.json.Decoder().decode
    keys = (column,) if column is not None else JSON_KEYS
    for number, raw in enumerate(binary, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            value = decode(line)
        except msgspec.DecodeError:
            yield Rejected(INVALID_JSON, number, line.decode("utf-8", "replace"))
            continue
        if isinstance(value, dict):
            key = next((k for k in keys if k in value), None)
            if key is None:
                yield Rejected(MISSING_COLUMN, number, line.decode("utf-8", "replace"))
                continue
            value = value[key]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            yield Rejected(NOT_A_STRING, number, line.decode("utf-8", "replace"))
            continue
        yield checked(value, number)
