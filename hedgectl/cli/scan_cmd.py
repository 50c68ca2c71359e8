"""`hedgectl scan`: funding-carry opportunities across venues, ranked by the expected result of a hold."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import run_command
from hedgectl.cli.params import decimal_option

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.domain.funding_rates import FundingRate
    from hedgectl.engine.scan.pairs import Listing, Opportunity
    from hedgectl.engine.scan.reads import ScanResult, Source

HELP = (
    "Funding-carry opportunities: for every base on two venues and every long/short pair, the funding spread per "
    "hour and APR, basis, entry/exit cost at --notional, and the expected result of holding --hold. Read only."
)
DEFAULT_VENUES = "binance,okx,backpack,aster"
# ccxt's id of each of our venues: how one is read through ccxt (`ccxt:binanceusdm`, or live without keys).
CCXT_IDS = {"binance": "binanceusdm", "okx": "okx", "backpack": "backpack", "aster": "aster"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT_S = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_HUNDREDTH = Decimal("0.01")
_MONEY = Decimal("0.000001")


def parse_hold(text: str) -> timedelta:
    """`8h`, `30m`, `1d`, `1h30m`, `90s` (a bare number is hours) -> timedelta; a usage error otherwise."""
    from hedgectl.errors import UsageError

    raw = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        raw += "h"
    if not raw or _DURATION.sub("", raw) != "":
        raise UsageError(f"--hold must be a duration such as 8h, 30m, 1d or 1h30m, got {text!r}")
    seconds = sum(Decimal(n) * _UNIT_S[unit] for n, unit in _DURATION.findall(raw))
    if not 0 < seconds <= 365 * 86_400:
        raise UsageError(f"--hold must be more than 0 and at most a year, got {text!r}")
    return timedelta(seconds=float(seconds))


def _names(text: str, flag: str) -> list[str]:
    from hedgectl.errors import UsageError

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{flag} is empty")
    if len(set(names)) != len(names):
        raise UsageError(f"{flag} names something twice: {text!r}")
    return names


def scan(
    ctx: typer.Context,
    symbols: Annotated[
        str | None, typer.Option("--symbols", help="Bases to scan, e.g. BTC,ETH (default: every base on 2+ venues).")
    ] = None,
    venues: Annotated[
        str | None,
        typer.Option(
            "--venues",
            help="Our venues (binance, okx, backpack, aster) and any exchange ccxt knows (bybit, ...); "
            "ccxt:ID reads one of ours through ccxt. Default: ours (in testnet mode: those with a test environment "
            "and keys).",
        ),
    ] = None,
    notional: Annotated[
        Decimal, decimal_option("--notional", help="Notional per leg for the entry/exit cost (USDT).")
    ] = Decimal(1000),
    hold: Annotated[str, typer.Option("--hold", help="How long the pair would be held: 8h, 30m, 1d, 1h30m.")] = "8h",
    min_apr: Annotated[
        Decimal | None, decimal_option("--min-apr", help="Only opportunities whose net APR % reaches this.")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl+C, with a timestamp.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=1.0, help="Seconds between refreshes.")] = 30.0,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.5, max=120.0, help="Seconds one read may take before its venue is marked."),
    ] = 10.0,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout (JSON Lines with --watch).")] = False,
) -> None:
    output.set_json_mode(json_out)
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.engine.scan.reads import ScanConfig
    from hedgectl.errors import UsageError

    if notional <= 0:
        raise UsageError(f"--notional must be a positive number, got {notional}")
    venue_names = None if venues is None else [n.lower() for n in _names(venues, "--venues")]
    if venue_names is not None and len(venue_names) < 2:
        raise UsageError("--venues needs at least two venues to pair")
    bases = None if symbols is None else tuple(dict.fromkeys(canonical_symbol(s) for s in _names(symbols, "--symbols")))
    config = ScanConfig(notional=notional, hold=parse_hold(hold), symbols=bases, min_apr_pct=min_apr, timeout_s=timeout)

    async def body(session: Session) -> int:
        from hedgectl.cli import render
        from hedgectl.clock import SYSTEM_CLOCK
        from hedgectl.engine.interrupts import Interrupts
        from hedgectl.engine.scan.reads import scan as run_scan

        names = venue_names if venue_names is not None else _default_venues(session)
        sources = _sources(session, names)
        interrupts = Interrupts(render.warn, first_message="interrupted: stopping", closed_output_message=None)
        if watch:
            interrupts.install()
        try:
            if not watch:
                result = _listed(await run_scan(sources, config, SYSTEM_CLOCK.now))
                if json_out:
                    output.emit_document(_document(session.mode, result))
                else:
                    render.stdout_console().print(_table(session.mode, result))
                return 0 if result.ok else 1
            if json_out:
                checked = False
                while not interrupts.requested:
                    result = await run_scan(sources, config, SYSTEM_CLOCK.now)
                    output.emit_document(_document(session.mode, result if checked else _listed(result)))
                    checked = True
                    await interrupts.sleep(interval)
                return interrupts.watch_exit_code  # a watch ends only when stopped: 130, or 141 (output gone)
            first = _listed(await run_scan(sources, config, SYSTEM_CLOCK.now))
            with render.live_table(lambda result: _table(session.mode, result), log_when_piped=True) as update:
                update(first)
                while not interrupts.requested:
                    await interrupts.sleep(interval)
                    if not interrupts.requested:
                        update(await run_scan(sources, config, SYSTEM_CLOCK.now))
            return interrupts.watch_exit_code  # a watch ends only when stopped: 130, or 141 (output gone)
        finally:
            for source in sources:
                await source.close()

    args = {"symbols": symbols, "venues": venues, "notional": str(notional), "hold": hold, "watch": watch}
    run_command(ctx, "scan", args, body, json_mode=json_out, read_only=True, needs_journal=False)


def _listed(result: ScanResult) -> ScanResult:
    """`--symbols` that no venue lists: none listed anywhere is a usage error (exit 2, as `prices` says of an
    unknown symbol); some are a warning, and the scan goes on with the others. A venue that could not be read may
    list them, so then nothing is concluded (the venue's failure is reported instead)."""
    from hedgectl.cli import render
    from hedgectl.errors import UsageError

    asked = result.config.symbols or ()
    if not result.unlisted:
        return result
    where = ", ".join(result.venues)
    names = ", ".join(repr(base) for base in result.unlisted)
    if len(result.unlisted) == len(asked) and result.ok:
        raise UsageError(f"unknown symbol{'s' if len(asked) > 1 else ''} {names}: not listed on {where}")
    render.warn(f"not listed on any venue read ({where}): {names}")
    return result


def _default_venues(session: Session) -> list[str]:
    """Our four; in testnet mode only those with a test environment and keys (there is no public-data fallback)."""
    from hedgectl.domain.types import Mode
    from hedgectl.errors import ConfigError

    if session.registry.mode is not Mode.TESTNET:
        return DEFAULT_VENUES.split(",")
    usable = session.registry.configured()
    if len(usable) < 2:
        raise ConfigError("scan needs two venues: testnet mode has keys and a test environment for fewer than two")
    return usable


def _sources(session: Session, names: list[str]) -> list[Source]:
    """Build one source per venue name: ours through the adapter (through ccxt's public data when live mode has
    no keys for it), `ccxt:ID` and other exchanges through ccxt. An unknown name is a usage error."""
    from hedgectl.domain.fees import PUBLISHED_TAKER_FEE_RATE
    from hedgectl.domain.types import Mode
    from hedgectl.engine.scan.reads import AdapterSource, CcxtSource
    from hedgectl.errors import ConfigError, UsageError
    from hedgectl.venues.base import VENUE_IDS

    registry = session.registry
    ours_by_ccxt = {v: k for k, v in CCXT_IDS.items()}
    sources: list[Source] = []
    for name in names:
        if name in VENUE_IDS and not (registry.mode is Mode.LIVE and not session.settings.has_credentials(name)):
            registry.ensure_usable(name)
            sources.append(AdapterSource(registry.venue(name), account_fees=True))
            continue
        exchange_id = name.removeprefix("ccxt:") if name.startswith("ccxt:") else CCXT_IDS.get(name, name)
        if registry.mode is Mode.TESTNET:
            raise ConfigError(f"{name}: scan reads exchanges through ccxt in paper mode (simulated) or live mode only")
        from hedgectl.venues.ccxt_public import CcxtPublic, exchange_ids

        if exchange_id not in exchange_ids():
            raise UsageError(f"unknown venue {name!r}: not one of {', '.join(VENUE_IDS)} nor an exchange ccxt knows")
        sim_url = registry.sim_url() if registry.mode is Mode.PAPER else None
        reader = CcxtPublic(exchange_id, name=name, sim_url=sim_url)
        ours = ours_by_ccxt.get(exchange_id)
        sources.append(CcxtSource(reader, published_fee=PUBLISHED_TAKER_FEE_RATE.get(ours) if ours else None))
    return sources


def _funding_doc(rate: FundingRate) -> dict[str, Any]:
    return {
        "rate": rate.rate,
        "interval_s": rate.interval,
        "per_hour": rate.per_hour,
        "apr_pct": rate.apr_pct.quantize(_HUNDREDTH),
        "next_at": rate.next_at,
    }


def _fee_doc(leg: Listing) -> dict[str, Any]:
    return {"taker_rate": leg.taker_fee_rate, "source": leg.fee_source}


def opportunity_doc(o: Opportunity) -> dict[str, Any]:
    """One ranked pair as `--json` shows it."""
    from hedgectl.engine.scan.pairs import PAR_NOTE

    return {
        "base": o.base,
        "long": o.long.venue,
        "short": o.short.venue,
        "long_settle": o.long.settle,
        "short_settle": o.short.settle,
        "mixed_settlement": o.mixed_settlement,
        "funding_apr_pct": o.funding_apr_pct.quantize(_HUNDREDTH),
        "funding_per_hour": o.funding_per_hour,
        "basis_bps": o.basis_bps.quantize(_HUNDREDTH),
        "entry_exit_cost_bps": o.entry_exit_cost_bps.quantize(_HUNDREDTH),
        "expected_pnl": o.expected_pnl.quantize(_MONEY),
        "net_apr_pct": o.net_apr_pct.quantize(_HUNDREDTH),
        "asset": o.asset,
        "conversion": PAR_NOTE if o.mixed_settlement else None,
        "qty": o.qty,
        "notional": o.notional,
        "entry_exit_cost": o.entry_exit_cost.quantize(_MONEY),
        "fees": {"long": _fee_doc(o.long), "short": _fee_doc(o.short), "total": o.fees.quantize(_MONEY)},
        "funding_carry": o.funding_carry.quantize(_MONEY),
        "long_funding": _funding_doc(o.long_funding),
        "short_funding": _funding_doc(o.short_funding),
        "mid": {"long": o.long.mid, "short": o.short.mid},
    }


def _document(mode: str, result: ScanResult) -> dict[str, Any]:
    config = result.config
    return {
        "ok": result.ok,
        "mode": mode,
        "as_of": result.as_of,
        "notional": config.notional,
        "hold_s": config.hold,
        "min_apr_pct": config.min_apr_pct,
        "opportunities": [opportunity_doc(o) for o in result.opportunities],
        "below_min_apr": result.below_min_apr,
        "unlisted": result.unlisted,
        "unranked": [
            {
                "base": u.base,
                "long": u.long,
                "short": u.short,
                "long_settle": u.long_settle,
                "short_settle": u.short_settle,
                "reason": u.reason,
            }
            for u in result.unranked
        ],
        "venues": {name: {"ok": s.ok, "markets": s.markets, "error": s.error} for name, s in result.venues.items()},
    }


def _rate_cell(rate: FundingRate) -> str:
    hours = rate.interval.total_seconds() / 3600
    return f"{(rate.rate * 100).normalize():f}%/{hours:g}h"


def _table(mode: str, result: ScanResult) -> Any:
    from hedgectl.cli import render

    config = result.config
    hold_h = config.hold.total_seconds() / 3600
    rows: list[list[Any]] = []
    for o in result.opportunities:
        settle = o.long.settle if not o.mixed_settlement else f"{o.long.settle}/{o.short.settle}"
        rows.append(
            [
                o.base,
                o.long.venue,
                o.short.venue,
                settle,
                f"{_rate_cell(o.long_funding)} / {_rate_cell(o.short_funding)}",
                f"{o.funding_apr_pct:.2f}%",
                f"{o.basis_bps:.2f}",
                f"{o.entry_exit_cost_bps:.2f}",
                f"{o.funding_carry:+.2f}",
                f"{o.expected_pnl:+.2f}",
                f"{o.net_apr_pct:.2f}%",
            ]
        )
    for u in result.unranked:
        known = "/".join(dict.fromkeys(s for s in (u.long_settle, u.short_settle) if s))
        rows.append([u.base, u.long, u.short, known or None, *(None,) * 6, u.reason])
    title = (
        f"scan ({mode} mode) as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC - {config.notional} per leg, hold {hold_h:g}h, "
        "best first" + (f", net APR >= {config.min_apr_pct}%" if config.min_apr_pct is not None else "")
    )
    columns = ["base", "long", "short", "settle", "rates long / short", "funding APR", "basis bps", "cost bps", "carry",
               "expected", "net APR"]  # fmt: skip
    table = render.make_table(title, columns, rows, right=columns[4:], key=3)  # a base has a row per pair of venues
    notes = [
        "funding APR: the short's rate less the long's, per hour x 8760; carry: funding at both venues' settlements "
        "within the hold at today's rates; cost: both books walked in and out at this size plus four taker fees; "
        "expected = carry - cost",
    ]
    fees = {}
    for o in result.opportunities:
        for leg in (o.long, o.short):
            rate = (leg.taker_fee_rate or Decimal(0)) * 100
            fees[leg.venue] = f"{leg.venue} {rate.normalize():f}% ({leg.fee_source})"
    if fees:
        notes.append(
            "taker fees: " + ", ".join(fees[v] for v in sorted(fees)) + " - default: the venue's published base tier, "
            "account: your own tier"
        )
    assets = sorted({o.asset for o in result.opportunities})
    if assets:
        notes.append(f"money in {', '.join(assets)}")
    if any(o.mixed_settlement for o in result.opportunities):
        notes.append("USDT/USDC pairs: money in USDT with USDC counted at par")
    if result.below_min_apr:
        notes.append(f"{result.below_min_apr} pair(s) below --min-apr not shown")
    notes += [s.error for s in result.venues.values() if not s.ok and s.error]
    return render.with_line(table, "\n".join(notes), style="dim")
