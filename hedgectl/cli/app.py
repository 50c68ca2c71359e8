"""The root Typer app: global options, command registration, and the one place errors become exit codes.

Exit codes: 0 done and flat; 1 failed but flat; 2 usage or config error; 3 exposure remains;
4 the circuit breaker is tripped (nothing that opens exposure runs); 130 interrupted by the user (after
flattening). A command's module is imported only when that command runs (`_Commands`, lazy_group.py), and
heavy modules (the venues, the simulator, pydantic) inside the command, so that every process pays for its own
command alone; tests/e2e/test_cli_start_imports.py holds it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hedgectl import __version__
from hedgectl.cli.lazy_group import LazyCommand, LazyTyperGroup
from hedgectl.errors import HedgectlError


class _Commands(LazyTyperGroup):
    """Every command, its module imported only when it runs (or `--help`/completion lists it).

    The order is the listing's: Typer lists single commands before groups.
    """

    LAZY = (
        LazyCommand("connect", "hedgectl.cli.connect_cmd", "connect"),
        LazyCommand("prices", "hedgectl.cli.prices_cmd", "prices"),
        LazyCommand("positions", "hedgectl.cli.positions_cmd", "positions"),
        LazyCommand("bootstrap", "hedgectl.cli.bootstrap_cmd", "bootstrap"),
        LazyCommand("flatten", "hedgectl.cli.flatten_cmd", "flatten"),
        LazyCommand("carry", "hedgectl.cli.carry_cmd", "carry"),
        LazyCommand("scan", "hedgectl.cli.scan_cmd", "scan"),
        LazyCommand("report", "hedgectl.cli.report_cmd", "report"),
        LazyCommand("breaker", "hedgectl.cli.breaker_cmd", "breaker_app"),
        LazyCommand("bp-aster", "hedgectl.cli.bp_aster_cmd", "bp_aster_app"),
        LazyCommand("history", "hedgectl.cli.history_cmd", "history_app"),
        LazyCommand("sim", "hedgectl.cli.sim_cmd", "sim_app"),
    )


app = typer.Typer(
    name="hedgectl",
    help="Open and close hedged perpetual-futures positions across two exchanges, safely.",
    cls=_Commands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hedgectl {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="Read settings from this file instead of ./.env.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="paper (default), testnet or live; overrides HEDGECTL_MODE.")
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Debug logs and tracebacks on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """hedgectl: hedged perp positions across Binance, OKX, Backpack and Aster (paper mode by default)."""
    from hedgectl.cli.params import GlobalOptions

    _configure_logging(verbose)
    ctx.obj = GlobalOptions(env_file=env_file, mode=mode, verbose=verbose)


_verbose = False


def _configure_logging(verbose: bool) -> None:
    global _verbose
    _verbose = verbose
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MaskingFormatter("%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"))
    root_logger = logging.getLogger()
    root_logger.handlers[:] = [handler]
    root_logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Request URLs carry signatures; never log them, even with -v.
    for noisy in ("httpx", "httpcore", "ccxt", "aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


VERBOSE_FLAGS = ("-v", "--verbose")


def hoist_verbose(argv: list[str]) -> list[str]:
    """Accept -v/--verbose after the subcommand too: click only parses it before, as the root's option."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in VERBOSE_FLAGS]
    if not flags:
        return argv
    return [flags[0], *(a for a in argv[:end] if a not in VERBOSE_FLAGS), *argv[end:]]


class _MaskingFormatter(logging.Formatter):
    """Masks this invocation's credential values (and URL query strings) in every log line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        from hedgectl.cli import output
        from hedgectl.venues.kit.transport import scrub

        return scrub(super().format(record), tuple(output.STATE.secrets))


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn every failure into one line on stderr and a documented exit code."""
    from hedgectl.cli import output as out

    if argv is None and not isinstance(sys.stdout, out.ClosedPipeSafe):  # this process's own streams
        sys.stdout, sys.stderr = out.ClosedPipeSafe(sys.stdout), out.ClosedPipeSafe(sys.stderr)
    # A fresh invocation: main may run more than once in one process (tests, embedding).
    out.STATE.json_mode = out.STATE.emitted = out.STATE.live = False
    out.STATE.secrets = frozenset()
    try:
        args = hoist_verbose(sys.argv[1:] if argv is None else argv)
        # Known before click parses anything, so that a bad flag is reported as a JSON document too.
        out.STATE.json_mode = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        result = app(args=args, prog_name="hedgectl", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except HedgectlError as exc:
        if _verbose and (exc.__cause__ is not None or exc.__context__ is not None):
            from hedgectl.venues.kit.transport import exception_chain

            logging.getLogger("hedgectl").debug("caused by: %s", exception_chain(exc))
        _report(str(exc), exc.exit_code)
        code = exc.exit_code
    except typer.Abort:
        _report("aborted", 130)
        code = 130
    except typer.TyperException as exc:  # click's usage errors, as typer (which vendors click) raises them
        code = _report_click_error(exc)
    except KeyboardInterrupt:
        _report("interrupted", 130)
        code = 130
    except Exception as exc:
        if _verbose:
            logging.getLogger("hedgectl").exception("internal error")
        _report(f"internal error: {type(exc).__name__} (run with -v for details)", 1)
        code = 1
    if argv is None:  # this process's own command line (tests call main in-process with argv)
        import signal

        # The command is over, its outcome printed and journaled: a late Ctrl+C or SIGTERM while the
        # interpreter shuts down must not turn the exit code into a death by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)


def _report_click_error(exc: Any) -> int:
    """A usage error found by click (unknown option, bad value, missing command): one line, exit 2."""
    code = int(getattr(exc, "exit_code", 2))
    if type(exc).__name__ == "NoArgsIsHelpError":
        # The message is the help; typer's rich help has already printed itself and leaves it empty.
        if exc.format_message():
            exc.show()
        return code
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    _report(f"{exc.format_message()}{hint}", code)
    return code


def _report(message: str, code: int) -> None:
    from hedgectl.cli import output as out

    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    # A stop the user asked for (130) is no error: "interrupted: ...", as the command's own stops say it.
    sys.stderr.write(f"{first_line}\n" if code == 130 else f"error: {first_line}\n")
    if out.STATE.json_mode and not out.STATE.emitted:
        out.emit_document({"ok": False, "error": first_line, "exit_code": code})
