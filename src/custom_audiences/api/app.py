"""The composition root: settings and a store in, a ready Litestar application out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import anyio.to_thread
import msgspec
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.types import ASGIApp

from custom_audiences.api.access import AccessMiddleware
from custom_audiences.api.audience_routes import AUDIENCE_HANDLERS
from custom_audiences.api.errors import handle_exception
from custom_audiences.api.member_routes import MEMBER_HANDLERS
from custom_audiences.api.openapi import build_openapi
from custom_audiences.api.operations import AUDIENCES
from custom_audiences.api.system_routes import SYSTEM_HANDLERS
from custom_audiences.config import MAX_BODY_BYTES, Settings
from custom_audiences.services.container import Services, build_services
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker
from custom_audiences.worker.wakeups import Wakeups

# How long shutdown waits for the embedded worker to finish the job in hand.
WORKER_STOP_SECONDS = 60.0


def create_app(settings: Settings, store: Store, *, wakeups: Wakeups | None = None) -> Litestar:
    """Build the API; with ``settings.runs_embedded_worker`` it also runs the worker.

    ``wakeups`` (PostgreSQL) tells workers in other processes about each accepted mutation;
    the app closes it when it shuts down.
    """
    worker = _embedded_worker(settings, store, wakeups) if settings.runs_embedded_worker else None
    services = build_services(settings, store, on_accepted=_on_accepted(worker, wakeups))
    openapi_json = msgspec.json.encode(build_openapi())

    def provide_services() -> Services:
        return services

    def provide_openapi() -> bytes:
        return openapi_json

    def access_checks(app: ASGIApp) -> ASGIApp:
        # A closure, not DefineMiddleware(kwargs): Litestar deep-copies routers and their
        # middleware arguments, and the store behind the guard must stay one object.
        return AccessMiddleware(app, services.access)

    audiences = Router(
        path=AUDIENCES.replace("{app_id}", "{app_id:str}"),
        route_handlers=[*AUDIENCE_HANDLERS, *MEMBER_HANDLERS],
        middleware=[access_checks],
    )
    return Litestar(
        route_handlers=[audiences, *SYSTEM_HANDLERS],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "openapi_json": Provide(provide_openapi, sync_to_thread=False),
        },
        exception_handlers={Exception: handle_exception},
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[_running(worker, wakeups)],
        # Our own document is served at /openapi.json; Litestar's would describe less.
        openapi_config=None,
        # Logging is the process's business (the CLI configures it), not the app's.
        logging_config=None,
    )


def _embedded_worker(settings: Settings, store: Store, wakeups: Wakeups | None) -> Worker:
    return Worker(
        store,
        lease=timedelta(seconds=settings.worker_lease_seconds),
        poll_interval=settings.worker_poll_seconds,
        wakeups=wakeups,
    )


def _on_accepted(worker: Worker | None, wakeups: Wakeups | None) -> Callable[[], None]:
    """After an accepted mutation: wake this process's worker and tell the others."""
    hooks: list[Callable[[], None]] = []
    if worker is not None:
        hooks.append(worker.wake)
    if wakeups is not None:
        hooks.append(wakeups.notify)

    def wake_workers() -> None:
        for hook in hooks:
            hook()

    return wake_workers


def _running(
    worker: Worker | None, wakeups: Wakeups | None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The lifespan as a factory: Litestar makes a fresh context manager per startup, so the
    app can be started again after a shutdown (a context manager object enters only once)."""

    @asynccontextmanager
    async def run_worker(_app: Litestar) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop, WORKER_STOP_SECONDS)
            if wakeups is not None:
                wakeups.close()

    return run_worker
