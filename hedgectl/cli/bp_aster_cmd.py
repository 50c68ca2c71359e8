"""`hedgectl bp-aster loop`: maker volume on one venue, every fill hedged at once on the other, for days."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli.common import run_command
from hedgectl.cli.params import decimal_option
from hedgectl.cli.session import Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from hedgectl.cli.seed_file import SeedFile
    from hedgectl.clock import Clock
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.engine.maker_taker.config import LoopConfig
    from hedgectl.engine.maker_taker.events import LoopEvent
    from hedgectl.engine.maker_taker.loop import LoopResult
    from hedgectl.engine.maker_taker.stats import StatsSnapshot

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
    }
    config = build_config(flags, seed)

    async def body(session: Session) -> int:
        from hedgectl.cli.breaker_cmd import refuse_if_tripped

        refuse_if_tripped(session)  # exit 4 while the circuit breaker is tripped
        return await _run(session, config, seed, json_out=json_out, streams=streams)

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
        "config": str(config_file) if config_file else None,
    }
    run_command(ctx, "bp-aster loop", args, body, json_mode=json_out, live=live, yes=yes)


async def _run(
    session: Session, config: LoopConfig, seed: SeedFile | None, *, json_out: bool, streams: bool = True
) -> int:
    from hedgectl.cli import render
    from hedgectl.cli.common import legs_listed
    from hedgectl.engine.maker_taker.loop import preflight, run_loop
    from hedgectl.engine.orders.dispatch import Dispatcher
    from hedgectl.engine.orders.feeds import FillFeed, PollingFeed
    from hedgectl.engine.orders.stream_feed import StreamFeed

    if seed is not None:
        for warning in seed.warnings:
            render.warn(warning)
        _use_seed_credentials(session, seed)
    for name in (config.maker_venue, config.taker_venue):
        session.registry.ensure_usable(name)
    maker = session.registry.venue(config.maker_venue)
    taker = session.registry.venue(config.taker_venue)
    interrupts = _interrupts(config, render.warn, session)
    polling = PollingFeed(interrupts.stop, interval_s=config.poll_interval_s, on_error=render.warn)
    # Maker fills arrive on the venue's private order stream (polling only while it is down).
    feed: FillFeed = StreamFeed(interrupts.stop, fallback=polling, on_error=render.warn) if streams else polling
    if isinstance(feed, StreamFeed):
        feed.warm(maker, config.symbol)
    streams_open = isinstance(feed, StreamFeed)
    # Installed from the start-up check until the outcome is printed: a Ctrl+C while checking, while the
    # streams close or while the summary is written is handled like any other, never a KeyboardInterrupt.
    interrupts.install()
    try:
        if not await legs_listed(session, interrupts, (maker, taker), config.symbol):  # unknown symbol: exit 2
            return _interrupted_before_start(session, config, json_out=json_out)
        checked = await preflight(maker, taker, config, max_notional=session.settings.max_notional_usdt)
        if interrupts.requested:
            return _interrupted_before_start(session, config, json_out=json_out)
        reporter: _JsonReporter | _RichReporter = _JsonReporter() if json_out else _RichReporter(session.mode, config)
        try:
            result = await run_loop(
                maker,
                taker,
                Dispatcher(session.journal, session.run_id),
                config,
                reporter,
                interrupts,
                checked,
                feed=feed,
            )
        finally:
            reporter.close()
        if isinstance(feed, StreamFeed):
            streams_open = False
            await feed.aclose()
        return _report(session, result, json_out=json_out)
    finally:
        try:
            if streams_open and isinstance(feed, StreamFeed):
                await feed.aclose()
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

        output.emit_document(_summary(session.mode, LoopResult(config=config, interrupted=True, error=message)))
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
    from hedgectl.cli import render

    code = result.exit_code
    session.outcome.status = result.status
    session.outcome.error = result.exposure if code == 3 else result.error
    if result.stats is not None:
        session.outcome.net_pnl = result.stats.net_pnl
        session.outcome.volume = result.stats.maker_volume + result.stats.taker_volume
    if json_out:
        from hedgectl.cli import output

        output.emit_document({**_summary(session.mode, result), "run_id": session.run_id})
    else:
        _render_summary(result)
        render.line(f"run {session.run_id} (`hedgectl history show {session.run_id}`)")
    if code == 3:
        render.error(f"EXPOSURE REMAINS: {result.exposure} - run `hedgectl flatten --all`")
    return code


def _use_seed_credentials(session: Session, seed: SeedFile) -> None:
    """Credentials from the YAML, for venues whose environment/.env has none (never in paper mode)."""
    if session.registry.add_credentials(seed.credentials):
        session.settings = session.registry.settings


# -- reporting ---------------------------------------------------------------------------------------


class _JsonReporter:
    """JSON Lines on stdout: one line per event; the summary is written by the command at the end."""

    def event(self, event: LoopEvent) -> None:
        from hedgectl.cli import output

        output.emit_document(
            {"event": event.kind, "at": event.at, "cycle": event.cycle, "leg": event.leg, **event.data}
        )

    def stats(self, snapshot: StatsSnapshot) -> None:
        return None

    def countdown(self, text: str | None) -> None:
        return None

    def close(self) -> None:
        return None


CHART_WINDOW_S = 15 * 60  # the live view's charts show the last 15 minutes


class _RichReporter:
    """Event lines scrolling above a live stats table (a terminal), or lines and per-cycle totals (a pipe)."""

    def __init__(self, mode: str, config: LoopConfig, clock: Clock | None = None) -> None:
        from hedgectl.cli import render
        from hedgectl.clock import SystemClock

        self._render = render
        self._clock = clock or SystemClock()
        self._config = config
        self._snapshot: StatsSnapshot | None = None
        self._status: str | None = None
        self._live_cm: Any = None
        self._update: Any = None
        render.heading(f"hedgectl bp-aster loop ({mode} mode)")
        cycles = "until stopped" if config.cycles is None else f"{config.cycles} cycle(s)"
        render.line(
            f"{config.symbol}: {config.qty} per leg, maker {config.maker_venue} (offset {config.offset_pct}%, "
            f"re-quote after {config.requote_after_s:g} s), taker {config.taker_venue}; {cycles}; "
            f"on exit: {config.on_exit.value}"
        )
        # Above the live table: net PnL and the basis each hedge got, over the last CHART_WINDOW_S.
        self._pnl = render.TrailChart("net PnL", "USDT", window_s=CHART_WINDOW_S)
        basis = f"basis {config.taker_venue} - {config.maker_venue}"
        self._basis = render.TrailChart(basis, "bps", window_s=CHART_WINDOW_S, carry=False)
        self._maker_price: Any = None
        if render.stdout_console().is_terminal:
            self._live_cm = render.live_table(self.view)
            self._update = self._live_cm.__enter__()

    def view(self, args: tuple[StatsSnapshot, str | None]) -> Any:
        """The live view: the two charts over the stats table (and the countdown under it)."""
        now = self._clock.monotonic()
        return self._render.stack(self._pnl.render(now), self._basis.render(now), main=_stats_table(*args))

    def event(self, event: LoopEvent) -> None:
        self._chart(event)
        text = _describe(event)
        if text is None:
            return
        if event.kind == "warning":
            self._render.warn(text)
        else:
            self._render.line(text, style=_STYLES.get(event.kind))
        if event.kind == "cycle" and self._update is None and self._snapshot is not None:
            s = self._snapshot
            self._render.line(
                f"  totals: volume {self._render.fmt(s.maker_volume, 2)} + {self._render.fmt(s.taker_volume, 2)}, "
                f"net PnL {self._render.fmt(s.net_pnl, 4)}, cost/10k {self._render.fmt(s.cost_per_10k, 2)}"
            )

    def _chart(self, event: LoopEvent) -> None:
        """The basis of each hedge: its average price against the maker price it hedged, in bps."""
        if event.kind == "fill":
            self._maker_price = event.data.get("price")
        elif event.kind == "hedge" and self._maker_price and event.data.get("avg_price") is not None:
            basis = (event.data["avg_price"] - self._maker_price) / self._maker_price * 10_000
            self._basis.add(self._clock.monotonic(), float(basis))

    def stats(self, snapshot: StatsSnapshot) -> None:
        self._pnl.add(self._clock.monotonic(), float(snapshot.net_pnl))
        self._snapshot = snapshot
        self._refresh()

    def countdown(self, text: str | None) -> None:
        self._status = text
        self._refresh()

    def _refresh(self) -> None:
        if self._update is not None and self._snapshot is not None:
            self._update((self._snapshot, self._status))

    def close(self) -> None:
        self._status = None
        self._refresh()
        if self._live_cm is not None:
            self._live_cm.__exit__(None, None, None)
            self._live_cm = self._update = None
        elif self._snapshot is not None:
            self._render.stdout_console().print(_stats_table(self._snapshot, None))


_STYLES = {
    "hedge": "cyan",
    "cycle": "bold green",
    "pause": "yellow",
    "correction": "yellow",
    "residual_close": "yellow",
}


def _describe(event: LoopEvent) -> str | None:
    """One human line per event (None: not worth a line)."""
    from hedgectl.cli import render

    d = event.data
    where = f"[cycle {event.cycle}" + (f" leg {event.leg}]" if event.leg else "]")
    f = render.fmt
    kind = event.kind
    if kind == "order":
        action = d.get("action")
        base = f"{where} {d['venue']} {d['side']} {f(d.get('qty'))} @ {f(d.get('price'))}"
        if action == "placed":
            return f"{base} posted (order {d['order_id']})"
        if action in ("filled", "cancelled"):
            return f"{base} {action}, filled {f(d.get('filled'))}"
        if action == "expired":
            return f"{base} expired: {d.get('reason')}"
        return f"{base} {action}: {d.get('error')}"
    if kind == "fill":
        return f"{where} {d['venue']} filled +{f(d['delta'])} (leg {f(d['leg_filled'])})"
    if kind == "hedge":
        reaction = f", {d['reaction_ms']:.1f} ms after the fill" if d.get("reaction_ms") is not None else ""
        return f"{where} hedged on {d['venue']}: {d['side']} {f(d['filled'])} @ {f(d.get('avg_price'))}{reaction}"
    if kind.endswith("_rejected"):
        return f"{where} {d['venue']} refused {kind.removesuffix('_rejected')} {d['side']} {f(d['qty'])}: {d['error']}"
    if kind == "correction":
        return (
            f"{where} positions off by {f(d['mismatch'])} (maker {f(d['maker_position'])}, "
            f"taker {f(d['taker_position'])}): correcting"
        )
    if kind == "residual_close":
        return f"{where} closed {f(d['filled'])} on {d['venue']} ({d['reason']})"
    if kind == "pause":
        text = (
            f"{where} pausing {d['seconds']:.0f} s: {d['venue']} funding at {d['funding_at']:%H:%M:%S} UTC "
            f"({d['funding_time_source']})"
        )
        if d.get("funding_rate") is not None and d.get("funding_interval_s") is not None:
            # The venue's own rate and interval, and the rate per hour and annualised: comparable across venues.
            hours = d["funding_interval_s"].total_seconds() / 3600
            text += (
                f", rate {(d['funding_rate'] * 100).normalize():f}% every {hours:g}h = "
                f"{d['funding_rate_per_hour'] * 100:.5f}%/h, {d['funding_apr_pct']:.2f}% APR"
            )
        return text
    if kind == "wait":
        # A re-quote wait is only counted down: a line per resting order would drown the fills.
        if d["reason"] == "between_legs":
            return f"{where} waiting {d['seconds']:g} s before leg 2"
        if d["reason"] == "cycle_sleep":
            return f"{where} waiting {d['seconds']:g} s before the next cycle"
        return None
    if kind == "resume":
        return f"{where} resuming after {d['venue']} funding"
    if kind == "leg" and d.get("action") == "end":
        return (
            f"{where} leg done: maker filled {f(d['maker_filled'])}, hedged {f(d['hedged'])}; positions "
            f"{f(d['maker_position'])} / {f(d['taker_position'])}"
        )
    if kind == "cycle":
        return f"[cycle {event.cycle}] done"
    if kind == "funding":
        return f"funding on {d['venue']}: {f(d['net'])} {d['asset']} so far (+ received; {d['payments']} payments)"
    if kind == "warning":
        return str(d.get("message"))
    if kind == "exit":
        return f"on exit ({d['policy']}): " + ("done" if d.get("exposure") is None else f"LEFT OPEN {d['exposure']}")
    return None


def _stats_table(snapshot: StatsSnapshot, status: str | None) -> Any:
    from hedgectl.cli import render

    s, f = snapshot, render.fmt
    p50 = f"{s.reaction_ms_p50:.1f}" if s.reaction_ms_p50 is not None else "-"
    p99 = f"{s.reaction_ms_p99:.1f}" if s.reaction_ms_p99 is not None else "-"
    rows = [
        ["cycles (legs)", f"{s.cycles} ({s.legs})"],
        [f"maker volume ({s.maker_venue})", f(s.maker_volume, 2)],
        [f"taker volume ({s.taker_venue})", f(s.taker_volume, 2)],
        *[[f"fees {venue}", f"{f(fee, 4)} {s.fee_assets.get(venue, '')}".rstrip()] for venue, fee in s.fees.items()],
        *[
            [f"funding {venue} (+ received)", "unknown" if amount is None else f(amount, 4)]
            for venue, amount in s.funding_by_venue.items()
        ],
        ["net PnL (fills + funding, USDT)", f(s.net_pnl, 4) + (f" ({s.pnl_conversion})" if s.pnl_conversion else "")],
        [
            "cost per 10,000 volume",
            f(s.cost_per_10k, 2)
            + " ("
            + ", ".join(f"{venue} {f(cost, 2)}" for venue, cost in s.cost_per_10k_by_venue.items())
            + ")",
        ],
        ["avg maker time-to-fill", f"{s.avg_fill_s:.1f} s" if s.avg_fill_s is not None else "-"],
        ["hedge reaction p50 / p99", f"{p50} / {p99} ms ({s.reaction_samples} hedges)"],
        ["maker orders / requotes", f"{s.maker_orders} / {s.requotes}"],
        ["corrections / residual closes / pauses", f"{s.corrections} / {s.residual_closes} / {s.pauses}"],
        ["positions (maker / taker)", f"{f(s.maker_position)} / {f(s.taker_position)}"],
    ]
    table = render.make_table("bp-aster loop stats", ["metric", "value"], rows, right=["value"])
    # The countdown of the current wait (funding pause, re-quote, between legs/cycles): one line under the table.
    return render.with_line(table, f"{status} (Ctrl+C to stop)" if status else None)


def _summary(mode: str, result: LoopResult) -> dict[str, Any]:
    cfg = result.config
    return {
        "event": "summary",
        "ok": result.exit_code == 0,
        "mode": mode,
        "symbol": cfg.symbol,
        "maker": cfg.maker_venue,
        "taker": cfg.taker_venue,
        "qty": cfg.qty,
        "on_exit": cfg.on_exit,
        "stats": result.stats,
        "interrupted": result.interrupted,
        "error": result.error,
        "flat": result.final.flat if result.final is not None else None,
        "positions_after": None
        if result.positions_after is None
        else {cfg.maker_venue: result.positions_after[0], cfg.taker_venue: result.positions_after[1]},
        "exposure": result.exposure,
        "warnings": result.warnings,
        "exit_code": result.exit_code,
    }


def _render_summary(result: LoopResult) -> None:
    from hedgectl.cli import render

    for warning in result.warnings:
        render.warn(warning)
    if result.exit_code == 3:
        return  # the caller prints the exposure as an error
    state = "flat" if result.config.on_exit.value == "flatten" else "exactly hedged"
    if result.interrupted:
        render.line(f"interrupted: both venues {state}", style="yellow")
    elif result.error:
        render.error(f"loop stopped: {result.error}; both venues {state}")
    else:
        render.line("BP-ASTER LOOP COMPLETED: both venues flat", style="bold green")
