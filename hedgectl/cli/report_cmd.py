"""`hedgectl report`: one self-contained HTML page (or, with --json, the data) of runs from the journal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output

if TYPE_CHECKING:
    from hedgectl.journal import Journal, RunRow

HELP = (
    "Build a self-contained HTML report (no network needed to view it) of runs from the journal: PnL over time "
    "split into price, fees and funding, fills on both venues' prices, latency, hedge reaction times, a carry's "
    "basis, funding spread, delta and re-hedges, and a "
    "table and totals over the runs. Default: the most recent run that placed orders."
)


def report(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[RUN]...", help="Run ids from `hedgectl history`.", show_default=False),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Every run started at or after this UTC date/time (ISO).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="With --since: runs started before this.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The HTML file to write (default: ./hedgectl-report-<run>.html)."),
    ] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open the written file in the default browser.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the report's data as one JSON document (the page only with --out).")
    ] = False,
) -> None:
    from hedgectl.cli import render
    from hedgectl.cli.common import announce_read_only, options
    from hedgectl.cli.history_cmd import _when
    from hedgectl.cli.session import load, open_journal
    from hedgectl.clock import SystemClock
    from hedgectl.errors import UsageError
    from hedgectl.report.series import build_report

    output.set_json_mode(json_out)
    if run_ids and (since or until):
        raise UsageError("name runs or give --since/--until, not both")
    start, end = _when("--since", since), _when("--until", until)
    if start and end and end <= start:
        raise UsageError("--until must be after --since")
    if open_it and json_out and out is None:
        raise UsageError("--open needs a page: give --out with --json")
    settings = load(options(ctx))
    announce_read_only(settings)
    journal = open_journal(settings)
    try:
        runs = _select(journal, run_ids or [], start, end)
        document = build_report(journal, runs, SystemClock().now()).document()
    finally:
        journal.close()
    path = None
    if out is not None or not json_out:
        path = out or Path(
            f"hedgectl-report-{runs[0].id}.html"
            if len(runs) == 1
            else f"hedgectl-report-{runs[-1].id}-{len(runs)}-runs.html"
        )
        size = _write(path, document)
    if json_out:
        output.emit_document({**document, "out": str(path) if path else None})
    elif path is not None:
        render.line(f"report of {len(runs)} run(s) written to {path} ({size / 1e6:.1f} MB, self-contained)")
    if open_it and path is not None:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            render.warn(f"no browser could be started: open {path} yourself")


def _select(journal: Journal, run_ids: list[str], start: Any, end: Any) -> list[RunRow]:
    """The runs to report, oldest first; a usage error naming what matched nothing."""
    from hedgectl.errors import UsageError

    if run_ids:
        runs = []
        for run_id in dict.fromkeys(run_ids):
            run = journal.run(run_id)
            if run is None:
                raise UsageError(f"no run {run_id!r} in the journal (see `hedgectl history`)")
            runs.append(run)
        return sorted(runs, key=lambda r: (r.started_at, r.id))
    if start is not None or end is not None:
        runs = [r for r in journal.runs(None, since=start, until=end) if not r.read_only]
        if not runs:
            period = f"{start.isoformat() if start else 'the first run'} .. {end.isoformat() if end else 'now'}"
            raise UsageError(f"no runs in the journal started in {period} (see `hedgectl history`)")
        return runs[::-1]
    latest = next((r for r in journal.runs(None) if journal.orders(r.id)), None)
    if latest is None:
        raise UsageError("no run in the journal has placed an order yet: nothing to report")
    return [latest]


def _write(path: Path, document: dict[str, Any]) -> int:
    """Write the page next to `path` and move it into place (a reader never sees half a file); its size."""
    import os
    import tempfile

    import plotly.offline

    from hedgectl.errors import UsageError
    from hedgectl.report.page import render_html

    page = render_html(document, plotly.offline.get_plotlyjs()).encode()
    target = path.expanduser()
    try:
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a directory")
        fd, tmp = tempfile.mkstemp(prefix=".hedgectl-report-", suffix=".tmp", dir=target.parent.resolve())
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(page)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    return len(page)
