"""An in-memory Custom Audiences API for SDK tests, served through ``httpx.MockTransport``.

It follows the public API text and the contract: paths, bodies, statuses, error codes,
cursor paging in byte order, one job at a time, the replace window, the body limit. Jobs
finish ``job_seconds`` after they are accepted, on the same fake clock the client sleeps
on, so waiting is deterministic and instant. Faults can be queued per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sdk_fake_bodies import envelope, error, not_found, parse_json, render, result, strings, valid

from custom_audiences.client import Client

#: Builds a Client on the fake API; keyword arguments go to Client.
MakeClient = Callable[..., Client]

APP = "app_test"
TOKEN = "tok_test"
OTHER_APP = "app_other"
MAX_BODY = 10 * 1024 * 1024
REPLACE_WINDOW = 12 * 3600.0
VENDOR_ID = re.compile(r"[A-Za-z0-9_.\-]{1,255}")
ROUTE = re.compile(
    r"^/client/mobile_applications/(?P<app>[^/]+)/custom_audiences"
    r"(?:/(?P<vendor>[^/]+)(?P<rest>/users(?:/replace|/clear)?)?)?$"
)


class FakeClock:
    """Monotonic seconds that only move when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@dataclass
class Fault:
    """A canned outcome for the next request(s) matching ``method`` and a path substring."""

    method: str
    path_part: str
    status: int = 0  # 0: raise ``error`` instead of answering
    code: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: type[httpx.TransportError] | None = None
    after_apply: bool = False  # handle the request, then lose the response
    times: int = 1


@dataclass
class Record:
    pk: int
    vendor_id: str
    name: str
    identifier_type: str
    created: float
    members: set[str] = field(default_factory=set)
    status: str = "ready"
    updated: float = 0.0
    synced: float | None = None
    job_result: dict[str, int] | None = None
    job: tuple[float, Callable[[], dict[str, int]]] | None = None
    last_replace: float | None = None


@dataclass
class Logged:
    method: str
    path: str
    params: dict[str, str]
    body_size: int
    status: int
    body: bytes = b""


