"""`hedgectl history`: the journal's runs, and one run's orders, fills and PnL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli.common import announce_read_only, options

if TYPE_CHECKING:
    from hedgectl.domain.types import Fill, FundingPayment
    from hedgectl.journal.repository import RunRow

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
    from decimal import Decimal

    from hedgectl.cli import output
    from hedgectl.cli.history_view import NET_INCLUDES, plain, run_doc, runs_table

    output.set_json_mode(json_out)
    start, end = _when("--since", since), _when("--until", until)
    journal = _open_journal(ctx)
    try:
        period = [r for r in journal.runs(None, since=start, until=end) if all_runs or not r.read_only]
        fees = journal.fees_by_run([r.id for r in period])
        payments = {r.id: journal.run_funding(r.id) for r in period}
        slippage = {r.id: _run_slippage(journal.events(r.id)) for r in period if r.command.startswith("bp-aster")}
    finally:
        journal.close()
    lines = []
    for r in period:
        funding = _sum_per_asset({p.asset: p.amount} for p in payments[r.id])
        net, after = net_pnl(r, payments[r.id])
        volume = plain(r.volume)
        lines.append(
            {
                "run": r,
                "net_pnl": net,
                "fees": fees.get(r.id, {}),
                "funding": funding,
                "funding_after_end": after,
                "slippage": slippage.get(r.id),
                "cost_per_10k": _cost_per_10k(fees.get(r.id, {}), funding, volume, slippage.get(r.id)),
            }
        )
    total_fees = _sum_per_asset(fees.values())
    total_funding = _sum_per_asset(line["funding"] for line in lines)
    total_volume = sum((Decimal(r.volume) for r in period if r.volume), Decimal(0))
    totals = {
        "runs": len(period),
        "since": start,
        "until": end,
        "net_pnl": sum((line["net_pnl"] for line in lines if line["net_pnl"] is not None), Decimal(0)),
        "fees": total_fees,
        "funding": total_funding,
        "volume": total_volume,
        "cost_per_10k": _cost_per_10k(total_fees, total_funding, total_volume, sum(slippage.values(), Decimal(0))),
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


def net_pnl(run: RunRow, payments: list[FundingPayment]) -> tuple[Any, dict[str, Any]]:
    """The run's net PnL as its funding column counts it: the figure recorded when it ended plus the funding
    attributed to it that settled after that (a position it left open, read later by `positions`), in USDT with
    USDC at par; and that later funding per asset. None (unknown) when the run recorded no net PnL."""
    from datetime import datetime
    from decimal import Decimal

    from hedgectl.cli.history_view import plain
    from hedgectl.domain.pnl import net_with_later_funding

    recorded = plain(run.net_pnl)
    ended = datetime.fromisoformat(run.ended_at) if run.ended_at else None
    return net_with_later_funding(recorded if isinstance(recorded, Decimal) else None, ended, payments)


def _sum_per_asset(per_run: Any) -> dict[str, Any]:
    from decimal import Decimal

    total: dict[str, Decimal] = {}
    for per_asset in per_run:
        for asset, amount in per_asset.items():
            total[asset] = total.get(asset, Decimal(0)) + amount
    return total


def _cost_per_10k(fees: dict[str, Any], funding: dict[str, Any], volume: Any, slippage: Any = None) -> Any:
    """(fees + funding paid - funding received + the taker's slippage) / volume x 10,000, in USDT (USDC at par;
    see domain.pnl). The slippage is the loop's, from its journaled hedges; a bootstrap has no maker price, so
    none (README, "Cost per 10k")."""
    from decimal import Decimal

    from hedgectl.domain.pnl import cost_per_10k, sum_in_report_asset

    if not volume:
        return None
    try:
        fee_total = sum_in_report_asset((Decimal(v), a) for a, v in fees.items() if a)
        funding_total = sum_in_report_asset((Decimal(v), a) for a, v in funding.items())
    except ValueError:  # an asset without a stated rate: no figure rather than a wrong one
        return None
    cost = cost_per_10k(fee_total, funding_total, slippage or Decimal(0), Decimal(volume))
    return None if cost is None else cost.quantize(Decimal("0.01"))


def _run_slippage(events: list[dict[str, Any]]) -> Any:
    """What a loop's hedges paid against the maker's price, from its journaled `loop.hedge` events."""
    from decimal import Decimal

    hedges = [e["data"] for e in events if e["kind"] == "loop.hedge"]
    return sum((Decimal(str(h["slippage"])) for h in hedges if h.get("slippage") is not None), Decimal(0))


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
    net, after = net_pnl(run, payments)
    if not json_out:
        show_screen(run, net, orders, fills, payments, breakdown, order_fees)
        return
    output.emit_document(
        {
            "ok": True,
            "run": {**run_doc(run), "net_pnl": net, "net_pnl_at_end": plain(run.net_pnl), "funding_after_end": after},
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
