"""One command invocation: settings, the live-mode gate, the journal run, the venue registry.

The live gate is decided before any connection (`live_gate`): not live, refused (HEDGECTL_MODE=live without
--live, or no terminal without --yes), confirmed (--yes), or a typed confirmation owed. Most commands ask it
at once (`confirm_live`); a command that can plan first (bootstrap) asks it from its body with
`Session.confirm_live`, after every read and before the first order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hedgectl.cli.params import GlobalOptions
from hedgectl.errors import ConfigError, HedgectlError

if TYPE_CHECKING:
    from hedgectl.journal import Journal, RunRow
    from hedgectl.settings import Settings
    from hedgectl.venues.registry import Registry

log = logging.getLogger("hedgectl")
LIVE_PROMPT = "This will trade REAL MONEY. Type 'live' to continue"


@dataclass
class Outcome:
    """How a run ended, for the journal."""

    status: str = "ok"
    exit_code: int = 0
    net_pnl: Decimal | None = None
    volume: Decimal | None = None
    error: str | None = None


@dataclass
class Session:
    settings: Settings
    journal: Journal
    registry: Registry
    run_id: str
    outcome: Outcome = field(default_factory=Outcome)
    # The typed live confirmation still owed, asked with a summary of what is about to be sent; True to go
    # ahead. None: nothing to ask (not live, --yes, or already asked before the session opened).
    confirm_live: Callable[[str], Awaitable[bool]] | None = None
    ended: bool = False  # the run is over and journaled (set as the session closes)

    @property
    def mode(self) -> str:
        return self.registry.mode.value

    def open_per_journal(self) -> str | None:
        """What the run's journal says may be open (venue, symbol, signed quantity; unsettled orders by client
        order id): None if nothing (no order, or every leg filled and closed). Never asks a venue."""
        from hedgectl.cli.exposure_note import describe_open

        return describe_open(self.journal.orders(self.run_id))

    def closes_per_journal(self) -> str:
        """`open_per_journal` for a flatten: it cannot know from its journal that nothing is open."""
        from hedgectl.cli.exposure_note import describe_open

        return describe_open(self.journal.orders(self.run_id), flattening=True) or "positions may remain open"

    def record_abort(self, exit_code: int, message: str) -> None:
        """End the run in the journal as the third Ctrl+C leaves it: `aborted` while something may be open (exit
        3: the next command warns and `flatten --all` recovers it), `interrupted` when nothing is (exit 130)."""
        status = "aborted" if exit_code == 3 else "interrupted"
        self.journal.end_run(self.run_id, status=status, exit_code=exit_code, error=message)


def interrupted_outcome(session: Session) -> Outcome:
    """How a run ends when Ctrl+C reached it outside the command's own signal handling: exit 130 saying that no
    order was sent or that nothing is open, or exit 3 naming what the journal says may be open."""
    if not session.journal.orders(session.run_id):
        return Outcome(status="interrupted", exit_code=130, error="interrupted: no order was sent")
    open_now = session.open_per_journal()
    if open_now is None:
        return Outcome(status="interrupted", exit_code=130, error="interrupted: nothing is open (per the journal)")
    return Outcome(status="aborted", exit_code=3, error=f"interrupted: {open_now}; run `hedgectl flatten --all`")


def load(options: GlobalOptions) -> Settings:
    from hedgectl.cli import output
    from hedgectl.settings import CREDENTIAL_FIELDS, load_settings, misspelled_settings

    settings = load_settings(options.env_file, mode_override=options.mode)
    values = (getattr(settings, f) for fields in CREDENTIAL_FIELDS.values() for f in fields.values())
    output.STATE.secrets = frozenset(v.get_secret_value().strip() for v in values if v is not None)
    _warn_if_env_file_is_readable_by_others(options.env_file or Path(".env"))
    for warning in misspelled_settings(options.env_file):
        log.warning("%s", warning)
    return settings


@dataclass(frozen=True)
class LiveGate:
    """The live-mode gate's decision, made before any connection."""

    live: bool  # real money, and --live was given: the registry may build live venues
    ask: bool  # the typed confirmation is still owed (a terminal, no --yes)


