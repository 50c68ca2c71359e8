"""`hedgectl bootstrap`: prove a two-venue hedge opens, holds, closes and accounts correctly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import require_listed, run_command
from hedgectl.cli.params import decimal_option
from hedgectl.cli.session import Session

if TYPE_CHECKING:
    from hedgectl.engine.hedge_plan import HedgePlan

HELP = (
    "Market-buy on one venue and market-sell on another at once, hold, close both at once, and report fills, "
    "latency and PnL (fees included). Rolls back a failed leg; Ctrl+C flattens."
)


def _positive(name: str, value: Decimal) -> Decimal:
    from hedgectl.errors import UsageError

    if value <= 0:
        raise UsageError(f"{name} must be a positive number, got {value}")
    return value


def bootstrap(
    ctx: typer.Context,
    notional: Annotated[
        Decimal, decimal_option("--notional", help="Notional per leg in USDT (notional_usdt).")
    ] = Decimal(300),
    hold: Annotated[
        Decimal, decimal_option("--hold", help="Seconds to hold both legs (max_position_duration_seconds).")
    ] = Decimal(10),
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="BTC, BTC/USDT, ETH, SOL ...")] = "BTC/USDT",
    long: Annotated[str, typer.Option("--long", help="Venue that buys (goes long).")] = "binance",
    short: Annotated[str, typer.Option("--short", help="Venue that sells (goes short).")] = "okx",
    max_slippage_bps: Annotated[
        Decimal, decimal_option("--max-slippage-bps", help="Refuse if spread or book slippage exceeds this.")
    ] = Decimal(5),
    max_latency_ms: Annotated[
        Decimal, decimal_option("--max-latency-ms", help="A leg unfilled after this is rolled back.")
    ] = Decimal(800),
    max_loss_pct: Annotated[
        Decimal, decimal_option("--max-loss-pct", help="Close early when the loss passes this % of notional.")
    ] = Decimal("0.2"),
    max_funding_cost_bps: Annotated[
        Decimal | None,
        decimal_option(
            "--max-funding-cost-bps",
            help="Refuse when the hold crosses funding that costs the pair more than this (bps of notional, net); "
            "default: warn only.",
        ),
    ] = None,
    max_volatility_pct: Annotated[
        Decimal | None,
        decimal_option(
            "--max-volatility-pct",
            help="Refuse when either venue's realised volatility over --volatility-minutes (%, not annualised) "
            "exceeds this; default: shown only.",
        ),
    ] = None,
    volatility_minutes: Annotated[
        int,
        typer.Option(
            "--volatility-minutes", min=2, max=999, help="Window of the volatility check, in one-minute candles."
        ),
    ] = 60,
    entry: Annotated[
        str,
        typer.Option(
            "--entry",
            help="taker: both legs market at once. maker-first: a post-only order rests on the venue with the "
            "higher taker fee, each fill hedged at once on the other; the rest is taken after --maker-timeout.",
        ),
    ] = "taker",
    maker_timeout: Annotated[
        Decimal,
        decimal_option(
            "--maker-timeout", help="maker-first: seconds the post-only order may rest before the rest is taken."
        ),
    ] = Decimal(30),
    streams: Annotated[
        bool, typer.Option("--streams/--no-streams", help="Take fills from the private order streams (else poll).")
    ] = True,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    live: Annotated[bool, typer.Option("--live", help="Confirm live mode (real money).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    output.set_json_mode(json_out)
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.engine.hedge_plan import Entry, HedgeConfig
    from hedgectl.errors import UsageError
    from hedgectl.venues.registry import parse_venue

    long_name, short_name = parse_venue(long), parse_venue(short)
    try:
        entry_mode = Entry(entry.strip().lower())
    except ValueError:
        raise UsageError(f"--entry must be taker or maker-first, got {entry!r}") from None
    if not 0 < maker_timeout <= 3600:
        raise UsageError(f"--maker-timeout must be above 0 and at most 3600 seconds, got {maker_timeout}")
    if long_name == short_name:
        raise UsageError("--long and --short must be two different venues")
    hold_s = hold
    if hold_s < 0 or hold_s > 86_400:
        raise UsageError("--hold must be between 0 and 86400 seconds")
    config_args: dict[str, Any] = {
        "symbol": canonical_symbol(symbol),
        "notional_usdt": _positive("--notional", notional),
        "max_slippage_bps": _positive("--max-slippage-bps", max_slippage_bps),
        "max_position_duration_seconds": float(hold_s),
        "max_order_latency_ms": float(_positive("--max-latency-ms", max_latency_ms)),
        "max_acceptable_loss_pct": _positive("--max-loss-pct", max_loss_pct),
        "long_venue": long_name,
        "short_venue": short_name,
        "max_funding_cost_bps": max_funding_cost_bps,
        "max_volatility_pct": None
        if max_volatility_pct is None
        else _positive("--max-volatility-pct", max_volatility_pct),
        "volatility_minutes": volatility_minutes,
        "entry": entry_mode,
        "maker_timeout_s": float(maker_timeout),
    }

    async def body(session: Session) -> int:
        from hedgectl.cli import render
        from hedgectl.cli.breaker_cmd import refuse_if_tripped
        from hedgectl.engine.dispatch import Dispatcher
        from hedgectl.engine.hedge import run_hedge_cycle
        from hedgectl.engine.interrupts import Interrupts

        refuse_if_tripped(session)  # exit 4 while the circuit breaker is tripped
        config = HedgeConfig(**config_args, max_notional_usdt=session.settings.max_notional_usdt)
        config.check_caps()
        for name in (long_name, short_name):
            session.registry.ensure_usable(name)
        long_venue, short_venue = session.registry.venue(long_name), session.registry.venue(short_name)
        reporter: Any = _SilentReporter() if json_out else _RichReporter()
        # Installed until the outcome is printed: a second Ctrl+C after the closes must not raise
        # KeyboardInterrupt past the summary (the final "interrupted: ..." line is always printed).
        # A third Ctrl+C exits 3 only while the journal shows something may be open (an order in flight or a
        # leg not closed), naming it.
        interrupts = Interrupts(render.warn, open_now=session.open_per_journal, on_abort=session.record_abort)
        interrupts.install()
        try:
            # Installed first: the market reads behind this check honour a signal too.
            listed = await interrupts.unless_stopped(
                require_listed([long_venue, short_venue], config.symbol, everywhere=True)
            )
            if listed is None:
                session.outcome.status = "interrupted"
                render.warn("interrupted while checking the venues: no order was sent")
                return 130
            listed.result()
            if not json_out:
                render.heading(f"hedgectl bootstrap ({session.mode} mode, run {session.run_id})")
                render.line(
                    f"long {long_name} / short {short_name}  {config.symbol}  "
                    f"target notional {config.notional_usdt} USDT per leg"
                )
            result = await run_hedge_cycle(
                long_venue,
                short_venue,
                Dispatcher(session.journal, session.run_id),
                config,
                reporter,
                interrupts,
                streams=streams,
                confirm=_plan_confirmation(session.confirm_live, maker_first=entry_mode is Entry.MAKER_FIRST),
            )
            if result.declined:
                from hedgectl.errors import ConfigError

                raise ConfigError("live trading not confirmed")
            code = result.exit_code
            session.outcome.status = {0: "ok", 1: "failed", 3: "exposure", 130: "interrupted"}.get(code, "failed")
            session.outcome.net_pnl = result.total.net if result.pnl else None
            session.outcome.volume = _volume(result)
            session.outcome.error = result.error
            if json_out:
                from hedgectl.cli import output

                output.emit_document({"run_id": session.run_id, **_document(session.mode, result)})
                if not result.flat and result.final is not None:
                    render.error(f"EXPOSURE REMAINS: {result.final.describe_exposure()} - run `hedgectl flatten --all`")
            else:
                _render_summary(result, sent=bool(session.journal.orders(session.run_id)))
            return code
        finally:
            interrupts.uninstall()

    args = {**{k: str(v) for k, v in config_args.items() if v is not None}, "streams": str(streams)}
    # Live mode's typed confirmation is asked by the cycle, once the plan is made and shown (reads only, the
    # venues and their order streams warm) and right before the open: see run_hedge_cycle.
    run_command(ctx, "bootstrap", args, body, json_mode=json_out, live=live, yes=yes, confirm_in_body=True)


def _plan_confirmation(
    ask: Callable[[str], Awaitable[bool]] | None, *, maker_first: bool = False
) -> Callable[[HedgePlan], Awaitable[bool]] | None:
    """The hedge cycle's confirmation: the session's typed live confirmation, asked about this plan."""
    if ask is None:
        return None

    async def confirm(plan: HedgePlan) -> bool:
        how = (
            "maker-first (post-only, each fill hedged at market, the rest taken at the timeout)" if maker_first else ""
        )
        return await ask(
            f"About to {'buy' if how else 'market-buy'} {plan.qty} {plan.symbol} on {plan.long.venue} and "
            f"{'sell' if how else 'market-sell'} it on {plan.short.venue} (~{plan.notional:.2f} USDT per leg)"
            + (f", {how}." if how else ".")
        )

    return confirm


def _volume(result: Any) -> Decimal:
    return sum((f.qty * f.price for leg in result.opened + result.closed for f in leg.fills), Decimal(0))


def _leg_doc(leg: Any) -> dict[str, Any] | None:
    if leg is None:
        return None
    order = leg.order
    return {
        "order_id": order.order_id if order else None,
        "client_order_id": order.client_order_id if order else None,
        "qty": order.filled_qty if order else Decimal(0),
        "avg_price": order.avg_price if order else None,
        "fee": sum((f.fee for f in leg.fills), Decimal(0)) if leg.fills else (order.fee if order else None),
        "status": order.status if order else None,
        "ack_ms": _round(leg.latency_ms),  # request sent -> acknowledged
        "fill_ms": _round(leg.fill_ms),  # request sent -> fully filled known
        "fills_from": leg.fills_source,
        "error": leg.error,
    }


def _document(mode: str, result: Any) -> dict[str, Any]:
    cfg, plan = result.config, result.plan
    legs: dict[str, Any] = {}
    for venue, side in ((cfg.long_venue, "buy"), (cfg.short_venue, "sell")):
        opened = next((leg for leg in result.opened if leg.venue == venue), None)
        closes = [leg for leg in result.closed if leg.venue == venue]
        legs[venue] = {
            "side": side,
            "open": _leg_doc(opened),
            # Every opening order (one for a taker entry; maker-first: post-only orders, hedges, the rest taken).
            "opens": [_leg_doc(leg) for leg in result.opened if leg.venue == venue],
            "close": _leg_doc(closes[0]) if closes else None,
            "extra_closes": [_leg_doc(leg) for leg in closes[1:]],
        }
    total = result.total
    exposure: dict[str, Decimal | None] = {cfg.long_venue: Decimal(0), cfg.short_venue: Decimal(0)}
    if result.final is not None:
        for v in result.final.venues:
            if not v.flat:  # signed open quantity, or None when the venue could not be read
                exposure[v.venue] = sum(v.exposure.values(), Decimal(0)) if v.exposure else None
    return {
        "ok": result.ok,
        "mode": mode,
        "symbol": cfg.symbol,
        "qty": plan.qty if plan else None,
        "notional_target": cfg.notional_usdt,
        "notional": plan.notional if plan else None,  # the plan's estimate: qty x reference price
        "notional_opened": result.opened_notional,  # the bps base: opening fills' value per leg
        "legs": legs,
        "latency_ms": {
            "open_phase": _round(result.open_ms),  # both open orders built -> both acknowledged
            "close_phase": _round(result.close_ms),  # both close orders built -> both acknowledged
            "open_skew": _round(result.skew_ms),  # between the two open requests leaving
        },
        "pnl": {
            **{v: _pnl_doc(result, v, p) for v, p in result.pnl.items()},
            "asset": "USDT",  # the totals below, converted as `conversion` says
            "conversion": result.conversion,
            "gross": total.gross,
            "fees": total.fees,
            "funding": total.funding,
            "net": total.net,
            "net_bps": result.net_bps.quantize(Decimal("0.01")),
            "bps_base": "notional_opened",
        },
        "balances_before": {v: {b.asset: b.total for b in bs} for v, bs in result.balances_before.items()},
        "balances_after": {v: {b.asset: b.total for b in bs} for v, bs in result.balances_after.items()},
        "exposure_after": exposure,
        "checks": [_check_doc(c) for c in result.checks],
        "entry": _entry_doc(result.entry) if result.entry is not None else {"mode": result.config.entry.value},
        "closed_early": result.closed_early,
        "interrupted": result.interrupted,
        "warnings": result.warnings,
        "error": result.error,
        "exit_code": result.exit_code,
    }


def _entry_doc(entry: Any) -> dict[str, Any]:
    """--entry maker-first: where the post-only order rested, what filled there and was hedged, what was taken
    after the timeout, and the fees against taking every fill at the venues' taker rates at the same prices."""
    return {
        "mode": "maker-first",
        "maker": entry.maker,
        "taker": entry.taker,
        "maker_side": entry.maker_side,
        "maker_timeout_s": entry.timeout_s,
        "maker_orders": entry.maker_orders,
        "maker_filled": entry.maker_filled,
        "hedged": entry.hedged,
        "closed_on_maker": entry.closed_on_maker,
        "timed_out": entry.timed_out,
        "taken": entry.taken,
        "taker_rates": {v: {"rate": r, "source": entry.rate_sources[v]} for v, r in entry.taker_rates.items()},
        "fees": {
            v: {"paid": f, "all_taker": entry.all_taker_fees[v], "saving": entry.saving[v], "asset": entry.assets[v]}
            for v, f in entry.fees.items()
        },
        "fee_saving": entry.saving_total,
        "fee_saving_asset": "USDT",
    }  # fmt: skip


