"""Crash-loop tooling: random mutations, a membership model, and requests cut at chosen bytes."""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec

#: Identifiers are 17 characters, so ~515k of them make a body of just under 10 MiB.
ID_SPACE = 2_000_000
BIG = (150_000, 515_000)
MEDIUM = (5_000, 40_000)
SMALL = (1, 40)
#: Skipped by the server (empty, too long, a control character), never stored.
INVALID_IDS = ["", "x" * 256, "bad\u0007id"]
#: Refusals the contract allows for a mutation; anything else is a bug.
REFUSED = {409, 422, 429}


def user_id(n: int) -> str:
    return f"user-{n:012d}"


@dataclass(frozen=True)
class Change:
    """One mutation request, and what applying it does to a membership."""

    vendor_id: str
    kind: str  # add_remove | replace | clear | invalid
    method: str
    suffix: str
    body: bytes | None
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    skipped: int = 0

    def applied_to(self, members: frozenset[str]) -> tuple[frozenset[str], dict[str, int]]:
        """The membership after this change, and the ``last_job_result`` it leaves."""
        if self.kind == "add_remove":
            # An identifier both added and removed ends up removed.
            after, processed = (
                (members - self.remove) | (self.add - self.remove),
                len(self.add | self.remove),
            )
        elif self.kind == "replace":
            after, processed = self.add, len(self.add)
        elif self.kind == "clear":
            after, processed = frozenset(), len(members)
        else:
            raise AssertionError(f"a {self.kind} change is never applied")
        return after, {
            "processed_count": processed,
            "skipped_count": self.skipped,
            "error_count": 0,
        }


class Workload:
    """Random changes: mostly small, some medium, a share of near-10 MiB ones."""

    def __init__(self, rng: random.Random, big_share: float) -> None:
        self.rng = rng
        self.big_share = big_share

    def size(self, *, at_least_medium: bool = False, small_only: bool = False) -> int:
        roll = self.rng.random()
        if small_only:
            bounds = SMALL
        elif roll < self.big_share:
            bounds = BIG
        elif at_least_medium or roll < self.big_share + 0.2:
            bounds = MEDIUM
        else:
            bounds = SMALL
        return self.rng.randint(*bounds)

    def change(self, vendor_id: str, members: frozenset[str], size: int) -> Change:
        roll = self.rng.random()
        if roll < 0.05:
            return self._invalid(vendor_id)
        if roll < 0.15:
            return Change(vendor_id, "clear", "DELETE", "/users/clear", None)
        if roll < 0.35 or len(members) > 700_000:
            users = self.fresh(size)
            sent, skipped = self._with_invalid(users)
            body = msgspec.json.encode({"users": sent})
            return Change(
                vendor_id, "replace", "PUT", "/users/replace", body, add=frozenset(users),
                skipped=skipped,
            )  # fmt: skip
        return self._add_remove(vendor_id, members, size)

    def _add_remove(self, vendor_id: str, members: frozenset[str], size: int) -> Change:
        add = self.fresh(size) if self.rng.random() < 0.85 else []
        remove: list[str] = []
        if not add or self.rng.random() < 0.5:
            # Mostly current members, some strangers, sometimes an identifier also added.
            count = max(1, size // 3)
            known = self.rng.sample(sorted(members), min(count, len(members))) if members else []
            remove = known + self.fresh(max(1, count // 4))
            if add and self.rng.random() < 0.3:
                remove.append(add[0])
        sent_add, skipped = self._with_invalid(add)
        payload: dict[str, list[str]] = {"remove": remove}
        if sent_add:
            payload["add"] = sent_add
        return Change(
            vendor_id, "add_remove", "POST", "/users", msgspec.json.encode(payload),
            add=frozenset(add), remove=frozenset(remove), skipped=skipped,
        )  # fmt: skip

    def _invalid(self, vendor_id: str) -> Change:
        body = self.rng.choice([b'{"add": []}', b'{"add": [1, 2]}', b'{"users": "a"}'])
        suffix, method = ("/users/replace", "PUT") if b"users" in body else ("/users", "POST")
        return Change(vendor_id, "invalid", method, suffix, body)

    def fresh(self, count: int) -> list[str]:
        return [user_id(n) for n in self.rng.sample(range(ID_SPACE), count)]

    def _with_invalid(self, identifiers: list[str]) -> tuple[list[str], int]:
        """Sometimes slip in skipped identifiers and a duplicate (neither is stored)."""
        if not identifiers or self.rng.random() > 0.2:
            return identifiers, 0
        return [*identifiers, *INVALID_IDS, identifiers[0]], len(INVALID_IDS)


@dataclass
class AudienceModel:
    """What one audience must hold: its members and how many of its jobs were applied."""

    members: frozenset[str] = frozenset()
    applied_jobs: int = 0
    last_result: dict[str, int] | None = None
    #: Accepted (202) changes not yet checked, in the order they were accepted.
    accepted: list[Change] = field(default_factory=list)
    #: A change whose request died before any answer: applied entirely or not at all.
    unsure: Change | None = None

    def candidates(self) -> list[tuple[frozenset[str], int, dict[str, int] | None]]:
        """Every state the audience may legitimately be in: (members, applied jobs, result)."""
        members, jobs, result = self.members, self.applied_jobs, self.last_result
        for change in self.accepted:
            members, result = change.applied_to(members)
            jobs += 1
        states = [(members, jobs, result)]
        if self.unsure is not None:
            after, unsure_result = self.unsure.applied_to(members)
            states.append((after, jobs + 1, unsure_result))
        return states

    def settle(self, state: tuple[frozenset[str], int, dict[str, int] | None]) -> None:
        self.members, self.applied_jobs, self.last_result = state
        self.accepted, self.unsure = [], None


def request_bytes(base_url: str, token: str, app_id: str, change: Change) -> bytes:
    """The whole HTTP/1.1 request for a change, with ``Connection: close``."""
    path = f"/client/mobile_applications/{app_id}/custom_audiences/{change.vendor_id}"
    body = change.body or b""
    head = [
        f"{change.method} {path}{change.suffix} HTTP/1.1",
        f"Host: {urlsplit(base_url).netloc}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def open_connection(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_status(sock: socket.socket) -> tuple[int | None, dict[str, Any] | None]:
    """The status and JSON body of the response, or (None, None) if none came whole."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass
    raw = b"".join(chunks)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None, None
    lines = head.split(b"\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length")),
        None,
    )
    if length is None or len(body) < length:
        return None, None
    return int(lines[0].split()[1]), msgspec.json.decode(body[:length])
