"""Running one command: settings, the live gate, the session, asyncio.run, the exit code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from hedgectl.cli import output
from hedgectl.cli.params import GlobalOptions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hedgectl.cli.session import Session
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.settings import Settings
    from hedgectl.venues.base import Venue

T = TypeVar("T")


def options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def run_command(
    ctx: typer.Context,
    command: str,
    args: dict[str, Any],
    body: Callable[[Session], Awaitable[int]],
    *,
    json_mode: bool,
    live: bool = False,
    yes: bool = False,
    confirm_in_body: bool = False,
    read_only: bool = False,
    needs_journal: bool = True,
) -> None:
    """Load settings, pass the live gate, open a journaled session and run `body` in it; exit with its code.

    The live gate is decided before any connection. Its typed confirmation is asked here, unless
    `confirm_in_body`: then `body` must ask it (`session.confirm_live`, set when one is owed) before its first
    order - after planning, so that the user confirms what is about to be sent, on warm connections.

    A `read_only` command has no gate: it runs in live mode without --live, under the LIVE banner, and its
    venues refuse every order operation (registry.ReadOnlyVenue).
    """

    sessions: list[Session] = []
    try:
        code = _run(ctx, command, args, body, sessions, json_mode, live, yes, confirm_in_body, read_only, needs_journal)
    except KeyboardInterrupt:
        # Ctrl+C outside the command's own handling (typer would turn it into a silent exit 130): one line; after
        # the command's session ended, its own outcome stands (already printed and journaled).
        if sessions and sessions[0].ended:
            raise typer.Exit(sessions[0].outcome.exit_code) from None
        raise _interrupted(sessions) from None
    raise typer.Exit(code)


def _interrupted(sessions: list[Session]) -> Exception:
    from hedgectl.errors import ExposureRemains, Interrupted

    note = sessions[0].outcome.error if sessions else None
    if note is None:
        return Interrupted(Interrupted.STARTING)
    if sessions[0].outcome.exit_code == 3:
        return ExposureRemains(note, {})
    return Interrupted(note)


def _run(
    ctx: typer.Context,
    command: str,
    args: dict[str, Any],
    body: Callable[[Session], Awaitable[int]],
    sessions: list[Session],
    json_mode: bool,
    live: bool,
    yes: bool,
    confirm_in_body: bool,
    read_only: bool,
    needs_journal: bool,
) -> int:
    from hedgectl.cli import render
    from hedgectl.cli.session import LiveGate, confirm_live, deferred_confirmation, live_gate, load, open_session

    output.set_json_mode(json_mode)
    settings = load(options(ctx))
    mode_flag = options(ctx).mode is not None  # the refusal names what the user set: --mode or HEDGECTL_MODE
    if read_only:
        announce_read_only(settings)
        gate = LiveGate(live=False, ask=False)
    elif confirm_in_body:
        gate = live_gate(settings, live=live, yes=yes, mode_flag=mode_flag)
    else:
        confirmed = confirm_live(settings, live=live, yes=yes, ask=typer.prompt, mode_flag=mode_flag)
        gate = LiveGate(live=confirmed, ask=False)

    async def main() -> int:
        async with open_session(
            settings,
            command,
            args,
            live_confirmed=gate.live,
            read_only=read_only,
            needs_journal=needs_journal,
            warn=render.warn,
        ) as s:
            sessions.append(s)
            if gate.ask and confirm_in_body:
                s.confirm_live = deferred_confirmation(typer.prompt)
            code = await body(s)
            s.outcome.exit_code = code
            if code != 0 and s.outcome.status == "ok":
                s.outcome.status = "failed"
            return code

    return run_bounded(main())


def announce_read_only(settings: Settings) -> None:
    """In live mode, show that this read-only command reads real-money accounts (stderr, and "live" in --json)."""
    from hedgectl.domain.types import Mode

    if settings.effective_mode is Mode.LIVE:
        from hedgectl.cli import render

        output.STATE.live = True
        render.live_banner("mode: real-money accounts, read only - this command sends no orders")


async def require_listed(venues: Sequence[Venue], symbol: str, *, everywhere: bool) -> list[str]:
    """An unknown symbol is a usage error (exit 2), like an unknown venue; asked before anything is sent.

    `everywhere`: every venue must list it (a trade's legs); else one venue listing it is enough (a survey,
    a flatten), and the venues that do not list it are returned.
    Other failures (a venue down) are left to the command, which reports them its own way.
    """
    import asyncio

    from hedgectl.errors import SymbolNotListed, UsageError

    answers = await asyncio.gather(*(v.market(symbol) for v in venues), return_exceptions=True)
    missing = [v.name for v, answer in zip(venues, answers, strict=True) if isinstance(answer, SymbolNotListed)]
    if missing and (everywhere or len(missing) == len(venues)):
        raise UsageError(f"unknown symbol {symbol!r}: not listed on {', '.join(missing)}")
    return missing


async def legs_listed(session: Session, interrupts: Interrupts, venues: Sequence[Venue], symbol: str) -> bool:
    """A trading command's first step: every leg's venue lists `symbol` (else a usage error, exit 2).

    Asked with the command's interrupts installed, so the market reads behind it honour a signal too: False when a
    stop came first (the run's outcome is then `interrupted` and the user is told no order was sent: exit 130).
    """
    from hedgectl.cli import render

    listed = await interrupts.unless_stopped(require_listed(venues, symbol, everywhere=True))
    if listed is None:
        session.outcome.status = "interrupted"
        render.warn("interrupted while checking the venues: no order was sent")
        return False
    listed.result()
    return True


def run_bounded(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, with a bounded end: tasks still running when `main` returns (or fails) are cancelled and
    get STOP_TIMEOUT_S to end, then are abandoned; asyncio.run would wait for them forever."""
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            loop.run_until_complete(_wind_down(loop))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _wind_down(loop: Any) -> None:
    import asyncio
    import contextlib

    from hedgectl.aio import STOP_TIMEOUT_S, stop_tasks, within

    await stop_tasks(asyncio.all_tasks(loop), what="leftover task")
    with contextlib.suppress(TimeoutError):
        await within(loop.shutdown_asyncgens(), STOP_TIMEOUT_S)
    with contextlib.suppress(TimeoutError):
        await within(loop.shutdown_default_executor(), STOP_TIMEOUT_S)
