"""Reading identifiers for a sync: text, CSV, JSON Lines, gzip, stdin; refusals by reason."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from custom_audiences.client.syncing.identifiers import Rejected
from custom_audiences.client.syncing.sources import (
    SourceError,
    SourceFormat,
    open_identifiers,
)


def read(path: Path | str, **options: object) -> tuple[list[str], list[Rejected], SourceFormat]:
    with open_identifiers(str(path), **options) as source:  # type: ignore[arg-type]
        items = list(source.items)
        return (
            [i for i in items if isinstance(i, str)],
            [i for i in items if isinstance(i, Rejected)],
            source.format,
        )


def test_text_lines_are_kept_exactly(tmp_path: Path) -> None:
    """One id per line; CRLF endings and a BOM are removed, inner and edge spaces kept."""
    path = tmp_path / "ids.txt"
    path.write_bytes(b"\xef\xbb\xbfu1\r\n u2 \nCaf\xc3\xa9\n")
    ids, rejected, fmt = read(path)
    assert ids == ["u1", " u2 ", "Café"]
    assert rejected == []
    assert fmt is SourceFormat.TEXT


def test_text_refusals_have_reasons_and_lines(tmp_path: Path) -> None:
    """Empty, too long, control characters and bad UTF-8 are refused with their line."""
    path = tmp_path / "ids.txt"
    path.write_bytes(b"ok\n\n" + b"x" * 256 + b"\nbad\x01id\nnel\xc2\x85\n\xff\xfe\n" + b"y" * 255)
    ids, rejected, _ = read(path)
    assert ids == ["ok", "y" * 255]
    assert [(r.reason, r.line) for r in rejected] == [
        ("empty", 2),
        ("too_long", 3),
        ("control_character", 4),
        ("control_character", 5),
        ("invalid_utf8", 6),
    ]


def test_no_break_space_is_valid(tmp_path: Path) -> None:
    """A non-printable but non-control character (U+00A0) is a valid identifier."""
    path = tmp_path / "ids.txt"
    path.write_text("a\u00a0b\nline\u2028sep\n", encoding="utf-8")
    assert read(path)[0] == ["a\u00a0b", "line\u2028sep"]


def test_csv_header_detected_by_usual_name(tmp_path: Path) -> None:
    """A first row whose cell is a usual id header (user_id) is skipped as a header."""
    path = tmp_path / "users.csv"
    path.write_text('user_id,plan\nu1,gold\n\n"u,2",silver\n', encoding="utf-8")
    with open_identifiers(str(path)) as source:
        assert source.header == "user_id"
        assert list(source.items) == ["u1", "u,2"]


def test_csv_without_header_keeps_the_first_row(tmp_path: Path) -> None:
    """Without a recognisable header, the first row is data."""
    path = tmp_path / "users.csv"
    path.write_text("u1,gold\nu2,silver\n", encoding="utf-8")
    assert read(path)[0] == ["u1", "u2"]


def test_csv_named_column(tmp_path: Path) -> None:
    """--column NAME picks that header's column; short rows are refused as missing_column."""
    path = tmp_path / "users.csv"
    path.write_text("plan,external\ngold,e1\nsilver\nbronze,e3\n", encoding="utf-8")
    ids, rejected, _ = read(path, column="external")
    assert ids == ["e1", "e3"]
    assert [(r.reason, r.line) for r in rejected] == [("missing_column", 3)]


def test_csv_numbered_column(tmp_path: Path) -> None:
    """--column 2 picks the second column; a stdin CSV is recognised by --column."""
    data = b"a,first\nb,second\n"
    ids, _, fmt = read("-", column="2", stdin=io.BytesIO(data))
    assert ids == ["first", "second"]
    assert fmt is SourceFormat.CSV


def test_csv_unknown_column_is_an_input_error(tmp_path: Path) -> None:
    """A --column absent from the header row raises SourceError."""
    path = tmp_path / "users.csv"
    path.write_text("id,plan\n1,gold\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no column 'user'"):
        read(path, column="user")


def test_tsv_is_tab_separated(tmp_path: Path) -> None:
    """A .tsv source splits on tabs."""
    path = tmp_path / "users.tsv"
    path.write_text("id\tplan\nu,1\tgold\n", encoding="utf-8")
    assert read(path)[0] == ["u,1"]


def test_jsonl_strings_objects_and_refusals(tmp_path: Path) -> None:
    """Strings, objects (user_id, then id), integers as text; bad lines refused by reason."""
    path = tmp_path / "users.jsonl"
    path.write_text(
        '"s1"\n{"user_id": "o1", "id": "ignored"}\n{"id": 42}\n\n'
        '{"name": "x"}\nnull\n{not json\n"\\u0007bell"\n',
        encoding="utf-8",
    )
    ids, rejected, fmt = read(path)
    assert fmt is SourceFormat.JSONL
    assert ids == ["s1", "o1", "42"]
    assert [(r.reason, r.line) for r in rejected] == [
        ("missing_column", 5),
        ("not_a_string", 6),
        ("invalid_json", 7),
        ("control_character", 8),
    ]


def test_jsonl_column_and_content_detection() -> None:
    """JSON Lines on stdin are recognised by content; --column picks the key."""
    data = b'{"uid": "a"}\n{"uid": "b"}\n'
    ids, _, fmt = read("-", column="uid", stdin=io.BytesIO(data))
    assert (ids, fmt) == (["a", "b"], SourceFormat.JSONL)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("ids.txt.gz", b"a\nb\n", ["a", "b"]),
        ("ids.csv.gz", b"user_id\na\nb\n", ["a", "b"]),
        ("ids.jsonl.gz", b'"a"\n{"id": "b"}\n', ["a", "b"]),
        ("ids.data", b"a\nb\n", ["a", "b"]),  # gzip recognised by content, not name
    ],
)
def test_gzip_is_transparent(
    tmp_path: Path, name: str, content: bytes, expected: list[str]
) -> None:
    """Gzipped sources read like plain ones, whatever their name."""
    path = tmp_path / name
    path.write_bytes(gzip.compress(content))
    assert read(path)[0] == expected


def test_gzip_on_stdin() -> None:
    """A gzipped stdin is decompressed."""
    ids, _, _ = read("-", stdin=io.BytesIO(gzip.compress(b"x\ny\n")))
    assert ids == ["x", "y"]


def test_corrupt_gzip_is_an_input_error(tmp_path: Path) -> None:
    """A truncated gzip raises SourceError while reading."""
    path = tmp_path / "ids.txt.gz"
    content = "".join(f"{random.getrandbits(128):032x}\n" for _ in range(10_000))
    compressed = gzip.compress(content.encode())
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(SourceError):
        read(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A path that does not exist raises SourceError naming it."""
    with pytest.raises(SourceError, match=r"nope\.txt"):
        read(tmp_path / "nope.txt")


def test_explicit_format_wins(tmp_path: Path) -> None:
    """--format text reads a .csv file line by line."""
    path = tmp_path / "ids.csv"
    path.write_text("a,b\n", encoding="utf-8")
    assert read(path, format=SourceFormat.TEXT)[0] == ["a,b"]
