"""``custom-audiences sync``: make a custom audience's membership equal to a file of identifiers.

Exit codes: 0 done (also when nothing had to change); 1 usage or input error (a missing
option, an unreadable source, an unknown CSV column, a source without any valid
identifier); 2 the API refused the request or could not be reached; 130 interrupted.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from custom_audiences.client import (
    Client,
    CustomAudiencesError,
    SourceError,
    SourceFormat,
    SyncInterrupted,
    SyncMode,
    SyncOptions,
    SyncRefused,
    SyncReport,
    open_identifiers,
    sync_audience,
)
from custom_audiences.client.syncing.report import COMPARE, READ, SEND, WAIT, Progress

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

EXIT_INPUT = 1
EXIT_API = 2
EXIT_INTERRUPTED = 130
_PHASES = {READ: "reading", COMPARE: "comparing", SEND: "sending", WAIT: "waiting"}


def sync_command(
    vendor_id: Annotated[
        str | None,
        typer.Argument(metavar="VENDOR_ID", help="The audience's vendor_id.", show_default=False),
    ] = None,
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="SOURCE",
            help="File of identifiers, or - for stdin: text, CSV or JSON Lines, gzipped or not.",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="The server, e.g. https://api.example.com.")
    ] = None,
    app: Annotated[str | None, typer.Option("--app", help="The app id (app_...).")] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="CUSTOM_AUDIENCES_API_KEY", help="The API token."),
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the audience if missing (with --name).")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Name of a created audience.")] = None,
    column: Annotated[
        str | None,
        typer.Option("--column", help="CSV column (header name or 1-based number) or JSON key."),
    ] = None,
    mode: Annotated[
        SyncMode, typer.Option("--mode", help="diff, replace, or auto: the cheaper.")
    ] = SyncMode.AUTO,
    source_format: Annotated[
        SourceFormat, typer.Option("--format", help="Source format; auto detects it.")
    ] = SourceFormat.AUTO,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; send no mutation.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Let a source without ids empty the audience.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")
    ] = False,
) -> None:
    """Sync a custom audience to the identifiers of SOURCE, sending only what changed.

    Exit codes: 0 done, 1 usage or input error, 2 API error, 130 interrupted.

    Ctrl-C stops after the request in flight; running the same command again converges.
    """
    # Checked here rather than by click so that a usage error exits 1, not click's 2.
    if not (vendor_id and source and url and app and api_key):
        required = {
            "VENDOR_ID": vendor_id,
            "SOURCE": source,
            "--url": url,
            "--app": app,
            "--api-key (or CUSTOM_AUDIENCES_API_KEY)": api_key,
        }
        missing = ", ".join(flag for flag, value in required.items() if not value)
        _fail(EXIT_INPUT, f"missing {missing} (see --help)")
    if create and not name:
        _fail(EXIT_INPUT, "--create needs --name NAME")
    if not url.startswith(("http://", "https://")):
        _fail(EXIT_INPUT, f"--url must start with http:// or https://, not {url!r}")
    options = SyncOptions(mode, dry_run, name if create else None, allow_empty=allow_empty)
    client = Client(url, app, api_key)
    report = _run(client, vendor_id, source, source_format, column, options, json_output)
    _print_report(report, json_output)


def _run(
    client: Client,
    vendor_id: str,
    source: str,
    source_format: SourceFormat,
    column: str | None,
    options: SyncOptions,
    json_output: bool,
) -> SyncReport:
    try:
        with (
            client,
            open_identifiers(source, format=source_format, column=column) as opened,
            _StopOnInterrupt() as stop,
            _ProgressDisplay() as show,
        ):
            return sync_audience(
                client, vendor_id, opened.items, options, on_progress=show, should_stop=stop
            )
    except (SourceError, SyncRefused) as exc:
        _fail(EXIT_INPUT, str(exc))
    except CustomAudiencesError as exc:
        _fail(EXIT_API, str(exc))
    except SyncInterrupted as exc:
        # The partial summary goes where the final one would, or to stderr for a human.
        _print_report(exc.report, json_output, err=not json_output)
        _fail(EXIT_INTERRUPTED, "interrupted; run the same command again to finish")
    except KeyboardInterrupt:
        _fail(EXIT_INTERRUPTED, "interrupted; run the same command again to finish")


class _StopOnInterrupt:
    """First Ctrl-C: finish the request in flight, then stop. A second one stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def __enter__(self) -> _StopOnInterrupt:
        # Signal handlers can only be set from the main thread (tests may call from others).
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        typer.echo("stopping after the request in flight (Ctrl-C again to abort)", err=True)


class _ProgressDisplay:
    """Progress on stderr: a rich bar on a terminal, else one plain line per step."""

    def __init__(self) -> None:
        self._bar: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Callable[[Progress], None]:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as Bar

            self._bar = Bar(console=Console(stderr=True), transient=True)
            self._bar.start()
            return self._show_bar
        return _show_line

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _show_bar(self, event: Progress) -> None:
        assert self._bar is not None
        task = self._tasks.get(event.phase)
        if task is None:
            task = self._tasks[event.phase] = self._bar.add_task(
                _PHASES[event.phase], total=event.total
            )
        self._bar.update(task, completed=event.done, total=event.total)


def _show_line(event: Progress) -> None:
    if event.phase == SEND and event.done and not event.finished:
        typer.echo(f"sent {event.done:,} of {event.total or 0:,} identifiers", err=True)
    elif event.phase == WAIT:
        typer.echo("waiting for the audience's running mutation", err=True)
    elif event.finished and event.phase == READ:
        typer.echo(f"read {event.done:,} entries", err=True)
    elif event.finished and event.phase == COMPARE:
        typer.echo(f"compared {event.done:,} current members", err=True)


def _print_report(report: SyncReport, json_output: bool, *, err: bool = False) -> None:
    if json_output:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    for line in summary_lines(report):
        typer.echo(line, err=err)


def summary_lines(report: SyncReport) -> list[str]:
    """The human-readable summary of a sync."""
    plan = " (dry run: nothing sent)" if report.dry_run else ""
    created = ", created" if report.created else ""
    lines = [f"custom audience {report.vendor_id}: {report.mode}{created}{plan}"]
    lines.append(
        f"  source    {report.entries:,} entries: {report.valid:,} distinct valid, "
        f"{report.duplicates:,} duplicates, {report.skipped:,} skipped"
    )
    for reason, count in sorted(report.rejections.counts.items()):
        samples = ", ".join(
            f"line {s.line}: {s.value!r}" for s in report.rejections.samples[reason]
        )
        lines.append(f"  skipped   {reason}: {count:,} (e.g. {samples})")
    if report.added is not None:
        lines.append(
            f"  changes   +{report.added:,} added, -{report.removed or 0:,} removed, "
            f"{report.unchanged or 0:,} unchanged"
        )
    if report.user_count is not None:
        lines.append(f"  audience  {report.user_count:,} users")
    verb = "to send" if report.dry_run else "sent"
    lines.append(
        f"  requests  {report.requests:,} in all, {report.planned_requests:,} mutations {verb}; "
        f"{report.bytes_sent / 1e6:.1f} MB sent in {report.seconds:.1f} s"
    )
    lines.extend(f"  note      {note}" for note in report.notes)
    return lines


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
