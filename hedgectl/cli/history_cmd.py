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
    """List recent runs (id, command, started, status, net PnL, fees, funding, volume, cost per 10k) and their
    totals over the period (all runs in --since/--until, not only the listed ones)."""
    if ctx.invoked_subcommand is not None:
        return
    from hedgectl.cli import output
    from hedgectl.cli.history_view import NET_INCLUDES, plain, run_doc, runs_table
    from hedgectl.journal.figures import run_figures, total

    output.set_json_mode(json_out)
    start, end = _when("--since", since), _when("--until", until)
    journal = _open_journal(ctx)
    try:
        period = [r for r in journal.runs(None, since=start, until=end) if all_runs or not r.read_only]
        figures = {r.id: run_figures(journal, r) for r in period}  # the report's figures too (journal.figures)
    finally:
        journal.close()
    lines = [
        {
            "run": r,
            "net_pnl": f.net,
            "fees": f.fees,
            "funding": f.funding,
            "funding_after_end": f.funding_after_end,
            "volume": f.volume,
            "slippage": f.slippage,
            "cost_per_10k": f.cost_per_10k,
        }
        for r in period
        for f in (figures[r.id],)
    ]
    every = total(figures.values())
    # A run that traded without a known net PnL (it ended before it could account, its fills unreadable) has its
    # fees in the fees total but nothing in the net: the net total then says how many runs it counts.
    traded = [f for f in figures.values() if f.net is not None or f.volume or any(f.fees.values())]
    known = sum(1 for f in traded if f.net is not None)
    totals = {
        "runs": len(period),
        "since": start,
        "until": end,
        "net_pnl": every.net if known or not traded else None,
        "net_pnl_runs": {"counted": known, "of": len(traded)},  # runs that traded: those whose net is known
        "net_pnl_partial": known < len(traded),
        "fees": every.fees,
        "funding": every.funding,
        "volume": every.volume,
        "slippage": every.slippage,
        "cost_per_10k": every.cost_per_10k,
    }
    shown = lines[:limit]
    if json_out:
        runs = [
            {
                **run_doc(x["run"]),
                "net_pnl_at_end": plain(x["run"].net_pnl),
                **{k: v for k, v in x.items() if k != "run"},
            }
            for x in shown
        ]
        output.emit_document({"ok": True, "net_pnl_includes": NET_INCLUDES, "runs": runs, "totals": totals})
        return
    period_text = f"{start.isoformat() if start else 'first run'} .. {end.isoformat() if end else 'now'}"
    runs_table(shown, totals, period_text)


@history_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id from `hedgectl history`.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show one run: its orders, fills and PnL (gross, fees, net per venue, from the recorded fills)."""
    from hedgectl.cli import output
    from hedgectl.cli.history_view import NET_INCLUDES, order_doc, plain, run_doc, show_screen
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
    order_fees = _order_fees(orders, fills)
    figures = figures_of(run, fills, payments, events)  # history's and the report's (journal.figures)
    net, after = figures.net, figures.funding_after_end
    if not json_out:
        show_screen(run, net, figures.volume, orders, fills, payments, breakdown, order_fees)
        return
    output.emit_document(
        {
            "ok": True,
            "run": {
                **run_doc(run),
                "net_pnl": net,
                "net_pnl_at_end": plain(run.net_pnl),
                "funding_after_end": after,
                "volume": figures.volume,
            },
            "net_pnl_includes": NET_INCLUDES,
            "orders": [{**order_doc(o), "fee": order_fees.get(o.client_order_id)} for o in orders],
            "fills": [{k: plain(v) if k in ("qty", "price", "fee") else v for k, v in f.items()} for f in fills],
            "pnl": breakdown,
            "funding": [
                {"venue": f.venue, "symbol": f.symbol, "id": f.payment_id, "at": f.at, "asset": f.asset,
                 "amount": f.amount}
                for f in payments
            ],
            "events": events,
        }
    )  # fmt: skip


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


OPENING_INTENTS = ("open", "carry_open")  # a bootstrap's and a carry's orders that open their pair


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
    opening = {(o.venue, o.venue_order_id) for o in orders if o.intent in OPENING_INTENTS and o.venue_order_id}
    base = opened_notional_per_leg(f for f in all_fills if (f.venue, f.order_id) in opening)
    return {
        "venues": venues,
        "net": total,
        "notional_opened": base,
        "net_bps": bps_of(total, base).quantize(Decimal("0.01")) if base and total is not None else None,
    }
