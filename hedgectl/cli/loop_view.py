"""What `hedgectl bp-aster loop` shows: event lines above a live stats table with two charts (a terminal),
lines and per-cycle totals (a pipe), or JSON Lines (--json); and the run's summary at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedgectl.clock import Clock
    from hedgectl.engine.maker_taker.config import LoopConfig
    from hedgectl.engine.maker_taker.events import LoopEvent
    from hedgectl.engine.maker_taker.loop import LoopResult
    from hedgectl.engine.maker_taker.stats import StatsSnapshot


class JsonReporter:
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


class RichReporter:
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
        return self._render.stack(self._pnl.render(now), self._basis.render(now), main=stats_table(*args))

    def event(self, event: LoopEvent) -> None:
        self._chart(event)
        text = describe(event)
        if text is None:
            return
        if event.kind == "warning":
            self._render.warn(text)
        else:
            self._render.line(text, style=STYLES.get(event.kind))
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
            self._render.stdout_console().print(stats_table(self._snapshot, None))


STYLES = {
    "hedge": "cyan",
    "cycle": "bold green",
    "pause": "yellow",
    "correction": "yellow",
    "residual_close": "yellow",
}


def describe(event: LoopEvent) -> str | None:
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


def stats_table(snapshot: StatsSnapshot, status: str | None) -> Any:
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


def summary(mode: str, result: LoopResult) -> dict[str, Any]:
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


def render_summary(result: LoopResult) -> None:
    from hedgectl.cli import render

    for warning in result.warnings:
        render.warn(warning)
    if result.exit_code == 3:
        return  # the caller prints the exposure as an error
    state = "flat" if result.config.on_exit.value == "flatten" else "exactly hedged"
    if result.positions_after is not None and state != "flat":  # kept: say what is held, as carry does
        cfg, (maker, taker) = result.config, result.positions_after
        state += f" ({cfg.maker_venue} {maker:+f}, {cfg.taker_venue} {taker:+f} {cfg.symbol}, kept open)"
    if result.interrupted:
        render.line(f"interrupted: both venues {state}", style="yellow")
    elif result.error:
        render.error(f"loop stopped: {result.error}; both venues {state}")
    else:
        render.line("BP-ASTER LOOP COMPLETED: both venues flat", style="bold green")
