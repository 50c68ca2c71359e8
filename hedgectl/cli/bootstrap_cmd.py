"""`hedgectl bootstrap`: prove a two-venue hedge opens, holds, closes and accounts correctly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import legs_listed, run_command
from hedgectl.cli.params import decimal_option

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.engine.bootstrap.plan import HedgePlan

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
    from hedgectl.engine.bootstrap.plan import Entry, HedgeConfig
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
        from hedgectl.cli.bootstrap_view import RichReporter, SilentReporter, document, render_summary
        from hedgectl.cli.breaker_cmd import refuse_if_tripped
        from hedgectl.engine.bootstrap.cycle import run_hedge_cycle
        from hedgectl.engine.interrupts import Interrupts
        from hedgectl.engine.orders.dispatch import Dispatcher

        refuse_if_tripped(session)  # exit 4 while the circuit breaker is tripped
        config = HedgeConfig(**config_args, max_notional_usdt=session.settings.max_notional_usdt)
        config.check_caps()
        for name in (long_name, short_name):
            session.registry.ensure_usable(name)
        long_venue, short_venue = session.registry.venue(long_name), session.registry.venue(short_name)
        reporter: Any = SilentReporter() if json_out else RichReporter()
        # Installed until the outcome is printed: a second Ctrl+C after the closes must not raise
        # KeyboardInterrupt past the summary (the final "interrupted: ..." line is always printed).
        # A third Ctrl+C exits 3 only while the journal shows something may be open (an order in flight or a
        # leg not closed), naming it.
        interrupts = Interrupts(render.warn, open_now=session.open_per_journal, on_abort=session.record_abort)
        interrupts.install()
        try:
            if not await legs_listed(session, interrupts, [long_venue, short_venue], config.symbol):
                return 130
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
            session.outcome.status = result.status
            session.outcome.net_pnl = result.total.net if result.pnl else None
            session.outcome.volume = _volume(result)
            session.outcome.error = result.error
            if json_out:
                from hedgectl.cli import output

                output.emit_document({"run_id": session.run_id, **document(session.mode, result)})
                if not result.flat and result.final is not None:
                    render.error(f"EXPOSURE REMAINS: {result.final.describe_exposure()} - run `hedgectl flatten --all`")
            else:
                render_summary(result, sent=bool(session.journal.orders(session.run_id)))
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