def _pnl_doc(result: Any, venue: str, pnl: Any) -> dict[str, Any]:
    """One leg's PnL; `funding` is null when the venue's payments could not be read (never a silent 0)."""
    funding = result.funding.get(venue)
    known = funding is None or funding.known
    return {
        "asset": result.pnl_asset(venue),
        "gross": pnl.gross,
        "fees": pnl.fees,
        "funding": pnl.funding if known else None,
        "funding_payments": [
            {"id": f.payment_id, "at": f.at, "amount": f.amount, "asset": f.asset}
            for f in (funding.payments if funding is not None else [])
        ],
        "net": pnl.net,
    }


def _check_doc(check: Any) -> dict[str, Any]:
    """One pre-entry check: its figure, threshold (None: warn only) and verdict."""
    return {
        "name": check.name,
        "venue": check.venue,
        # Volatility in % needs more places than bps do: 0.0421 % is a figure, 0.04 a rounding.
        "figure": None
        if check.figure is None
        else check.figure.quantize(Decimal("0.0001" if check.unit == "%" else "0.01")),
        "threshold": check.threshold,
        "unit": check.unit,
        "set_by": check.flag,
        "passed": check.passed,
        "detail": check.detail,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


HOLD_LINE_LEGEND = (
    "unrealised PnL at the current marks; net = that, less the opening fees paid and the closing fees "
    "estimated at the opening fills' rate"
)


def hold_line(remaining_s: float, mark: Any) -> str:
    """The live hold line: time left, unrealised PnL per venue at its mark, and what closing now would net."""
    return (
        f"{remaining_s:5.1f} s left  uPnL "
        + "  ".join(f"{v} {p:+.4f}" for v, p in mark.upnl.items())
        + f"  fees paid {mark.fees_paid:.4f}  est. close fees {mark.est_close_fees:.4f}  net if closed {mark.net:+.4f}"
        + (f" USDT ({mark.conversion})" if mark.conversion else "")
    )


class _SilentReporter:
    def phase(self, title: str) -> None: ...
    def balances(self, title: str, balances: Any) -> None: ...
    def plan(self, plan: Any) -> None: ...
    def fills(self, title: str, legs: Any) -> None: ...
    def hold_tick(self, remaining_s: float, mark: Any) -> None: ...
    def warning(self, text: str) -> None: ...
    def entry_event(self, text: str) -> None: ...


class _RichReporter:
    def __init__(self) -> None:
        self._live: Any = None

    def phase(self, title: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.heading(title)

    def balances(self, title: str, balances: dict[str, Any]) -> None:
        from hedgectl.cli import render

        render.table(
            title,
            ["venue", "asset", "total", "free"],
            [[v, b.asset, b.total, b.free] for v, bs in balances.items() for b in bs if b.total],
            right=["total", "free"],
        )

    def plan(self, plan: Any) -> None:
        from hedgectl.cli import render

        render.table(
            f"Plan: {plan.qty} {plan.symbol} on each leg (~{plan.notional:.2f} USDT), cross spread "
            f"{plan.cross_spread_bps:.2f} bps",
            ["venue", "side", "bid", "ask", "expected price", "slippage bps", "free balance"],
            [
                [
                    leg.venue,
                    leg.side.value,
                    leg.quote.bid,
                    leg.quote.ask,
                    leg.expected_price.quantize(leg.market.tick_size),
                    f"{leg.slippage_bps:.2f}",
                    f"{leg.balance_free:.2f} {leg.balance_asset}",
                ]
                for leg in plan.legs
            ],
            right=["bid", "ask", "expected price", "slippage bps", "free balance"],
        )
        render.line("checks before entry:")
        for check in plan.checks:
            render.line(f"  {check.describe()}")

    def fills(self, title: str, legs: Any) -> None:
        from hedgectl.cli import render

        rows = []
        for leg in legs:
            o = leg.order
            fee = sum((f.fee for f in leg.fills), Decimal(0)) if leg.fills else (o.fee if o else None)
            rows.append(
                [
                    leg.venue,
                    leg.side.value,
                    o.filled_qty if o else None,
                    o.avg_price if o else None,
                    fee,
                    o.order_id if o else None,
                    f"{leg.latency_ms:.1f}" if leg.latency_ms is not None else None,
                    f"{leg.fill_ms:.1f}" if leg.fill_ms is not None else None,
                    leg.error or (o.status.value if o else "-"),
                ]
            )
        render.table(
            title,
            ["venue", "side", "qty", "avg price", "fee", "order id", "ack ms", "fill ms", "status"],
            rows,
            right=["qty", "avg price", "fee", "ack ms", "fill ms"],
        )
        render.line("ack ms: request sent -> acknowledged; fill ms: request sent -> fully filled known")

    def hold_tick(self, remaining_s: float, mark: Any) -> None:
        from hedgectl.cli import render

        if self._live is None:
            render.line(HOLD_LINE_LEGEND)
        text = hold_line(remaining_s, mark)
        if self._live is None:
            self._cm = render.live_text(text)
            self._live = self._cm.__enter__()
        self._live(text)

    def warning(self, text: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.warn(text)

    def entry_event(self, text: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.line(f"  {text}")

    def _stop_live(self) -> None:
        if self._live is not None:
            self._cm.__exit__(None, None, None)
            self._live = None


def _render_summary(result: Any, *, sent: bool) -> None:
    """The outcome; `sent`: the journal holds an order of this run (else no order ever left the process)."""
    from hedgectl.cli import render

    if result.plan is None and result.checks:  # a refused plan: what each check found, the refusing one included
        render.line("checks before entry:")
        for check in result.checks:
            render.line(f"  {check.describe()}")
    if result.pnl:
        rows = [[v, result.pnl_asset(v), p.gross, p.fees, p.funding, p.net] for v, p in result.pnl.items()]
        total = result.total
        rows.append(["total", "USDT", total.gross, total.fees, total.funding, total.net])
        unknown = {v for v, f in result.funding.items() if not f.known}
        cells = [[r[0], r[1], *(render.fmt(x, 4) for x in r[2:])] for r in rows]
        for row in cells:
            if row[0] in unknown or (row[0] == "total" and unknown):
                row[4] = "unknown"
        render.table(
            f"PnL (net {result.net_bps:.2f} bps of {result.opened_notional:.2f} opened per leg)",
            ["venue", "asset", "gross", "fees", "funding", "net"],
            cells,
            right=["gross", "fees", "funding", "net"],
        )
        paid = sum(len(f.payments) for f in result.funding.values())
        if paid:
            render.line(f"funding: {paid} payment(s) settled during the hold (+ received, - paid)")
        if result.conversion:
            render.line(f"total in USDT: {result.conversion}")
    if result.entry is not None:
        entry = result.entry
        render.line(
            f"maker-first entry: {entry.maker_filled} filled as maker on {entry.maker} in {entry.maker_orders} "
            f"post-only order(s), hedged on {entry.taker}"
            + (f"; {entry.taken} taken on both after {entry.timeout_s:g} s" if entry.taken else "")
        )
        render.line(
            "fees: "
            + ", ".join(
                f"{v} {entry.fees[v]:.4f} (all-taker {entry.all_taker_fees[v]:.4f} "
                f"at {entry.taker_rates[v] * 100:.4f}%)"
                for v in entry.fees
            )
            + f"; saving {entry.saving_total:.4f} USDT against an all-taker entry at the same prices"
        )
    lat = [
        f"open phase {result.open_ms:.1f} ms" if result.open_ms is not None else None,
        f"close phase {result.close_ms:.1f} ms" if result.close_ms is not None else None,
        f"open skew {result.skew_ms:.3f} ms" if result.skew_ms is not None else None,
    ]
    if any(lat):
        render.line(
            "latency: " + ", ".join(x for x in lat if x) + " (phase: both orders built -> both acknowledged; "
            "skew: between the two requests leaving)"
        )
    for warning in result.warnings:
        render.warn(warning)
    if not result.flat and result.final is not None:
        render.error(f"EXPOSURE REMAINS: {result.final.describe_exposure()} - run `hedgectl flatten --all`")
    elif result.interrupted:
        render.line("interrupted: both venues are flat" if sent else "interrupted: no order was sent", style="yellow")
    elif result.error and not sent:
        render.error(f"hedge cycle failed before any order was sent: {result.error}")
    elif result.error:
        render.error(f"hedge cycle failed, both venues flat: {result.error}")
    else:
        render.line("HEDGE CYCLE COMPLETED: both legs opened, held, closed; both venues flat", style="bold green")
