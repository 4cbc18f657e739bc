"""The state machine: random API calls and worker runs, each response checked against the model.

``ModelState`` holds the model, the member and worker rules; this adds the rest.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from .contract import (
    PAGE_SIZE,
    ModelAudience,
    PendingJob,
    add_remove_job,
    clear_job,
    replace_job,
    total_pages,
)
from .harness import (
    REPLACE_INTERVALS,
    Caller,
    audience_path,
    check_audience_body,
    expect_audience,
    expect_error,
)
from .machine_state import ModelState
from .strategies import (
    VENDOR_IDS,
    CreatePayload,
    Payload,
    add_remove_payloads,
    create_payloads,
    identifier_lists,
    identifiers,
    replace_payloads,
)

JSON = {"content-type": "application/json"}
pages = st.one_of(st.integers(1, 3).map(str), st.sampled_from(["0", "-1", "x", "1.5", ""]))
#: 0: leave the accepted job queued; n: run the worker, then read the members n at a time.
settles = st.integers(0, 4)


class ApiMachine(ModelState):
    """One fresh tenant per run, one replace interval per run, the worker run by hand."""

    # -- set-up -----------------------------------------------------------------------
    @initialize(
        interval=st.sampled_from(REPLACE_INTERVALS),
        vendor_ids=st.lists(st.sampled_from(VENDOR_IDS), min_size=1, max_size=3, unique=True),
    )
    def start(self, interval: int, vendor_ids: list[str]) -> None:
        self.harness.drain()
        self.interval = interval
        self.caller = Caller.fresh(self.harness.store, self.harness.clients[interval])
        for vendor_id in vendor_ids:
            self.create(vendor_id, vendor_id)

    # -- audiences --------------------------------------------------------------------
    @rule(payload=create_payloads())
    def create_any(self, payload: CreatePayload) -> None:
        """Any create body: 201, or 400/422 with one message naming each bad field."""
        response = self.caller.call("POST", content=payload.raw, headers=JSON)
        if payload.not_json:
            expect_error(response, 400, "INVALID_JSON")
        elif payload.bad_fields is None:
            expect_error(response, 422, "VALIDATION_FAILED")
        elif payload.bad_fields:
            messages = expect_error(response, 422, "VALIDATION_FAILED")
            assert len(messages) == len(payload.bad_fields), messages
            for name in payload.bad_fields:
                assert any(name in message for message in messages), (name, messages)
        else:
            self._created(response, payload.fields)

    @rule(vendor_id=st.sampled_from(VENDOR_IDS), name=st.text(min_size=1, max_size=8))
    def create(self, vendor_id: str, name: str) -> None:
        """A valid create: 201 with a fresh id, or 422 while the vendor_id is in use."""
        name = name.replace("\x00", "") or "n"
        fields = {"vendor_id": vendor_id, "name": name, "identifier_type": "anonymous_id"}
        response = self.caller.call("POST", json={"custom_audience": fields})
        self._created(response, fields)

    @precondition(lambda self: len(self.active) <= PAGE_SIZE)
    @rule(count=st.integers(20, 30))
    def create_many(self, count: int) -> None:
        """Enough audiences to cross the 25-per-page boundary."""
        for _ in range(count):
            self.bulk_created += 1
            fields = {"vendor_id": f"bulk_{self.bulk_created}", "name": "Bulk"}
            self._created(self.caller.call("POST", json={"custom_audience": fields}), fields)

    def _created(self, response: httpx.Response, fields: dict[str, Any]) -> None:
        vendor_id = fields["vendor_id"]
        if vendor_id in self.active:
            messages = expect_error(response, 422, "VALIDATION_FAILED")
            assert any("vendor_id" in message for message in messages), messages
            return
        assert response.status_code == 201, response.text
        body = response.json()["custom_audience"]
        model = ModelAudience(
            id=body["id"],
            vendor_id=vendor_id,
            name=fields["name"],
            identifier_type=fields.get("identifier_type", "user_id"),
            created_at=body["created_at"],
            updated_at=body["created_at"],
        )
        expect_audience(response, 201, model)
        assert model.id not in self.ids_seen, "an id was reused"
        self.ids_seen.add(model.id)
        self.active[vendor_id] = model

    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        """GET one audience: exactly the model, or 404 for absent and archived ones."""
        vendor_id = self.vendor_id(data)
        response = self.caller.call("GET", audience_path(vendor_id))
        model = self.active.get(vendor_id)
        if model is None:
            expect_error(response, 404, "CUSTOM_AUDIENCE_NOT_FOUND")
        else:
            expect_audience(response, 200, model)

    @rule(page=pages)
    def list_audiences(self, page: str) -> None:
        """A page of 25, oldest first, with exact totals; a bad page number is 422."""
        response = self.caller.call("GET", params={"page": page})
        if not page.isdigit() or int(page) < 1:
            expect_error(response, 422, "VALIDATION_FAILED")
            return
        assert response.status_code == 200, response.text
        ordered = sorted(self.active.values(), key=lambda a: (a.created_at, a.id))
        number = int(page)
        expected = ordered[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        body = response.json()
        assert set(body) == {"custom_audiences", "meta"}
        assert [a["id"] for a in body["custom_audiences"]] == [a.id for a in expected]
        for shown, model in zip(body["custom_audiences"], expected, strict=True):
            check_audience_body(shown, model)
        assert body["meta"] == {
            "page": number,
            "per_page": PAGE_SIZE,
            "total_count": len(ordered),
            "total_pages": total_pages(len(ordered)),
        }

    @rule(data=st.data())
    def archive(self, data: st.DataObject) -> None:
        """DELETE: the audience as it was, then gone and its vendor_id free; 409 if busy."""
        vendor_id = self.vendor_id(data)
        response = self.caller.call("DELETE", audience_path(vendor_id))
        model = self.active.get(vendor_id)
        if model is None:
            expect_error(response, 404, "CUSTOM_AUDIENCE_NOT_FOUND")
        elif model.processing:
            expect_error(response, 409, "CANNOT_ARCHIVE_WHILE_PROCESSING")
        else:
            expect_audience(response, 200, model)  # as it was just before
            del self.active[vendor_id]

    # -- mutations --------------------------------------------------------------------
    @rule(data=st.data(), payload=add_remove_payloads, settle=settles)
    def add_remove(self, data: st.DataObject, payload: Payload, settle: int) -> None:
        """Add and/or remove, with duplicates, overlaps and invalid identifiers."""
        vendor_id = self.vendor_id(data)
        response = self._send_mutation("POST", vendor_id, "/users", payload.raw)
        job = add_remove_job(payload.lists.get("add", []), payload.lists.get("remove", []))
        self._expect_mutation(response, vendor_id, payload.problem, job, settle)

    @rule(data=st.data(), payload=replace_payloads, settle=settles)
    def replace(self, data: st.DataObject, payload: Payload, settle: int) -> None:
        """Replace all users (429 within the interval of an accepted one)."""
        vendor_id = self.vendor_id(data)
        response = self._send_mutation("PUT", vendor_id, "/users/replace", payload.raw)
        job = replace_job(payload.lists.get("users", []))
        self._expect_mutation(response, vendor_id, payload.problem, job, settle)

    @rule(data=st.data(), settle=settles)
    def clear(self, data: st.DataObject, settle: int) -> None:
        """Clear all users."""
        vendor_id = self.vendor_id(data)
        response = self.caller.call("DELETE", audience_path(vendor_id, "/users/clear"))
        self._expect_mutation(response, vendor_id, None, clear_job(), settle)

    @precondition(
        lambda self: (
            self.interval > 0 and any(a.replaced and not a.processing for a in self.active.values())
        )
    )
    @rule(data=st.data(), users=identifier_lists.filter(bool))
    def replace_within_interval(self, data: st.DataObject, users: list[str]) -> None:
        """A second replace of an audience within the interval: 429, and nothing changes."""
        candidates = sorted(v for v, a in self.active.items() if a.replaced and not a.processing)
        vendor_id = data.draw(st.sampled_from(candidates))
        response = self.caller.call(
            "PUT", audience_path(vendor_id, "/users/replace"), json={"users": users}
        )
        self._expect_mutation(response, vendor_id, None, replace_job(users))
        assert response.status_code == 429

    @precondition(lambda self: any(a.processing for a in self.active.values()))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["add", "replace", "clear", "archive"]),
        user=identifiers,
    )
    def mutate_while_processing(self, data: st.DataObject, kind: str, user: str) -> None:
        """Any mutation or archive of a processing audience is 409 and changes nothing."""
        vendor_id = data.draw(
            st.sampled_from(sorted(v for v, a in self.active.items() if a.processing))
        )
        if kind == "add":
            response = self.caller.call(
                "POST", audience_path(vendor_id, "/users"), json={"add": [user]}
            )
        elif kind == "replace":
            response = self.caller.call(
                "PUT", audience_path(vendor_id, "/users/replace"), json={"users": [user]}
            )
        elif kind == "clear":
            response = self.caller.call("DELETE", audience_path(vendor_id, "/users/clear"))
        else:
            response = self.caller.call("DELETE", audience_path(vendor_id))
            expect_error(response, 409, "CANNOT_ARCHIVE_WHILE_PROCESSING")
            return
        expect_error(response, 409, "MUTATION_IN_PROGRESS")

    def _send_mutation(
        self, method: str, vendor_id: str, suffix: str, raw: bytes
    ) -> httpx.Response:
        return self.caller.call(method, audience_path(vendor_id, suffix), content=raw, headers=JSON)

    def _expect_mutation(
        self,
        response: httpx.Response,
        vendor_id: str,
        problem: tuple[int, str] | None,
        job: PendingJob,
        settle: int = 0,
    ) -> None:
        """Checks in contract order: the audience (404), the body (400, 422), a pending job
        (409), the replace interval (429). ``settle``: if accepted, run the worker (page size)."""
        model = self.active.get(vendor_id)
        if model is None:
            expect_error(response, 404, "CUSTOM_AUDIENCE_NOT_FOUND")
        elif problem is not None:
            expect_error(response, *problem)
        elif model.processing:
            expect_error(response, 409, "MUTATION_IN_PROGRESS")
        elif job.kind == "replace" and self.interval > 0 and model.replaced:
            expect_error(response, 429, "RATE_LIMIT_EXCEEDED")
            assert 1 <= int(response.headers["retry-after"]) <= self.interval
        else:
            assert response.status_code == 202, response.text
            updated_at = response.json()["custom_audience"]["updated_at"]
            assert updated_at >= model.updated_at
            model.updated_at = updated_at
            model.accept(job)
            expect_audience(response, 202, model)  # user_count and result still the old ones
            self.queue.append(model)
            if settle:
                self.run_worker(settle)
