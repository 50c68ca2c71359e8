"""`hedgectl prices`: bid/ask/mid/funding across venues and the best cross-venue spread."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import require_listed, run_command
from hedgectl.cli.session import Session

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
        from hedgectl.engine.interrupts import Interrupts
        from hedgectl.engine.survey import best_cross_spread, fetch_prices
        from hedgectl.venues.registry import parse_venue

        names = [parse_venue(v) for v in venue] if venue else session.registry.configured()
        for name in names:
            session.registry.ensure_usable(name)
        venues = [session.registry.venue(n) for n in names]
        await require_listed(venues, base, everywhere=False)
        interrupts = Interrupts(render.warn, first_message="interrupted: stopping")
        if watch:
            interrupts.install()

        async def snapshot() -> dict[str, Any]:
            rows = await fetch_prices(venues, base)
            return {"symbol": base, "rows": rows, "cross": best_cross_spread(rows)}

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
            return 0
        with render.live_table(lambda snap: _price_table(session.mode, snap)) as update:
            while not interrupts.requested:
                update(await snapshot())
                await interrupts.sleep(interval)
        return 0

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
            }
        )
    cross = snap["cross"]
    return {
        "ok": all(r.quote for r in snap["rows"]),
        "mode": mode,
        "symbol": snap["symbol"],
        "venues": venues,
        "best_cross_spread": None
        if cross is None
        else {"buy": cross.buy_venue, "sell": cross.sell_venue, "bps": cross.bps.quantize(_BPS)},
    }


def _price_table(mode: str, snap: dict[str, Any]) -> Any:
    from hedgectl.cli import render

    rows = []
    for row in snap["rows"]:
        q = row.quote
        if q is None:
            rows.append([row.venue, None, None, None, None, None, None, None, row.error])
            continue
        ttf = row.time_to_funding
        rows.append(
            [
                row.venue,
                q.bid,
                q.ask,
                q.mid,
                q.spread_bps.quantize(_BPS),
                q.mark,
                f"{q.funding_rate * 100:.4f}%" if q.funding_rate is not None else None,
                _duration(ttf.total_seconds()) if ttf is not None else None,
                "ok",
            ]
        )
    cross = snap["cross"]
    title = f"{snap['symbol']} prices ({mode} mode)"
    if cross is not None:
        title += f" - best cross spread: buy {cross.buy_venue} / sell {cross.sell_venue} {cross.bps.quantize(_BPS)} bps"
    return render.make_table(
        title,
        ["venue", "bid", "ask", "mid", "spread bps", "mark", "funding", "next funding in", "status"],
        rows,
        right=["bid", "ask", "mid", "spread bps", "mark", "funding", "next funding in"],
    )


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"


