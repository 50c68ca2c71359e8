"""`hedgectl history`: the journal's runs, and one run's orders, fills and PnL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli.common import announce_read_only, options

if TYPE_CHECKING:
    from hedgectl.domain.types import Fill, FundingPayment

history_app = typer.Typer(help="Runs recorded in the journal.", no_args_is_help=False, invoke_without_command=True)


def _open_journal(ctx: typer.Context) -> Any:
    from hedgectl.cli.session import load, open_journal

    settings = load(options(ctx))
    announce_read_only(settings)
    return open_journal(settings)


def _when(option: str, value: str | None) -> Any:
    """--since/--until: an ISO date or date-time, UTC unless it says otherwise."""
    from datetime import UTC, datetime

    from hedgectl.errors import UsageError

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date or date-time (e.g. 2026-12-01 or 2026-12-01T08:00)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    """A journaled number in plain notation (older journals stored str(Decimal): "1E+1")."""
    from decimal import Decimal, InvalidOperation

    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _fees_text(fees: dict[str, Any]) -> str | None:
    from hedgectl.cli import render

    return ", ".join(f"{render.fmt(v)} {asset}" for asset, v in sorted(fees.items())) or None


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs to list, newest first.")] = 20,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs started at or after this UTC date/time (ISO).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only runs started before this UTC date/time (ISO).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    all_runs: Annotated[
        bool, typer.Option("--all", help="Also the read-only runs (connect, prices, positions, scan, dry runs).")
    ] = False,
) -> None:
    """List recent runs (id, command, started, ended, status, net PnL, fees, volume) and their totals over the
    period (all runs in --since/--until, not only the listed ones)."""
    if ctx.invoked_subcommand is not None:
        return
    from hedgectl.cli import output, render
    from hedgectl.journal.figures import run_figures, total

    output.set_json_mode(json_out)
    start, end = _when("--since", since), _when("--until", until)
    journal = _open_journal(ctx)
    try:
        period = [r for r in journal.runs(None, since=start, until=end) if all_runs or not r.read_only]
        figures = {r.id: run_figures(journal, r) for r in period}  # the report's figures too (journal.figures)
    finally:
        journal.close()
    runs = period[:limit]
    every = total(figures.values())
    totals = {
        "runs": len(period),
        "since": start,
        "until": end,
        "net_pnl": every.net,
        "fees": every.fees,
        "funding": every.funding,
        "volume": every.volume,
        "slippage": every.slippage,
        "cost_per_10k": every.cost_per_10k,
    }
    if json_out:
        output.emit_document(
            {
                "ok": True,
                "runs": [
                    {
                        **_run_doc(r),
                        "volume": figures[r.id].volume,
                        "fees": figures[r.id].fees,
                        "funding": figures[r.id].funding,
                        "slippage": figures[r.id].slippage,
                        "cost_per_10k": figures[r.id].cost_per_10k,
                    }
                    for r in runs
                ],
                "totals": totals,
            }
        )
        return
    rows: list[list[Any]] = [
        [
            r.id,
            r.command,
            r.mode,
            r.started_at[:19].replace("T", "\n"),  # date over time: the column stays narrow, neither is cut
            (r.ended_at or "")[11:19] or None,
            r.status,
            r.exit_code,
            _plain(r.net_pnl),
            _fees_text(figures[r.id].fees),
            _fees_text(figures[r.id].funding),
            figures[r.id].volume,
            _cost_text(figures[r.id].cost_per_10k),
        ]
        for r in runs
    ]
    period_text = f"{start.isoformat() if start else 'first run'} .. {end.isoformat() if end else 'now'}"
    rows.append(
        [
            f"total ({len(period)} runs)",
            None,
            None,
            None,
            None,
            None,
            None,
            totals["net_pnl"],
            _fees_text(every.fees),
            _fees_text(every.funding),
            every.volume,
            _cost_text(totals["cost_per_10k"]),
        ]
    )
    render.table(
        f"hedgectl runs ({period_text}; net pnl in USDT, fees and funding (+ received) per currency)",
        [
            "run",
            "command",
            "mode",
            "started",
            "ended",
            "status",
            "exit",
            "net pnl",
            "fees",
            "funding",
            "volume",
            "cost/10k",
        ],
        rows,
        right=["exit", "net pnl", "volume", "cost/10k"],
        whole=["run", "status", "exit"],
    )


def _cost_text(cost: Any) -> str | None:
    return None if cost is None else f"{cost:.2f}"


def _run_doc(run: Any) -> dict[str, Any]:
    import dataclasses

    doc = dataclasses.asdict(run)
    doc["net_pnl"], doc["volume"] = _plain(run.net_pnl), _plain(run.volume)
    return doc


@history_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id from `hedgectl history`.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show one run: its orders, fills and PnL (gross, fees, net per venue, from the recorded fills)."""
    from hedgectl.cli import output, render
    from hedgectl.errors import UsageError
    from hedgectl.journal.figures import figures_of

    output.set_json_mode(json_out)
    journal = _open_journal(ctx)
    try:
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} in the journal (see `hedgectl history`)")
        orders, fills, events = journal.orders(run_id), journal.fills(run_id), journal.events(run_id)
        run_fills = journal.run_fills(run_id)
        payments = journal.run_funding(run_id)
    finally:
        journal.close()
    breakdown = run_pnl(orders, run_fills, payments)
    volume = figures_of(run, fills, payments, events).volume
    order_fees = _order_fees(orders, fills)
    if json_out:
        output.emit_document(
            {
                "ok": True,
                "run": {**_run_doc(run), "volume": volume},
                "orders": [{**_order_doc(o), "fee": order_fees.get(o.client_order_id)} for o in orders],
                "fills": [{k: _plain(v) if k in ("qty", "price", "fee") else v for k, v in f.items()} for f in fills],
                "pnl": breakdown,
                "funding": [
                    {
                        "venue": f.venue,
                        "symbol": f.symbol,
                        "id": f.payment_id,
                        "at": f.at,
                        "asset": f.asset,
                        "amount": f.amount,
                    }
                    for f in payments
                ],
                "events": events,
            }
        )
        return
    ended = (
        f"exit {run.exit_code}"
        if run.exit_code is not None
        else ("still running" if run.ended_at is None else "no exit code recorded")
    )
    render.line(
        f"run {run.id}: {run.command} ({run.mode}) {run.status}, {ended}, "
        f"net pnl {render.fmt(_plain(run.net_pnl))}, volume {render.fmt(volume)}"
    )
    if run.error:
        render.line(f"error: {run.error}")
    render.table(
        "orders",
        [
            "client id",
            "venue",
            "symbol",
            "side",
            "type",
            "qty",
            "intent",
            "state",
            "status",
            "filled",
            "avg price",
            "fee",
        ],
        [
            [
                o.client_order_id,
                o.venue,
                o.symbol,
                o.side,
                o.type,
                _plain(o.qty),
                o.intent,
                o.state,
                o.status,
                _plain(o.filled_qty),
                _plain(o.avg_price),
                _fees_text(order_fees.get(o.client_order_id, {})),
            ]
            for o in orders
        ],
        right=["qty", "filled", "avg price"],
    )
    render.table(
        "fills",
        ["venue", "symbol", "order", "side", "qty", "price", "fee", "asset", "at"],
        [
            [
                f["venue"],
                f["symbol"],
                f["order_id"],
                f["side"],
                _plain(f["qty"]),
                _plain(f["price"]),
                _plain(f["fee"]),
                f["fee_asset"],
                f["at"],
            ]
            for f in fills
        ],
        right=["qty", "price", "fee"],
    )
    if payments:
        render.table(
            "funding (+ received, - paid)",
            ["venue", "symbol", "at", "amount", "asset"],
            [[f.venue, f.symbol, f.at.isoformat()[:19], render.fmt(f.amount), f.asset] for f in payments],
            right=["amount"],
        )
    if breakdown["venues"]:
        rows = [
            [
                v,
                p["asset"],
                render.fmt(p["gross"], 4),
                render.fmt(p["fees"], 4),
                render.fmt(p["funding"], 4),
                render.fmt(p["net"], 4),
            ]
            for v, p in breakdown["venues"].items()
        ]
        base = breakdown["notional_opened"]
        title = "PnL from the recorded fills"
        if breakdown["net"] is None:
            title += " (fees only: opened in another run)"
        if base:
            title += f" (net {breakdown['net_bps']} bps of {render.fmt(base, 2)} opened per leg)"
        render.table(
            title,
            ["venue", "asset", "gross", "fees", "funding", "net"],
            rows,
            right=["gross", "fees", "funding", "net"],
        )


