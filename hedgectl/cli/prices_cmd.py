"""`hedgectl prices`: bid/ask/mid/funding across venues and the best cross-venue spread."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import require_listed, run_command

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.domain.funding_rates import PairCarry
    from hedgectl.domain.types import Quote

_BPS = Decimal("0.01")
HELP = "Bid, ask, mid, spread, mark and funding across venues, and the best cross-venue spread."


def prices(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="BTC, BTC/USDT, ETH, SOL, ASTER ...")] = "BTC",
    venue: Annotated[list[str] | None, typer.Option("--venue", help="Only this venue (repeatable).")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh the table until Ctrl+C.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds between refreshes.")] = 1.0,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout (JSON Lines with --watch).")] = False,
) -> None:
    output.set_json_mode(json_out)
    from hedgectl.domain.symbols import canonical_symbol

    base = canonical_symbol(symbol)

    async def body(session: Session) -> int:
        from hedgectl.cli import output, render
        from hedgectl.clock import SYSTEM_CLOCK
        from hedgectl.engine.interrupts import Interrupts
        from hedgectl.engine.survey import best_cross_spread, fetch_prices
        from hedgectl.venues.registry import parse_venue

        names = [parse_venue(v) for v in venue] if venue else session.registry.configured()
        for name in names:
            session.registry.ensure_usable(name)
        venues = [session.registry.venue(n) for n in names]
        await require_listed(venues, base, everywhere=False)
        interrupts = Interrupts(render.warn, first_message="interrupted: stopping", closed_output_message=None)
        if watch:
            interrupts.install()

        async def snapshot() -> dict[str, Any]:
            rows = await fetch_prices(venues, base)
            return {"symbol": base, "rows": rows, "cross": best_cross_spread(rows), "ts": SYSTEM_CLOCK.now()}

        if not watch:
            snap = await snapshot()
            if json_out:
                output.emit_document(_document(session.mode, snap))
            else:
                render.stdout_console().print(_price_table(session.mode, snap))
            return 0 if all(r.quote for r in snap["rows"]) else 1
        if json_out:
            while not interrupts.requested:
                output.emit_document(_document(session.mode, await snapshot()))
                await interrupts.sleep(interval)
            return interrupts.watch_exit_code  # a watch ends only when stopped: 130, or 141 (output gone)
        with render.live_table(lambda snap: _price_table(session.mode, snap, at=True), log_when_piped=True) as update:
            while not interrupts.requested:
                update(await snapshot())
                await interrupts.sleep(interval)
        return interrupts.watch_exit_code  # a watch ends only when stopped: 130, or 141 (output gone)

    args = {"symbol": base, "venue": venue, "watch": watch}
    run_command(ctx, "prices", args, body, json_mode=json_out, read_only=True, needs_journal=False)


def _document(mode: str, snap: dict[str, Any]) -> dict[str, Any]:
    venues = {}
    for row in snap["rows"]:
        q = row.quote
        venues[row.venue] = (
            {"error": row.error}
            if q is None
            else {
                "bid": q.bid,
                "ask": q.ask,
                "mid": q.mid,
                "spread_bps": q.spread_bps.quantize(_BPS),
                "mark": q.mark,
                "funding_rate": q.funding_rate,
                "next_funding_at": q.next_funding_at,
                "funding_interval_s": q.funding_interval,
                **_comparable(q),
            }
        )
    cross = snap["cross"]
    carry = _best_carry(snap["rows"])
    return {
        "ok": all(r.quote for r in snap["rows"]),
        "mode": mode,
        "symbol": snap["symbol"],
        "ts": snap["ts"],  # when the venues' answers were all in (ISO-8601, UTC)
        "venues": venues,
        "best_cross_spread": None
        if cross is None
        else {"buy": cross.buy_venue, "sell": cross.sell_venue, "bps": cross.bps.quantize(_BPS)},
        "best_funding_spread": None
        if carry is None
        else {
            "long": carry.long.venue,
            "short": carry.short.venue,
            "per_hour": carry.per_hour,
            "apr_pct": carry.apr_pct.quantize(_BPS),
        },
    }


def _best_carry(rows: list[Any]) -> PairCarry | None:
    """The pair whose funding pays most per hour: long where longs pay least, short where shorts get most."""
    from hedgectl.domain.funding_rates import PairCarry, funding_rate_of

    rates = [r for r in (funding_rate_of(row.quote) for row in rows if row.quote is not None) if r is not None]
    pairs = [PairCarry(long=a, short=b) for a in rates for b in rates if a.venue != b.venue]
    return max(pairs, key=lambda p: p.per_hour, default=None)


def _price_table(mode: str, snap: dict[str, Any], *, at: bool = False) -> Any:
    """The prices table; `at`: its title says when it was read (a watch's refreshes, one under the other in a log)."""
    from hedgectl.cli import render

    rows = []
    for row in snap["rows"]:
        q = row.quote
        if q is None:
            rows.append([row.venue, None, None, None, None, None, None, None, None, None, None, row.error])
            continue
        ttf = row.time_to_funding
        comparable = _comparable(q)
        rows.append(
            [
                row.venue,
                q.bid,
                q.ask,
                q.mid,
                q.spread_bps.quantize(_BPS),
                q.mark,
                f"{q.funding_rate * 100:.4f}%" if q.funding_rate is not None else None,
                _interval(q.funding_interval),
                _pct(comparable["funding_rate_per_hour"], 100, 5),
                _pct(comparable["funding_apr_pct"], 1, 2),
                render.duration(ttf.total_seconds()) if ttf is not None else None,
                "ok",
            ]
        )
    cross = snap["cross"]
    when = f", {snap['ts']:%H:%M:%S} UTC" if at else ""
    title = f"{snap['symbol']} prices ({mode} mode{when})"
    if cross is not None:
        title += f" - best cross spread: buy {cross.buy_venue} / sell {cross.sell_venue} {cross.bps.quantize(_BPS)} bps"
    carry = _best_carry(snap["rows"])
    if carry is not None:
        title += f"; best funding spread: long {carry.long.venue} / short {carry.short.venue} {carry.apr_pct:.2f}% APR"
    return render.make_table(
        title,
        ["venue", "bid", "ask", "mid", "spread bps", "mark", "funding", "every", "per hour", "APR", "next funding in",
         "status"],
        rows,
        right=["bid", "ask", "mid", "spread bps", "mark", "funding", "every", "per hour", "APR", "next funding in"],
    )  # fmt: skip


def _comparable(quote: Quote) -> dict[str, Decimal | None]:
    """The quote's funding rate per hour and annualised (APR %), None where the venue gave no rate or interval."""
    from hedgectl.domain.funding_rates import funding_rate_of

    rate = funding_rate_of(quote)
    return {
        "funding_rate_per_hour": None if rate is None else rate.per_hour,
        "funding_apr_pct": None if rate is None else rate.apr_pct.quantize(_BPS),
    }


def _pct(value: Decimal | None, scale: int, places: int) -> str | None:
    return None if value is None else f"{value * scale:.{places}f}%"


def _interval(interval: timedelta | None) -> str | None:
    if interval is None:
        return None
    minutes = int(interval.total_seconds()) // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