class FakeApi:
    def __init__(self, clock: FakeClock, job_seconds: float = 0.1) -> None:
        self.clock = clock
        self.job_seconds = job_seconds
        self.audiences: dict[str, Record] = {}
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.fail_next_job = False
        self.max_body = MAX_BODY
        self._next_pk = 1

    # -- test helpers ------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fault(self, method: str, path_part: str, **kwargs: Any) -> Fault:
        fault = Fault(method, path_part, **kwargs)
        self.faults.append(fault)
        return fault

    def seed(self, vendor_id: str, members: set[str] | None = None) -> Record:
        record = self._create(vendor_id, vendor_id.title(), "user_id")
        record.members = set(members or ())
        return record

    def mutations(self) -> list[Logged]:
        return [e for e in self.log if e.method != "GET" and "/users" in e.path]

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self._finish_due_jobs()
        body = request.read()
        fault = self._take_fault(request)
        if fault is not None and not fault.after_apply:
            return self._logged(request, body, self._fault_response(fault, request))
        response = self._route(request, body)
        self._logged(request, body, response)
        if fault is not None:
            assert fault.error is not None
            raise fault.error("response lost", request=request)
        return response

    def _route(self, request: httpx.Request, body: bytes) -> httpx.Response:
        match = ROUTE.match(request.url.path)
        if match is None:
            return error(404, "NOT_FOUND", "No such route")
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return error(401, "UNAUTHORIZED", "Missing or invalid API key")
        if match["app"] != APP:
            return error(403, "FORBIDDEN", "API key does not have access to this application")
        if len(body) > self.max_body:
            return error(413, "PAYLOAD_TOO_LARGE", "Request body exceeds 10 MB")
        vendor, rest, method = match["vendor"], match["rest"], request.method
        routes: dict[tuple[str | None, str], Callable[[], httpx.Response]] = {
            (None, "GET"): lambda: self._list(request),
            (None, "POST"): lambda: self._create_route(body),
            ("", "GET"): lambda: self._get(vendor),
            ("", "DELETE"): lambda: self._delete(vendor),
            ("/users", "POST"): lambda: self._add_remove(vendor, body),
            ("/users", "GET"): lambda: self._users(vendor, request),
            ("/users/replace", "PUT"): lambda: self._replace(vendor, body),
            ("/users/clear", "DELETE"): lambda: self._clear(vendor),
        }
        key = (None if vendor is None else (rest or ""), method)
        handler = routes.get(key)
        if handler is None:
            return error(405, "METHOD_NOT_ALLOWED", "Method not allowed on this route")
        return handler()

    # -- audiences ---------------------------------------------------------------------
    def _create_route(self, body: bytes) -> httpx.Response:
        data = parse_json(body)
        if isinstance(data, httpx.Response):
            return data
        fields = data.get("custom_audience") if isinstance(data, dict) else None
        if not isinstance(fields, dict):
            return error(422, "VALIDATION_FAILED", "custom_audience is required")
        problems = []
        vendor_id, name = fields.get("vendor_id"), fields.get("name")
        kind = fields.get("identifier_type", "user_id")
        if not isinstance(vendor_id, str) or not VENDOR_ID.fullmatch(vendor_id):
            problems.append("vendor_id is invalid")
        elif vendor_id in self.audiences:
            problems.append("vendor_id is already used by another custom audience")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            problems.append("name is invalid")
        if kind not in ("user_id", "anonymous_id"):
            problems.append("identifier_type is invalid")
        if problems:
            return error(422, "VALIDATION_FAILED", *problems)
        return envelope(201, self._create(vendor_id, name, kind))

    def _create(self, vendor_id: str, name: str, kind: str) -> Record:
        record = Record(self._next_pk, vendor_id, name, kind, self.clock.now)
        record.updated = self.clock.now
        self._next_pk += 1
        self.audiences[vendor_id] = record
        return record

    def _list(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        records = sorted(self.audiences.values(), key=lambda r: (r.created, r.pk))
        chosen = records[(page - 1) * 25 : page * 25]
        return httpx.Response(200, json={"custom_audiences": [render(r) for r in chosen]})

    def _get(self, vendor: str) -> httpx.Response:
        record = self.audiences.get(vendor)
        return envelope(200, record) if record else not_found()

    def _delete(self, vendor: str) -> httpx.Response:
        record = self.audiences.get(vendor)
        if record is None:
            return not_found()
        if record.status == "processing":
            return error(409, "CANNOT_ARCHIVE_WHILE_PROCESSING", "processing")
        del self.audiences[vendor]
        return envelope(200, record)

    # -- members -----------------------------------------------------------------------
    def _users(self, vendor: str, request: httpx.Request) -> httpx.Response:
        record = self.audiences.get(vendor)
        if record is None:
            return not_found()
        limit = int(request.url.params.get("limit", "1000"))
        if not 1 <= limit <= 10_000:
            return error(422, "VALIDATION_FAILED", "limit must be 1-10000")
        if record.status == "processing":
            warning = "Custom audience is currently being updated"
            body = {"users": [], "next_cursor": None, "has_more": False, "warning": warning}
            return httpx.Response(200, json=body)
        cursor = request.url.params.get("cursor")
        ordered = sorted(record.members, key=lambda u: u.encode("utf-8"))
        if cursor is not None:
            ordered = [u for u in ordered if u.encode("utf-8") > cursor.encode("utf-8")]
        page, has_more = ordered[:limit], len(ordered) > limit
        body = {
            "users": page,
            "next_cursor": page[-1] if has_more else None,
            "has_more": has_more,
            "warning": None,
        }
        return httpx.Response(200, json=body)

    def _add_remove(self, vendor: str, body: bytes) -> httpx.Response:
        data = parse_json(body)
        if isinstance(data, httpx.Response):
            return data
        add, remove = data.get("add"), data.get("remove")
        for value in (add, remove):
            if value is not None and not strings(value):
                return error(422, "INVALID_PAYLOAD", "add and remove must be arrays of strings")
        if not add and not remove:
            return error(422, "EMPTY_PAYLOAD", "No users provided in the mutation request")

        def apply(record: Record) -> dict[str, int]:
            valid_add, skipped_add = valid(add or [])
            valid_remove, skipped_remove = valid(remove or [])
            record.members |= valid_add - valid_remove
            record.members -= valid_remove
            processed = len(valid_add | valid_remove)
            return result(processed, skipped_add + skipped_remove)

        return self._enqueue(vendor, apply)

    def _replace(self, vendor: str, body: bytes) -> httpx.Response:
        data = parse_json(body)
        if isinstance(data, httpx.Response):
            return data
        users = data.get("users")
        if users is not None and not strings(users):
            return error(422, "INVALID_PAYLOAD", "users must be an array of strings")
        if not users:
            return error(422, "EMPTY_PAYLOAD", "No users provided in the mutation request")

        def apply(record: Record) -> dict[str, int]:
            kept, skipped = valid(users)
            record.members = kept
            return result(len(kept), skipped)

        return self._enqueue(vendor, apply, replace=True)

    def _clear(self, vendor: str) -> httpx.Response:
        def apply(record: Record) -> dict[str, int]:
            record.members = set()
            return result(0, 0)

        return self._enqueue(vendor, apply)

    def _enqueue(
        self, vendor: str, apply: Callable[[Record], dict[str, int]], *, replace: bool = False
    ) -> httpx.Response:
        record = self.audiences.get(vendor)
        if record is None:
            return not_found()
        if record.status == "processing":
            return error(409, "MUTATION_IN_PROGRESS", "A mutation is already running")
        if replace:
            last = record.last_replace
            if last is not None and self.clock.now - last < REPLACE_WINDOW:
                wait = int(REPLACE_WINDOW - (self.clock.now - last)) + 1
                response = error(429, "RATE_LIMIT_EXCEEDED", "one replace per 12 hours")
                response.headers["Retry-After"] = str(wait)
                return response
            record.last_replace = self.clock.now
        record.status = "processing"
        record.updated = self.clock.now
        record.job = (self.clock.now + self.job_seconds, lambda: apply(record))
        return envelope(202, record)

    def _finish_due_jobs(self) -> None:
        for record in self.audiences.values():
            if record.job is None or record.job[0] > self.clock.now:
                continue
            _, run = record.job
            record.job = None
            record.updated = self.clock.now
            if self.fail_next_job:
                self.fail_next_job = False
                record.status = "failed"
                record.job_result = result(0, 0, errors=1)
                continue
            record.job_result = run()
            record.status = "ready"
            record.synced = self.clock.now

    # -- faults and log ----------------------------------------------------------------
    def _take_fault(self, request: httpx.Request) -> Fault | None:
        for fault in self.faults:
            if fault.method == request.method and fault.path_part in request.url.path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: Fault, request: httpx.Request) -> httpx.Response:
        if fault.error is not None:
            raise fault.error("injected", request=request)
        response = error(fault.status, fault.code, "injected") if fault.code else None
        response = response or httpx.Response(fault.status, text="<html>bad gateway</html>")
        response.headers.update(fault.headers)
        return response

    def _logged(
        self, request: httpx.Request, body: bytes, response: httpx.Response
    ) -> httpx.Response:
        params = dict(request.url.params)
        entry = Logged(
            request.method, request.url.path, params, len(body), response.status_code, body
        )
        self.log.append(entry)
        return response