def _order_doc(row: Any) -> dict[str, Any]:
    import dataclasses

    doc = dataclasses.asdict(row)
    return {k: _plain(v) if k in ("qty", "filled_qty", "avg_price", "price") else v for k, v in doc.items()}


def _order_fees(orders: list[Any], fills: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """client order id -> fee asset -> fees, from the order's recorded fills (the ack alone rarely has them)."""
    from decimal import Decimal

    by_venue_order = {(o.venue, o.venue_order_id): o.client_order_id for o in orders if o.venue_order_id}
    out: dict[str, dict[str, Any]] = {}
    for f in fills:
        cid = f["client_order_id"] or by_venue_order.get((f["venue"], f["order_id"]))
        if cid is None:
            continue
        per_asset = out.setdefault(cid, {})
        per_asset[f["fee_asset"]] = per_asset.get(f["fee_asset"], Decimal(0)) + Decimal(f["fee"])
    for o in orders:  # no fill recorded: what the venue's reply said, if anything (asset unknown here)
        if o.client_order_id not in out and o.fee is not None:
            out[o.client_order_id] = {"": Decimal(o.fee)}
    return out


def run_pnl(orders: list[Any], all_fills: list[Fill], funding: list[FundingPayment] | None = None) -> dict[str, Any]:
    """Per venue gross, fees, funding and net of a run's recorded fills and funding payments, and net bps of the
    opened notional per leg."""
    from decimal import Decimal

    from hedgectl.domain.pnl import bps_of, leg_pnl, opened_notional_per_leg

    funding = funding or []
    venues: dict[str, Any] = {}
    total: Decimal | None = Decimal(0)
    for venue in sorted({f.venue for f in all_fills} | {p.venue for p in funding}):
        mine = [f for f in all_fills if f.venue == venue]
        pnl = leg_pnl(mine, sum((p.amount for p in funding if p.venue == venue), Decimal(0)))
        # Fills that open and close within the run: their cash flow is the PnL. Otherwise (a flatten closing
        # what an earlier run opened) it is not, and only the fees are shown here; the run's own figure stands.
        closed_in_run = sum((f.side.sign * f.qty for f in mine), Decimal(0)) == 0
        venues[venue] = {
            "asset": ", ".join(sorted({f.fee_asset for f in mine} | {p.asset for p in funding if p.venue == venue})),
            "gross": pnl.gross if closed_in_run else None,
            "fees": pnl.fees,
            "funding": pnl.funding,
            "net": pnl.net if closed_in_run else None,
        }
        if closed_in_run and total is not None:
            total += pnl.net
        else:
            total = None
    opening = {(o.venue, o.venue_order_id) for o in orders if o.intent == "open" and o.venue_order_id}
    base = opened_notional_per_leg(f for f in all_fills if (f.venue, f.order_id) in opening)
    return {
        "venues": venues,
        "net": total,
        "notional_opened": base,
        "net_bps": bps_of(total, base).quantize(Decimal("0.01")) if base and total is not None else None,
    }
