"""`hedgectl bp-aster loop`: maker volume on one venue, every fill hedged at once on the other, for days."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli.common import run_command
from hedgectl.cli.params import decimal_option

if TYPE_CHECKING:
    from collections.abc import Callable

    from hedgectl.cli.seed_file import SeedFile
    from hedgectl.cli.session import Session
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.engine.maker_taker.config import LoopConfig
    from hedgectl.engine.maker_taker.loop import LoopResult

bp_aster_app = typer.Typer(
    help="The Backpack/Aster maker-taker volume loop (the seed's hedge_bp_aster_futures_loop).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

HELP = (
    "Rest a post-only limit order on the maker (sell at last + offset, then buy at last - offset), re-quote it "
    "every --requote-after seconds, and hedge every fill at once with a market order on the taker; cycle after "
    "cycle, pausing before funding. Ctrl+C cancels, hedges what filled, and flattens (or --on-exit keep-hedged)."
)


@bp_aster_app.command("loop", help=HELP)
def loop(
    ctx: typer.Context,
    qty: Annotated[
        Decimal | None, decimal_option("--qty", help="Base quantity per leg (quantity; default 10).")
    ] = None,
    offset_pct: Annotated[
        Decimal | None,
        decimal_option("--offset-pct", help="Limit price distance from last, % (offset_percent; default 0.2)."),
    ] = None,
    requote_after: Annotated[
        float | None,
        typer.Option(
            "--requote-after", help="Seconds before an unfilled order is re-quoted (first_wait_seconds; default 10)."
        ),
    ] = None,
    between_legs: Annotated[
        float | None,
        typer.Option("--between-legs", help="Seconds between leg 1 and leg 2 (between_legs_sleep; default 20)."),
    ] = None,
    cycle_sleep: Annotated[
        float | None, typer.Option("--cycle-sleep", help="Seconds between cycles (cycle_sleep; default 60).")
    ] = None,
    stop_before_funding: Annotated[
        float | None,
        typer.Option(
            "--stop-before-funding",
            help="Do not start a leg this many minutes before either venue's funding "
            "(stop_before_funding_minutes; default 5).",
        ),
    ] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="Base asset (default ASTER).")] = None,
    cycles: Annotated[
        int | None, typer.Option("--cycles", help="Stop after N cycles (default: run until stopped).")
    ] = None,
    maker: Annotated[str, typer.Option("--maker", help="Venue where the limit orders rest.")] = "backpack",
    taker: Annotated[str, typer.Option("--taker", help="Venue where fills are hedged with market orders.")] = "aster",
    config_file: Annotated[
        Path | None, typer.Option("--config", help="The seed's YAML file (bp:, aster:, trade:); flags override it.")
    ] = None,
    on_exit: Annotated[
        str, typer.Option("--on-exit", help="On stop: flatten both venues, or keep-hedged (verify, correct).")
    ] = "flatten",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    live: Annotated[bool, typer.Option("--live", help="Confirm live mode (real money).")] = False,
    streams: Annotated[
        bool, typer.Option("--streams/--no-streams", help="Take maker fills from the private order stream.")
    ] = True,
    json_out: Annotated[bool, typer.Option("--json", help="JSON Lines: one event per line, then a summary.")] = False,
) -> None:
    from hedgectl.cli import output
    from hedgectl.cli.seed_file import load_seed_file
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.engine.maker_taker.config import OnExit, build_config
    from hedgectl.errors import UsageError
    from hedgectl.venues.registry import parse_venue

    output.set_json_mode(json_out)  # a bad flag or file is reported as a JSON document too
    if on_exit not in {o.value for o in OnExit}:
        raise UsageError(f"--on-exit must be flatten or keep-hedged, got {on_exit!r}")
    seed = load_seed_file(config_file) if config_file is not None else None
    flags: dict[str, Any] = {
        "symbol": canonical_symbol(symbol) if symbol is not None else None,
        "qty": qty,
        "offset_pct": offset_pct,
        "requote_after_s": requote_after,
        "between_legs_s": between_legs,
        "cycle_sleep_s": cycle_sleep,
        "stop_before_funding_min": stop_before_funding,
        "cycles": cycles,
        "maker_venue": parse_venue(maker),
        "taker_venue": parse_venue(taker),
        "on_exit": OnExit(on_exit),
        "streams": streams,
    }
    config = build_config(flags, seed)

    async def body(session: Session) -> int:
        from hedgectl.cli.breaker_cmd import refuse_if_tripped

        refuse_if_tripped(session)  # exit 4 while the circuit breaker is tripped
        return await _run(session, config, seed, json_out=json_out)

    args = {
        "symbol": config.symbol,
        "qty": str(config.qty),
        "offset_pct": str(config.offset_pct),
        "requote_after_s": config.requote_after_s,
        "between_legs_s": config.between_legs_s,
        "cycle_sleep_s": config.cycle_sleep_s,
        "stop_before_funding_min": config.stop_before_funding_min,
        "cycles": config.cycles,
        "maker": config.maker_venue,
        "taker": config.taker_venue,
        "on_exit": config.on_exit.value,
        "streams": config.streams,
        "config": str(config_file) if config_file else None,
    }
    run_command(ctx, "bp-aster loop", args, body, json_mode=json_out, live=live, yes=yes)


async def _run(session: Session, config: LoopConfig, seed: SeedFile | None, *, json_out: bool) -> int:
    from hedgectl.cli import loop_view, render
    from hedgectl.cli.common import legs_listed
    from hedgectl.engine.maker_taker.loop import preflight, run_loop
    from hedgectl.engine.orders.dispatch import Dispatcher

    if seed is not None:
        for warning in seed.warnings:
            render.warn(warning)
        _use_seed_credentials(session, seed)
    for name in (config.maker_venue, config.taker_venue):
        session.registry.ensure_usable(name)
    maker = session.registry.venue(config.maker_venue)
    taker = session.registry.venue(config.taker_venue)
    interrupts = _interrupts(config, render.warn, session)
    # Installed from the start-up check until the outcome is printed: a Ctrl+C while checking, while the
    # streams close or while the summary is written is handled like any other, never a KeyboardInterrupt.
    interrupts.install()
    try:
        if not await legs_listed(session, interrupts, (maker, taker), config.symbol):  # unknown symbol: exit 2
            return _interrupted_before_start(session, config, json_out=json_out)
        checked = await preflight(maker, taker, config, max_notional=session.settings.max_notional_usdt)
        if interrupts.requested:
            return _interrupted_before_start(session, config, json_out=json_out)
        reporter = loop_view.JsonReporter() if json_out else loop_view.RichReporter(session.mode, config)
        try:
            # The loop opens the maker's order stream itself (config.streams) and closes it however it ends.
            dispatcher = Dispatcher(session.journal, session.run_id)
            result = await run_loop(maker, taker, dispatcher, config, reporter, interrupts, checked)
        finally:
            reporter.close()
        return _report(session, result, json_out=json_out)
    finally:
        interrupts.uninstall()


def _interrupted_before_start(session: Session, config: LoopConfig, *, json_out: bool) -> int:
    """Ctrl+C during the start-up check: nothing was sent, nothing is left to do."""
    from hedgectl.cli import render
    from hedgectl.engine.maker_taker.loop import LoopResult

    message = "interrupted before the loop started: nothing was sent"
    session.outcome.status = "interrupted"
    session.outcome.error = message
    if json_out:
        from hedgectl.cli import output
        from hedgectl.cli.loop_view import summary

        output.emit_document(summary(session.mode, LoopResult(config=config, interrupted=True, error=message)))
    else:
        render.line(message, style="yellow")
    return 130


def _interrupts(config: LoopConfig, warn: Callable[[str], None], session: Session) -> Interrupts:
    """Ctrl+C's messages say what this loop does on stop (--on-exit) and what pressing again does."""
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.engine.maker_taker.config import OnExit

    if config.on_exit is OnExit.FLATTEN:
        doing, then = "stopping and flattening both venues", "then flattening both venues"
    else:
        doing = "stopping and keeping the pair hedged"
        then = "then keeping the pair hedged as it is (--on-exit keep-hedged: no flatten)"
    return Interrupts(
        warn,
        first_message=(
            f"interrupted: cancelling the resting order, hedging what filled, {then} "
            "(Ctrl+C twice more aborts at once, and positions may then remain open)"
        ),
        doing=doing,
        open_now=session.open_per_journal,
        on_abort=session.record_abort,
    )


def _report(session: Session, result: LoopResult, *, json_out: bool) -> int:
    """Record the outcome in the session, print the summary (or the JSON one), return the exit code."""
    from hedgectl.cli import loop_view, render

    code = result.exit_code
    session.outcome.status = result.status
    session.outcome.error = result.exposure if code == 3 else result.error
    if result.stats is not None:
        session.outcome.net_pnl = result.stats.net_pnl
        session.outcome.volume = result.stats.maker_volume + result.stats.taker_volume
    if json_out:
        from hedgectl.cli import output

        output.emit_document({**loop_view.summary(session.mode, result), "run_id": session.run_id})
    else:
        loop_view.render_summary(result)
        render.line(f"run {session.run_id} (`hedgectl history show {session.run_id}`)")
    if code == 3:
        render.error(f"EXPOSURE REMAINS: {result.exposure} - run `hedgectl flatten --all`")
    return code


def _use_seed_credentials(session: Session, seed: SeedFile) -> None:
    """Credentials from the YAML, for venues whose environment/.env has none (never in paper mode)."""
    if session.registry.add_credentials(seed.credentials):
        session.settings = session.registry.settings
