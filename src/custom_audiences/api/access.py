"""ASGI middleware on the audience routes: access checks before anything else happens.

It runs after routing (so ``app_id`` is known) and before the handler, which means before
a single byte of the body is read: an unauthenticated 11 MB upload is answered 401, not
413. Refusals are answered here; every response after authentication, errors included,
carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
(the Unix time, in whole seconds, at which the key's current window ends).

Routing comes first, so an unknown path (404 NOT_FOUND) or method (405) is answered
before authentication; both only restate the public API document.
"""

from __future__ import annotations

import anyio.to_thread
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from custom_audiences.api.errors import JSON, as_api_error, error_body
from custom_audiences.errors import ApiError
from custom_audiences.services.access import AccessGuard
from custom_audiences.services.rate_limit import RateStatus

RawHeaders = list[tuple[bytes, bytes]]


class AccessMiddleware:
    def __init__(self, app: ASGIApp, guard: AccessGuard) -> None:
        self._app = app
        self._guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        authorization = [
            value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"
        ]
        app_id = str(scope["path_params"].get("app_id", ""))
        try:
            # The key lookup and the limiter may both wait on a server: keep the loop free.
            decision = await anyio.to_thread.run_sync(self._guard.check, authorization, app_id)
        except Exception as exception:  # the store or the limiter's storage is down
            await _send_error(send, as_api_error(exception), [])
            return
        rate_headers = [] if decision.rate is None else _rate_headers(decision.rate)
        if decision.error is not None:
            await _send_error(send, decision.error, rate_headers)
            return

        async def send_with_rate_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *rate_headers]
            await send(message)

        await self._app(scope, receive, send_with_rate_headers)


def _rate_headers(rate: RateStatus) -> RawHeaders:
    return [
        (b"x-ratelimit-limit", str(rate.limit).encode()),
        (b"x-ratelimit-remaining", str(rate.remaining).encode()),
        (b"x-ratelimit-reset", str(rate.reset_at).encode()),
    ]


async def _send_error(send: Send, error: ApiError, extra_headers: RawHeaders) -> None:
    body = error_body(error)
    headers: RawHeaders = [
        (b"content-type", JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in error.headers().items()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