def live_gate(settings: Settings, *, live: bool, yes: bool, mode_flag: bool = False) -> LiveGate:
    """Decide the live gate without asking anything; raise ConfigError when live mode is not allowed.

    `mode_flag`: the mode came from `--mode` (named in the refusal as what the user set), not HEDGECTL_MODE."""
    from hedgectl.domain.types import Mode

    mode = settings.effective_mode
    if mode is not Mode.LIVE:
        if live:
            log.warning("--live ignored: the mode is %s (set HEDGECTL_MODE=live for real money)", mode.value)
        return LiveGate(live=False, ask=False)
    if not live:
        chosen = "--mode live" if mode_flag else "HEDGECTL_MODE=live"
        raise ConfigError(f"{chosen} trades real money: add --live to this command to confirm")
    if yes:
        return LiveGate(live=True, ask=False)
    if not sys.stdin.isatty():
        raise ConfigError("live mode without a terminal needs --yes as well as --live")
    return LiveGate(live=True, ask=True)


def typed_confirmation(ask: Callable[[str], Any], text: str = LIVE_PROMPT) -> bool:
    """Ask for the word 'live'; True only if it was typed."""
    return str(ask(text)).strip().lower() == "live"


def confirm_live(settings: Settings, *, live: bool, yes: bool, ask: Any, mode_flag: bool = False) -> bool:
    """The live-mode gate, asked now: returns True when live trading was explicitly confirmed; raises otherwise."""
    gate = live_gate(settings, live=live, yes=yes, mode_flag=mode_flag)
    if gate.ask and not typed_confirmation(ask):
        raise ConfigError("live trading not confirmed")
    return gate.live


def deferred_confirmation(ask: Callable[[str], Any]) -> Callable[[str], Awaitable[bool]]:
    """The typed confirmation as a coroutine, for a command that asks it after planning.

    `ask` blocks on the terminal, so it runs in a daemon thread: the event loop keeps the venues' connections
    and order streams alive meanwhile, and a Ctrl+C (which the command turns into a stop) can abandon the
    question without the process waiting for a line that will never come.
    """
    import asyncio  # not at the top: `hedgectl --help` must not pay for it
    import threading

    async def confirm(summary: str) -> bool:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()

        def deliver(value: bool | BaseException) -> None:
            if answer.done():
                return
            if isinstance(value, BaseException):
                answer.set_exception(value)
            else:
                answer.set_result(value)

        def run() -> None:
            value: bool | BaseException
            try:
                value = typed_confirmation(ask, f"{summary}\n{LIVE_PROMPT}")
            except (EOFError, KeyboardInterrupt, typer.Abort):  # end of input: not confirmed
                value = False
            except Exception as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                value = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for the answer any more
                loop.call_soon_threadsafe(deliver, value)

        threading.Thread(target=run, name="hedgectl-live-confirmation", daemon=True).start()
        return await answer

    return confirm


def unfinished_runs(journal: Journal, *, exclude: str | None = None) -> list[RunRow]:
    """Runs that crashed (no end and their process is gone) after journaling an order, or left order intents
    unacknowledged."""
    out = []
    for run in journal.unfinished_runs(exclude=exclude):
        if run.ended_at is None and run.pid is not None and _alive(run.pid) and run.pid != os.getpid():
            continue  # still running in another process
        if not journal.orders(run.id):
            continue  # it never journaled an order intent, so it sent nothing: nothing can have been left open
        out.append(run)
    return out


