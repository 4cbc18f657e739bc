"""``custom-audiences serve``: the HTTP API (and, embedded, the mutation worker) on uvicorn."""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import Annotated

import typer

# Keep-alive connections idle longer than this are closed (uvicorn's default, made explicit).
KEEP_ALIVE_SECONDS = 5
# On SIGTERM/SIGINT, in-flight requests (a 10 MB upload included) get this long to finish.
GRACEFUL_SHUTDOWN_SECONDS = 30


WorkerOption = Annotated[
    bool | None,
    typer.Option(
        "--with-worker/--without-worker",
        help="Run the mutation worker in this process (env CUSTOM_AUDIENCES_EMBEDDED_WORKER;"
        " default: with on SQLite, without on PostgreSQL, where `worker` processes apply jobs).",
        show_default=False,
    ),
]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    with_worker: WorkerOption = None,
) -> None:
    """Run the API; on the embedded (SQLite) database the mutation worker runs in it too."""
    # The web stack is imported here, not at module level, so that `--help` stays fast.
    import uvicorn

    from custom_audiences.api.app import create_app
    from custom_audiences.cli.demo import demo_banner
    from custom_audiences.cli.http_protocol import bounded_protocol
    from custom_audiences.cli.logs import serve_log_config
    from custom_audiences.cli.output import describe, fail, load_settings, open_migrated_store
    from custom_audiences.services.admin import seed_demo
    from custom_audiences.worker.wakeups import open_wakeups

    settings = load_settings()
    if with_worker is not None:
        settings = replace(settings, embedded_worker=with_worker)
    store = open_migrated_store(settings.database_url)
    wakeups = open_wakeups(settings.database_url)
    try:
        try:
            app = create_app(settings, store, wakeups=wakeups)
        except ValueError as exc:  # e.g. a malformed CUSTOM_AUDIENCES_RATE_LIMIT
            fail(f"invalid configuration: {describe(exc)}")
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="uvloop",
            http=bounded_protocol(settings.read_timeout_seconds),
            lifespan="on",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            server_header=False,
            log_config=serve_log_config(),
        )
        # Bound before seeding, like the configuration checked above: a start that cannot
        # serve (bad setting, port in use) must not spend the one-time demo token.
        listening = config.bind_socket()
        if not settings.is_postgres:
            demo = seed_demo(store)
            if demo is not None:
                print(demo_banner(demo, host, port), flush=True)
        server = uvicorn.Server(config)
        _exit_quietly_after_graceful_shutdown()
        server.run(sockets=[listening])
        if not server.started:
            raise typer.Exit(3)
    finally:
        if wakeups is not None:
            wakeups.close()  # also done at shutdown, but a failed start never got there
        store.close()


def _exit_quietly_after_graceful_shutdown() -> None:
    """Make SIGTERM/SIGINT end the process with status 0 once uvicorn has shut down.

    uvicorn handles both signals while it serves, then re-raises the captured signal
    against the handlers it found installed; with these no-op handlers in place that
    re-raise is harmless, and the command returns normally (after closing the store).
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
