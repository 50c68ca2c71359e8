"""`hedgectl carry`: open a hedged pair and hold it across funding, watched, re-hedged, with exits and alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import legs_listed, run_command
from hedgectl.cli.params import decimal_option

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.engine.carry.config import CarryConfig
    from hedgectl.engine.carry.run import Resume

HELP = (
    "Open a hedged pair (as bootstrap does) and hold it across funding settlements: watched, re-hedged, closed "
    "through flatten at --until, --take-profit, --max-loss-pct, --min-liq-distance-pct, a funding spread below "
    "--min-funding-apr, or Ctrl+C. `--resume` takes over a crashed carry; `--adopt` a pair already open."
)
# With --resume, the exit rules given on the command line replace the journaled ones (CarryConfig field per option);
# the pair itself (venues, symbol, notional) is the journal's.
RULE_OPTIONS = {
    "until": "until",
    "take_profit": "take_profit_usdt",
    "max_loss_pct": "max_loss_pct",
    "min_liq_distance_pct": "min_liq_distance_pct",
    "min_funding_apr": "min_funding_apr",
    "min_funding_settlements": "min_funding_settlements",
    "max_basis_bps": "max_basis_bps",
    "max_delta_pct": "max_delta_pct",
    "on_exit": "on_exit",
    "refresh_s": "refresh_s",
}
PAIR_OPTIONS = {"long": "long_venue", "short": "short_venue", "symbol": "symbol", "notional": "notional_usdt"}
RESUMABLE = ("running", "crashed", "kept", "aborted", "exposure")  # a carry's run status that may leave a pair open


def _positive(name: str, value: Decimal | None) -> Decimal | None:
    from hedgectl.errors import UsageError

    if value is not None and value <= 0:
        raise UsageError(f"{name} must be a positive number, got {value}")
    return value


def _given(ctx: typer.Context, name: str) -> bool:
    # typer vendors click: its ParameterSource is compared by name rather than imported from a private module.
    return getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"


def carry(
    ctx: typer.Context,
    run: Annotated[
        str | None, typer.Argument(help="With --resume: the carry run to resume (default: the last).")
    ] = None,
    long: Annotated[str, typer.Option("--long", help="Venue that holds the long leg.")] = "binance",
    short: Annotated[str, typer.Option("--short", help="Venue that holds the short leg.")] = "okx",
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="BTC, BTC/USDT, ETH, SOL ...")] = "BTC/USDT",
    notional: Annotated[Decimal, decimal_option("--notional", help="Notional per leg in USDT.")] = Decimal(300),
    until: Annotated[str | None, typer.Option("--until", help="Close after this long: 90s, 15m, 8h, 2d.")] = None,
    take_profit: Annotated[
        Decimal | None, decimal_option("--take-profit", help="Close once the net PnL reaches this (USDT).")
    ] = None,
    max_loss_pct: Annotated[
        Decimal | None, decimal_option("--max-loss-pct", help="Close once the net loss passes this % of notional.")
    ] = Decimal(1),
    min_liq_distance_pct: Annotated[
        Decimal | None,
        decimal_option("--min-liq-distance-pct", help="Close once a leg's mark is this close (%) to liquidation."),
    ] = None,
    min_funding_apr: Annotated[
        Decimal | None,
        decimal_option("--min-funding-apr", help="Close once the funding spread stays below this APR (%) ..."),
    ] = None,
    min_funding_settlements: Annotated[
        int, typer.Option("--min-funding-settlements", help="... for this many settlements in a row.", min=1)
    ] = 2,
    max_basis_bps: Annotated[
        Decimal | None, decimal_option("--max-basis-bps", help="Close once |basis| between the marks passes this.")
    ] = None,
    max_delta_pct: Annotated[
        Decimal, decimal_option("--max-delta-pct", help="Re-hedge a net delta above this % of notional.")
    ] = Decimal(5),
    entry: Annotated[
        str,
        typer.Option(
            "--entry",
            help="taker: both legs market at once. maker-first: as bootstrap's (post-only on the venue with the "
            "higher taker fee, each fill hedged at once, the rest taken after --maker-timeout).",
        ),
    ] = "taker",
    maker_timeout: Annotated[
        Decimal, decimal_option("--maker-timeout", help="maker-first: seconds before the rest is taken.")
    ] = Decimal(30),
    max_slippage_bps: Annotated[
        Decimal, decimal_option("--max-slippage-bps", help="Refuse the open if spread or slippage exceeds this.")
    ] = Decimal(5),
    on_exit: Annotated[
        str, typer.Option("--on-exit", help="On Ctrl+C/SIGTERM: flatten (default) or keep the pair open.")
    ] = "flatten",
    refresh_s: Annotated[
        Decimal, decimal_option("--refresh-s", help="Read both venues at least this often (seconds).")
    ] = Decimal(5),
    notify: Annotated[
        list[str] | None, typer.Option("--notify", help="POST alerts here (repeatable); also HEDGECTL_NOTIFY.")
    ] = None,
    streams: Annotated[
        bool, typer.Option("--streams/--no-streams", help="Wake on the private order streams (else poll only).")
    ] = True,
    resume: Annotated[bool, typer.Option("--resume", help="Take over a carry that crashed or was kept.")] = False,
    adopt: Annotated[bool, typer.Option("--adopt", help="Carry the pair already open on --long/--short.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    live: Annotated[bool, typer.Option("--live", help="Confirm live mode (real money).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout: one event per change.")] = False,
) -> None:
    output.set_json_mode(json_out)
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.engine.carry.config import CarryConfig, parse_duration
    from hedgectl.engine.carry.notify import check_url
    from hedgectl.errors import UsageError
    from hedgectl.venues.registry import parse_venue

    if run is not None and not resume:
        raise UsageError(f"unexpected argument {run!r} (a run id goes with --resume)")
    if resume and adopt:
        raise UsageError("--resume and --adopt are two ways to start: give one")
    from hedgectl.engine.bootstrap.plan import Entry

    try:
        entry_mode = Entry(entry.strip().lower())
    except ValueError:
        raise UsageError(f"--entry must be taker or maker-first, got {entry!r}") from None
    if not Decimal(1) <= maker_timeout <= 3600:
        raise UsageError("--maker-timeout must be between 1 and 3600 seconds")
    if on_exit not in ("flatten", "keep"):
        raise UsageError("--on-exit must be flatten or keep")
    if not Decimal("0.1") <= refresh_s <= 3600:
        raise UsageError("--refresh-s must be between 0.1 and 3600")
    long_name, short_name = parse_venue(long), parse_venue(short)
    if long_name == short_name:
        raise UsageError("--long and --short must be two different venues")
    urls = [check_url(u) for u in notify or []]
    config = CarryConfig(
        symbol=canonical_symbol(symbol),
        long_venue=long_name,
        short_venue=short_name,
        notional_usdt=_positive("--notional", notional) or Decimal(0),
        until=parse_duration(until) if until is not None else None,
        take_profit_usdt=_positive("--take-profit", take_profit),
        max_loss_pct=_positive("--max-loss-pct", max_loss_pct),
        min_liq_distance_pct=_positive("--min-liq-distance-pct", min_liq_distance_pct),
        min_funding_apr=min_funding_apr,
        min_funding_settlements=min_funding_settlements,
        max_basis_bps=_positive("--max-basis-bps", max_basis_bps),
        max_delta_pct=_positive("--max-delta-pct", max_delta_pct),
        on_exit=on_exit,
        refresh_s=float(refresh_s),
    )
    _positive("--max-slippage-bps", max_slippage_bps)
    given = {name for name in (*RULE_OPTIONS, *PAIR_OPTIONS) if _given(ctx, name)}

    async def body(session: Session) -> int:
        return await _body(session, config, urls, run, resume=resume, adopt=adopt, slippage=max_slippage_bps,
                           json_out=json_out, streams=streams, given=given,
                           entry=(entry_mode, float(maker_timeout)))  # fmt: skip

    args: dict[str, Any] = config.as_args()
    if resume:
        args["resume"] = run or "last"
    if adopt:
        args["adopt"] = "true"
    args["entry"] = entry_mode.value
    run_command(ctx, "carry", args, body, json_mode=json_out, live=live, yes=yes, confirm_in_body=True)


async def _body(
    session: Session,
    config: CarryConfig,
    urls: list[str],
    run: str | None,
    *,
    resume: bool,
    adopt: bool,
    slippage: Decimal,
    json_out: bool,
    streams: bool = True,
    given: set[str] | None = None,
    entry: tuple[Any, float] | None = None,
) -> int:
    from hedgectl.cli import render
    from hedgectl.cli.breaker_cmd import limits_of, refuse_if_tripped
    from hedgectl.cli.carry_view import JsonReporter, RichReporter, report_result
    from hedgectl.engine.bootstrap.plan import HedgeConfig
    from hedgectl.engine.carry.notify import Notifier, secret_parts, split_urls
    from hedgectl.engine.carry.run import Resume, run_carry
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.engine.orders.dispatch import Dispatcher

    setting = session.settings.notify.get_secret_value() if session.settings.notify else None
    all_urls = [*urls, *split_urls(setting)]
    output.STATE.secrets = output.STATE.secrets | {s for u in all_urls for s in secret_parts(u)}
    taken: Resume | None = None
    if resume:
        config, taken = _resumable(session, run, config, given or set())
        session.journal.event(session.run_id, "carry.config", config.as_args())
    elif adopt:
        taken = Resume()
    else:
        refuse_if_tripped(session)  # opening new exposure: exit 4 while the breaker is tripped
    hedge_config = HedgeConfig(
        symbol=config.symbol,
        notional_usdt=config.notional_usdt,
        max_slippage_bps=slippage,
        max_position_duration_seconds=config.until.total_seconds() if config.until else 0.0,
        long_venue=config.long_venue,
        short_venue=config.short_venue,
        max_notional_usdt=session.settings.max_notional_usdt,
        **({"entry": entry[0], "maker_timeout_s": entry[1]} if entry else {}),
    )
    if taken is None:
        hedge_config.check_caps()
    for name in (config.long_venue, config.short_venue):
        session.registry.ensure_usable(name)
    long_venue = session.registry.venue(config.long_venue)
    short_venue = session.registry.venue(config.short_venue)
    if taken is not None and taken.runs:
        await _settle_chain(session, taken.runs, {v.name: v for v in (long_venue, short_venue)})
    reporter: Any = JsonReporter() if json_out else RichReporter()
    notifier = Notifier(all_urls, warn=render.warn)
    interrupts = Interrupts(
        render.warn,
        first_message=(
            "interrupted: stopping, and closing the pair if it is open (Ctrl+C twice more aborts at once, and "
            "positions may then remain open)"
            if config.on_exit == "flatten"
            else "interrupted: leaving the pair open (--on-exit keep); resume with `hedgectl carry --resume`"
        ),
        # A pair taken over (resume, adopt) may be open whatever this run journaled; a new one is open only once
        # its journal says so: a third Ctrl+C before any order exits 130, not 3.
        open_now=(
            (
                lambda: (
                    f"the carried {config.symbol} pair may be open: long on {config.long_venue}, short on "
                    f"{config.short_venue}"
                )
            )
            if resume or adopt
            else session.open_per_journal
        ),
        on_abort=session.record_abort,
    )
    interrupts.install()
    notifier.start()
    try:
        if not await legs_listed(session, interrupts, [long_venue, short_venue], config.symbol):
            return 130
        if not json_out:
            render.heading(f"hedgectl carry ({session.mode} mode, run {session.run_id})")
        result = await run_carry(
            long_venue,
            short_venue,
            Dispatcher(session.journal, session.run_id),
            config,
            hedge_config,
            reporter,
            interrupts,
            notifier=notifier,
            limits=limits_of(session.settings),
            resume=taken,
            confirm=_confirmation(session),
            streams=streams,
        )
        code = result.exit_code
        session.outcome.status = "kept" if result.kept else {0: "ok", 1: "failed", 3: "exposure", 4: "tripped",
                                                             130: "interrupted"}.get(code, "failed")  # fmt: skip
        session.outcome.net_pnl = result.net
        fills = session.journal.run_fills(session.run_id)
        session.outcome.volume = sum((f.qty * f.price for f in fills), Decimal(0)) if fills else None
        session.outcome.error = result.error or (result.exit_reason if code else None)
        report_result(result, json_out=json_out)
        return code
    finally:
        interrupts.uninstall()
        await notifier.aclose()


def _resumable(session: Session, run_id: str | None, typed: CarryConfig, given: set[str]) -> tuple[CarryConfig, Resume]:
    """The carry to resume (the given run, else the newest carry that did not close), its config and run chain.

    The exit rules given on the command line (`given`, their values in `typed`) replace the journaled ones; a pair
    option given that differs from the journaled pair is a usage error (the pair open is the journal's)."""
    from dataclasses import replace
    from datetime import datetime

    from hedgectl.engine.carry.config import CarryConfig
    from hedgectl.engine.carry.run import Resume
    from hedgectl.errors import UsageError

    journal = session.journal
    if run_id is not None:
        row = journal.run(run_id)
        if row is None or row.command != "carry":
            raise UsageError(f"no carry run {run_id!r} in the journal (see `hedgectl history`)")
    else:
        carries = [r for r in journal.runs(200) if r.command == "carry" and r.id != session.run_id]
        taken_over = {r.args.get("resume_of") for r in carries}
        candidates = [r for r in carries if r.status in RESUMABLE and r.id not in taken_over]
        if not candidates:
            raise UsageError("no carry to resume: every carry in the journal closed (see `hedgectl history`)")
        row = candidates[0]
    config = CarryConfig.from_args(row.args)
    for option, name in PAIR_OPTIONS.items():
        if option in given and getattr(typed, name) != getattr(config, name):
            raise UsageError(
                f"--{option} {getattr(typed, name)} differs from the carry resumed ({getattr(config, name)}): "
                "--resume carries the journaled pair; leave --long/--short/--symbol/--notional out"
            )
    config = replace(config, **{name: getattr(typed, name) for option, name in RULE_OPTIONS.items() if option in given})
    chain = [row.id]
    since = row.started_at
    previous = row.args.get("resume_of")
    while previous:  # the runs this one resumed, oldest first: their fills and funding are the carry's too
        earlier = journal.run(previous)
        if earlier is None:
            break
        chain.insert(0, earlier.id)
        since = earlier.started_at
        previous = earlier.args.get("resume_of")
    if row.ended_at is None:
        journal.mark_run_recovered(row.id, f"resumed by {session.run_id}")
    journal.event(session.run_id, "carry.resume_of", {"run": row.id})
    # The next resume follows this run back to the one it resumed (the run's args are what `start_run` wrote).
    journal.update_run_args(session.run_id, {**config.as_args(), "resume_of": row.id})
    return config, Resume(runs=tuple(chain), since=datetime.fromisoformat(since))


async def _settle_chain(session: Session, runs: tuple[str, ...], venues: dict[str, Any]) -> None:
    """Before a resume counts the carry's legs: journal the final state and fills of every order its runs left
    unacknowledged or working (looked up by client order id), so the opening fees and prices count. A run whose
    orders are all settled is recovered; an order that cannot be read is left as it was, and said so."""
    from hedgectl.cli import render
    from hedgectl.engine.orders.reconcile import settle_runs

    for settled in await settle_runs(session.journal, venues, runs):
        for error in settled.errors:
            render.warn(f"run {settled.run_id}: {error}; that order is left as the journal had it")
        if settled.done:
            session.journal.mark_run_recovered(settled.run_id, f"resumed by {session.run_id}")


def _confirmation(session: Session) -> Any:
    ask = session.confirm_live
    if ask is None:
        return None

    async def confirm(plan: Any) -> bool:
        return await ask(
            f"About to carry {plan.qty} {plan.symbol}: market-buy on {plan.long.venue}, market-sell on "
            f"{plan.short.venue} (~{plan.notional:.2f} USDT per leg), held until an exit rule."
        )

    return confirm
