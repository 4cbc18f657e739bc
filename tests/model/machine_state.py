"""The model's state and the rules that read members or run the worker (``ApiMachine`` adds
the rules that create, archive and mutate)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from .contract import PROCESSING_WARNING, ModelAudience, byte_order
from .harness import Caller, Harness, audience_path, expect_audience, expect_error
from .strategies import BAD_VENDOR_IDS, VENDOR_IDS, identifiers

vendor_ids = st.sampled_from(VENDOR_IDS + BAD_VENDOR_IDS[:2])
limits = st.one_of(
    st.integers(1, 5).map(str),
    st.sampled_from([None, "10000", "0", "10001", "-1", "x", "2.0", ""]),
)


def is_valid_limit(limit: str | None) -> bool:
    return limit is None or (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 10_000)


class ModelState(RuleBasedStateMachine):
    """The audiences as the contract says they are, and the queue of accepted jobs."""

    caller: Caller

    def __init__(self, harness: Harness) -> None:
        super().__init__()
        self.harness = harness
        self.active: dict[str, ModelAudience] = {}
        self.ids_seen: set[str] = set()
        self.queue: list[ModelAudience] = []  # accepted jobs, oldest first, as workers take them
        self.interval = 0
        self.bulk_created = 0

    def vendor_id(self, data: st.DataObject) -> str:
        """Mostly an active audience's vendor_id; sometimes any of the pool, or an impossible one.

        Audiences with members are favoured, and the bulk ones (there for paging) left out.
        """
        candidates = sorted(v for v in self.active if not v.startswith("bulk_"))
        populated = [v for v in candidates if self.active[v].members]
        choice = data.draw(st.integers(0, 5), label="choice")
        if populated and choice >= 3:
            return data.draw(st.sampled_from(populated), label="vendor_id")
        if candidates and choice >= 1:
            return data.draw(st.sampled_from(candidates), label="vendor_id")
        return data.draw(vendor_ids, label="vendor_id")

    def teardown(self) -> None:
        self.harness.drain()

    # -- members ----------------------------------------------------------------------
    @rule(limit=limits, data=st.data())
    def list_users(self, limit: str | None, data: st.DataObject) -> None:
        """One page after any cursor: byte order, exact has_more, the warning while busy."""
        vendor_id = self.vendor_id(data)
        model = self.active.get(vendor_id)
        members = byte_order(model.members) if model is not None else []
        cursor = data.draw(
            st.one_of(
                st.none(),
                st.just(""),
                identifiers,
                *([st.sampled_from(members)] if members else []),
            )
        )
        params = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
        response = self.caller.call("GET", audience_path(vendor_id, "/users"), params=params)
        if not is_valid_limit(limit):
            expect_error(response, 422, "VALIDATION_FAILED")
        elif model is None:
            expect_error(response, 404, "CUSTOM_AUDIENCE_NOT_FOUND")
        elif model.processing:
            assert response.status_code == 200, response.text
            assert response.json() == {
                "users": [],
                "next_cursor": None,
                "has_more": False,
                "warning": PROCESSING_WARNING,
            }
        else:
            assert response.status_code == 200, response.text
            users, more = model.page(cursor, int(limit or 1000))
            expected = {
                "users": users,
                "next_cursor": users[-1] if more else None,
                "has_more": more,
                "warning": None,
            }
            assert response.json() == expected

    @precondition(lambda self: any(not a.processing for a in self.active.values()))
    @rule(data=st.data(), limit=st.integers(1, 4))
    def walk_users(self, data: st.DataObject, limit: int) -> None:
        """Every member through the cursors, in small pages."""
        model = self.active.get(self.vendor_id(data))
        if model is not None and not model.processing:  # list_users covers the other answers
            self._walk(model, limit)

    def _walk(self, model: ModelAudience, limit: int) -> None:
        """Following next_cursor from the start yields every member once, in byte order."""
        seen: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        path = audience_path(model.vendor_id, "/users")
        for _ in range(len(model.members) // limit + 1):
            body = self.caller.call("GET", path, params=params).json()
            assert len(body["users"]) <= limit
            seen += body["users"]
            assert body["has_more"] == (len(seen) < len(model.members)), (seen, body)
            if not body["has_more"]:
                assert body["next_cursor"] is None
                break
            assert body["next_cursor"] == body["users"][-1]
            params["cursor"] = body["next_cursor"]
        assert seen == byte_order(model.members)

    # -- the worker -------------------------------------------------------------------
    @rule(limit=st.integers(1, 4))
    def run_worker(self, limit: int) -> None:
        """The worker applies the oldest accepted job, all of it; the members show it at once."""
        assert self.harness.worker.run_once() == bool(self.queue)
        if self.queue:
            model = self.queue.pop(0)
            model.apply()
            self._refresh(model, synced=True)
            self._walk(model, limit)

    @precondition(lambda self: bool(self.queue))
    @rule()
    def run_failing_worker(self) -> None:
        """A job whose apply fails leaves the membership as it was and the audience failed."""
        assert self.harness.failing_worker.run_once()
        model = self.queue.pop(0)
        model.fail()
        self._refresh(model, synced=False)

    def _refresh(self, model: ModelAudience, *, synced: bool) -> None:
        """Read the audience back: the new updated_at (and last_synced_at) are the server's."""
        response = self.caller.call("GET", audience_path(model.vendor_id))
        assert response.status_code == 200, response.text
        shown = response.json()["custom_audience"]
        assert shown["updated_at"] >= model.updated_at
        model.updated_at = shown["updated_at"]
        if synced:
            assert shown["last_synced_at"] == shown["updated_at"]
            model.last_synced_at = shown["last_synced_at"]
        expect_audience(response, 200, model)