@asynccontextmanager
async def open_session(
    settings: Settings,
    command: str,
    args: dict[str, Any],
    *,
    live_confirmed: bool,
    warn: Any,
    read_only: bool = False,
    needs_journal: bool = True,
) -> AsyncIterator[Session]:
    """Open the journal, record the run, build the registry; close all and end the run however it ends.

    Without `needs_journal`, an unusable HEDGECTL_HOME is a warning instead of a ConfigError.
    """
    from hedgectl.cli.paper import PaperSimulator
    from hedgectl.domain.types import Mode
    from hedgectl.journal import Journal
    from hedgectl.venues.registry import Registry

    try:
        journal = open_journal(settings)
        persist = True
    except ConfigError as exc:
        if needs_journal:
            raise
        # A command that needs no journal still runs; its run is kept in memory only (and so is the paper
        # account, which is read from the unusable home if it can be, never written back).
        warn(f"{exc}; this run is not recorded")
        journal = Journal(Path(":memory:"))
        persist = False
    # Paper mode is a URL for the registry: the simulator is started here, on the first venue built, and
    # stopped after the adapters are closed (a read-only command never writes the paper account back).
    paper = (
        PaperSimulator(settings, persist=persist and not read_only) if settings.effective_mode is Mode.PAPER else None
    )
    try:
        registry = Registry(settings, live_confirmed=live_confirmed, read_only=read_only, paper=paper)
    except BaseException:
        journal.close()
        raise
    from hedgectl.cli import output

    output.STATE.market = None
    if paper is not None:
        paper.on_market = _note_market
    for run in unfinished_runs(journal):
        pending = [o for o in journal.orders(run.id) if o.state in ("intent", "unknown")]
        detail = f" with {len(pending)} unacknowledged order(s)" if pending else ""
        warn(f"run {run.id} ({run.command}) did not finish{detail}: {_next_step(command, args)}")
    run_id = journal.start_run(command, registry.mode.value, args)
    session = Session(settings=settings, journal=journal, registry=registry, run_id=run_id)
    try:
        yield session
    except HedgectlError as exc:
        session.outcome = Outcome(status="error", exit_code=exc.exit_code, error=str(exc))
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl+C outside the command's own handling (starting up, or after it handed Ctrl+C back): a stop, said
        # with what the run's journal knows (run_command reports it).
        session.outcome = interrupted_outcome(session)
        raise
    except BaseException as exc:
        session.outcome = Outcome(status="error", exit_code=1, error=f"unexpected {type(exc).__name__}")
        raise
    else:
        session.ended = True
        _show_market(paper.market if paper is not None else None, session.outcome.exit_code)
    finally:
        try:
            try:
                await registry.aclose()
            finally:
                if paper is not None:
                    paper.stop()  # after the adapters: it saves the paper account and releases its lock
        finally:
            o = session.outcome
            journal.end_run(
                run_id, status=o.status, exit_code=o.exit_code, net_pnl=o.net_pnl, volume=o.volume, error=o.error
            )
            journal.close()


def _next_step(command: str, args: dict[str, Any]) -> str:
    """What to do about a run that did not finish, from the command now starting."""
    if command == "flatten" and args.get("dry_run"):
        return "what is open is listed below; `hedgectl flatten --all` closes it"
    if command == "flatten" and args.get("venues") == "all" and args.get("symbol") is None:
        return "this flatten closes what is open"
    return "check it with `hedgectl flatten --all --dry-run`"


def _note_market(label: str) -> None:
    """Paper mode: every JSON document of this command names the simulator's market source."""
    from hedgectl.cli import output

    output.STATE.market = label


def _show_market(label: str | None, exit_code: int) -> None:
    """After a paper command's output, one line saying which market it ran on (not in --json: a field there)."""
    from hedgectl.cli import output

    if label is None or exit_code != 0 or output.STATE.json_mode:
        return
    sys.stderr.write(f"paper market: {label}\n")
    sys.stderr.flush()


def open_journal(settings: Settings) -> Journal:
    """The journal in HEDGECTL_HOME (created when missing); a ConfigError naming the directory if unusable."""
    from hedgectl.journal import Journal

    return Journal(settings.ensure_state_dir() / "journal.sqlite")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _warn_if_env_file_is_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o): run `chmod 600 %s`", path, mode & 0o777, path)
