"""`hedgectl positions`: read-only view of open positions and orders on every venue, and net exposure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli.common import run_command

if TYPE_CHECKING:
    from hedgectl.cli.session import Session

HELP = (
    "Show every venue's open positions (size, side, entry, mark, unrealised PnL, liquidation price, margin mode "
    "and leverage where the venue reports them) and open orders, and the net exposure per base asset. Read-only."
)
# Read-only: sends no order, so like `connect` it takes no --live and runs in live mode under the LIVE banner.


def positions(
    ctx: typer.Context,
    venue: Annotated[list[str] | None, typer.Option("--venue", help="Only this venue (repeatable).")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="Only this symbol (BTC, ETH ...).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    from hedgectl.cli import output
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.venues.registry import parse_venue

    output.set_json_mode(json_out)
    names = [parse_venue(v) for v in venue] if venue else None
    base = canonical_symbol(symbol) if symbol else None

    async def body(session: Session) -> int:
        from hedgectl.cli.connect_cmd import raise_no_venues
        from hedgectl.engine.positions import read_positions

        scope = names or session.registry.configured()
        if not scope:
            raise_no_venues(session)
        for name in scope:
            session.registry.ensure_usable(name)
        report = await read_positions([session.registry.venue(n) for n in scope], base, session.journal)
        if json_out:
            output.emit_document(_document(session, report))
        else:
            _render(session, report)
        return 0 if report.ok else 1

    run_command(ctx, "positions", {"venue": names or "all", "symbol": base}, body, json_mode=json_out, read_only=True)


def _document(session: Session, report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "mode": session.mode,
        "run_id": session.run_id,
        "venues": {
            v.venue: {
                "error": v.error,
                "listed": not v.not_listed,
                "positions": [
                    {
                        "symbol": p.symbol,
                        "side": "long" if p.qty > 0 else "short",
                        "qty": p.qty,
                        "entry_price": p.entry_price,
                        "mark_price": p.mark_price,
                        "unrealized_pnl": p.unrealized_pnl,
                        "pnl_asset": v.pnl_asset.get(p.symbol),
                        "liquidation_price": p.liquidation_price,
                        "margin_mode": p.margin_mode,
                        "leverage": p.leverage,
                        "funding": _funding_doc(report.funding.get((v.venue, p.symbol))),
                    }
                    for p in v.positions
                ],
                "open_orders": [
                    {
                        "symbol": o.symbol,
                        "order_id": o.order_id,
                        "client_order_id": o.client_order_id,
                        "side": o.side,
                        "type": o.type,
                        "qty": o.qty,
                        "filled_qty": o.filled_qty,
                        "price": o.price,
                        "reduce_only": o.reduce_only,
                    }
                    for o in v.open_orders
                ],
            }
            for v in report.venues
        },
        "net_exposure": [
            {"symbol": e.symbol, "net_qty": e.net_qty, "by_venue": e.by_venue} for e in report.net_exposure()
        ],
    }


def _funding_doc(funding: Any) -> dict[str, Any] | None:
    """Funding since the run that opened the position (`run_id` null: the journal cannot tell which did)."""
    if funding is None:
        return None
    return {
        "run_id": funding.run_id,
        "amount": funding.net,
        "asset": funding.asset,
        "payments": funding.payments,
        "error": funding.error,
    }


def _funding_text(funding: Any) -> str | None:
    from hedgectl.cli import render

    if funding is None or funding.run_id is None:
        return None
    if funding.net is None:
        return f"unknown ({funding.error}) (run {funding.run_id})"
    amount = f"{render.fmt(funding.net)} {funding.asset or ''}".rstrip()
    return f"{amount}, + received, {funding.payments} payment(s) (run {funding.run_id})"


def _render(session: Session, report: Any) -> None:
    from hedgectl.cli import render

    rows = []
    for v in report.venues:
        if v.error is not None:
            rows.append([v.venue, "unreadable", "-", "-", "-", "-", "-", "-", "-"])
            continue
        for p in v.positions:
            asset = v.pnl_asset.get(p.symbol, "")
            pnl = None if p.unrealized_pnl is None else f"{render.fmt(p.unrealized_pnl)} {asset}"
            margin = " ".join(x for x in (p.margin_mode, f"{render.fmt(p.leverage)}x" if p.leverage else None) if x)
            side = "long" if p.qty > 0 else "short"
            rows.append(
                [v.venue, p.symbol, side, render.fmt(abs(p.qty)), p.entry_price, p.mark_price, pnl,
                 p.liquidation_price, margin or None]
            )  # fmt: skip
        if not v.positions:
            rows.append([v.venue, "not listed" if v.not_listed else "flat", "-", "-", "-", "-", "-", "-", "-"])
    render.table(
        f"positions ({session.mode} mode)",
        ["venue", "symbol", "side", "size", "entry", "mark", "unrealised PnL", "liq. price", "margin"],
        rows,
        right=["size", "entry", "mark", "unrealised PnL", "liq. price"],
    )
    for (venue, symbol), funding in sorted(report.funding.items()):
        text = _funding_text(funding)
        if text is not None:
            render.line(f"funding on {venue} {symbol} since it was opened: {text}")
    for v in report.venues:
        if v.error is not None:
            render.error(f"{v.venue}: could not be read: {v.error}")
    orders = [
        [v.venue, o.symbol, o.side.value, o.type.value, o.qty, o.filled_qty, o.price, o.order_id]
        for v in report.venues
        for o in v.open_orders
    ]
    if orders:
        render.table(
            "open orders",
            ["venue", "symbol", "side", "type", "qty", "filled", "price", "order id"],
            orders,
            right=["qty", "filled", "price"],
        )
    else:
        render.line("open orders: none" if report.ok else "open orders: none on the venues read")
    unread = [v.venue for v in report.venues if v.error is not None]
    exposure = report.net_exposure()
    if exposure:  # of the venues read
        render.table(
            "net exposure per base asset (0 = hedged)",
            ["asset", "net qty", "by venue"],
            [
                [
                    e.symbol,
                    f"{e.net_qty.normalize():+f}" if e.net_qty else "0",
                    ", ".join(f"{n} {q.normalize():+f}" for n, q in e.by_venue.items()),
                ]
                for e in exposure
            ],
            right=["net qty"],
        )
    if unread:  # what could not be read is never counted as flat
        render.line(f"net exposure: unknown - {', '.join(unread)} could not be read")
    elif not exposure:
        render.line("net exposure: none (flat everywhere)")
    render.line(f"run {session.run_id}")
