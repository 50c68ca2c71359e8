"""`hedgectl flatten`: the kill switch. Cancel every open order, close every position, verify flat."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgectl.cli import output
from hedgectl.cli.common import run_command

if TYPE_CHECKING:
    from hedgectl.cli.session import Session

HELP = "Cancel every open order and close every position (all venues with --all). Exit 0 flat, 3 exposure remains."


def flatten(
    ctx: typer.Context,
    all_venues: Annotated[bool, typer.Option("--all", help="Every configured venue.")] = False,
    venue: Annotated[list[str] | None, typer.Option("--venue", help="Only this venue (repeatable).")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="Only this symbol (BTC, ETH ...).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be done; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    live: Annotated[bool, typer.Option("--live", help="Confirm live mode (real money).")] = False,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=20, help="Close attempts per venue.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    output.set_json_mode(json_out)
    from hedgectl.domain.symbols import canonical_symbol
    from hedgectl.errors import UsageError
    from hedgectl.venues.registry import parse_venue

    if not all_venues and not venue:
        raise UsageError("say which venues: --all, or --venue NAME (repeatable)")
    if all_venues and venue:
        raise UsageError("use either --all or --venue, not both")
    names = [parse_venue(v) for v in venue] if venue else None
    base = canonical_symbol(symbol) if symbol else None
    interactive = sys.stdin.isatty()
    if not dry_run and not yes and not interactive:
        raise UsageError("flatten without a terminal needs --yes (or --dry-run to only look)")

    async def body(session: Session) -> int:
        from hedgectl.cli import output, render
        from hedgectl.cli.session import unfinished_runs
        from hedgectl.domain.pnl import sum_in_report_asset
        from hedgectl.engine.flatten import flatten as flatten_venues
        from hedgectl.engine.interrupts import Interrupts
        from hedgectl.engine.orders.dispatch import Dispatcher
        from hedgectl.engine.orders.reconcile import positions_by_run, reconcile_intents, settle_runs

        scope = names or session.registry.configured()
        for name in scope:
            session.registry.ensure_usable(name)
        venues = {n: session.registry.venue(n) for n in scope}
        not_listed = await _listing_venues(venues, base) if base is not None else []
        dispatcher = Dispatcher(session.journal, session.run_id)
        crashed = [r.id for r in unfinished_runs(session.journal, exclude=session.run_id)]
        reconciled = [] if dry_run else await reconcile_intents(session.journal, dispatcher, venues)
        labels = positions_by_run(session.journal, crashed)
        if not dry_run and not yes:
            preview = await flatten_venues(list(venues.values()), None, symbol=base, dry_run=True)
            _render(preview, labels, title="open now")
            nothing_open = not preview.exposure() and not any(v.open_orders_before for v in preview.venues)
            if preview.read_everywhere and nothing_open:
                render.line("nothing open: already flat")
            if not typer.confirm("Cancel these orders and close these positions?", default=False):
                raise UsageError("flatten not confirmed: nothing was sent (no order cancelled, no position closed)")
        # Ctrl+C or SIGTERM must not cut the kill switch short: it warns, the flatten finishes, then exit 130
        # (a third Ctrl+C aborts, exit 3). Installed after the confirmation, which needs Ctrl+C to abort it.
        interrupts = Interrupts(render.warn, open_now=session.closes_per_journal, on_abort=session.record_abort)
        interrupts.flattening = True
        if not dry_run:
            interrupts.install()
        try:
            report = await flatten_venues(
                list(venues.values()),
                None if dry_run else dispatcher,
                symbol=base,
                rounds=rounds,
                dry_run=dry_run,
                account=True,
            )
        finally:
            interrupts.uninstall()
        # Every venue read and nothing open (a dry run included): the crashed runs' exposure is gone, and their
        # "did not finish" warning with it.
        found_flat = (
            dry_run
            and report.read_everywhere
            and not report.exposure()
            and not any(v.open_orders_before for v in report.venues)
        )
        # Recovery completes the crashed runs' journal: their orders' final states and fills (history then shows
        # their real volume, fees and PnL); a run whose orders are all settled is no longer unacknowledged.
        # Only runs of this mode: a paper account knows nothing of a live run's orders, and the other way round.
        same_mode = [r.id for r in unfinished_runs(session.journal, exclude=session.run_id) if r.mode == session.mode]
        settled = [] if dry_run else await settle_runs(session.journal, venues, same_mode)
        for s in settled:
            for error in s.errors:
                render.warn(f"run {s.run_id}: {error}; that order is left as the journal had it")
        unsettled = {s.run_id for s in settled if not s.done}
        if ((report.flat and not dry_run) or found_flat) and base is None and names is None:
            note = f"found flat by {session.run_id}" if dry_run else f"flattened by {session.run_id}"
            for run_id in crashed:
                if run_id not in unsettled:
                    session.journal.mark_run_recovered(run_id, note)
        totals = _totals(report)
        if totals["realised"] and "?" not in totals["realised"]:  # "?": fills in mixed assets, no one figure
            session.outcome.net_pnl = sum_in_report_asset((v, a) for a, v in totals["realised"].items())
            session.outcome.volume = totals["volume"]
        # A dry run is a listing: 0, or 1 when a venue's positions could not be read (never taken for flat).
        code = (0 if report.read_everywhere else 1) if dry_run else (0 if report.flat else 3)
        if code == 0 and interrupts.requested:
            code = 130
            session.outcome.status = "interrupted"
        if json_out:
            recovered = [
                {"run": s.run_id, "orders_settled": s.settled, "fills_journaled": s.fills, "unread": list(s.errors)}
                for s in settled
            ]
            output.emit_document(
                {**_document(session, report, labels, reconciled), "not_listed": not_listed, "recovered": recovered}
            )
        else:
            _render(report, labels, title="dry run: would cancel and close" if dry_run else "flatten")
            _render_accounts(report, totals)
            for s in settled:
                if s.settled or s.fills:
                    render.line(f"run {s.run_id}: {s.settled} order(s) settled, {s.fills} fill(s) journaled to it")
            render.line(f"run {session.run_id}")
        if code == 3:
            render.error(f"exposure remains: {report.describe_exposure()}")
        if code == 3:
            session.outcome.status = "exposure"
            session.outcome.error = f"exposure remains: {report.describe_exposure()}"
        return code

    run_command(
        ctx,
        "flatten",
        {"venues": names or "all", "symbol": base, "dry_run": dry_run},
        body,
        json_mode=json_out,
        live=live,
        yes=yes,
        read_only=dry_run,
    )


async def _listing_venues(venues: dict[str, Any], base: str) -> list[str]:
    """Keep only the venues that list `base` (nothing can be open on the others; said on stderr) and return the
    others; a symbol no venue lists is a usage error (exit 2), found before anything is read or sent."""
    from hedgectl.cli import render
    from hedgectl.cli.common import require_listed

    missing = await require_listed(list(venues.values()), base, everywhere=False)
    for name in missing:
        del venues[name]
    if missing:
        render.warn(f"{base} is not listed on {', '.join(missing)}: nothing can be open there")
    return missing


def _document(session: Session, report: Any, labels: dict[tuple[str, str], list[str]], reconciled: list[Any]) -> Any:
    return {
        "ok": report.flat,
        "mode": session.mode,
        "run_id": session.run_id,
        "dry_run": report.dry_run,
        "venues": {
            v.venue: {
                "flat": v.flat,
                "positions_before": [
                    {"symbol": p.symbol, "qty": p.qty, "runs": labels.get((v.venue, p.symbol), [])}
                    for p in v.positions_before
                ]
                if v.positions_read
                else None,
                "open_orders_before": [
                    {"symbol": o.symbol, "order_id": o.order_id, "side": o.side, "qty": o.qty, "price": o.price}
                    for o in v.open_orders_before
                ],
                "cancelled": [o.order_id for o in v.cancelled],
                "closes": [_close_doc(o, v) for o in v.closes],
                "positions_after": None
                if v.positions_after is None
                else [{"symbol": p.symbol, "qty": p.qty} for p in v.positions_after],
                "errors": v.errors,
            }
            for v in report.venues
        },
        "exposure_after": report.exposure(),
        "totals": _totals(report),
        "reconciled": [
            {
                "client_order_id": r.client_order_id,
                "run": r.run_id,
                "venue": r.venue,
                "found": r.order is not None,
                "error": r.error,
            }
            for r in reconciled
        ],
    }


def _close_doc(order: Any, v: Any) -> dict[str, Any]:
    acct = next((a for a in v.accounts if a.order.order_id == order.order_id), None)
    doc = {"symbol": order.symbol, "order_id": order.order_id, "side": order.side, "qty": order.qty}
    doc["status"] = order.status
    if acct is not None:
        doc |= {
            "filled_qty": acct.qty,
            "price": acct.price,
            "fees": acct.fees,
            "fee_asset": acct.fee_asset,
            "entry_price": acct.position.entry_price,
            "mark_price": acct.position.mark_price,
            "realised": acct.realised,
            "cost_vs_mark": acct.cost_vs_mark,
        }
    return doc


def _totals(report: Any) -> dict[str, Any]:
    """Per settlement asset: closing fees, realised PnL and cost vs mark; volume (qty x price, all assets)."""
    fees: dict[str, Decimal] = {}
    realised: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    volume = Decimal(0)
    for v in report.venues:
        for a in v.accounts:
            asset = a.fee_asset or "?"
            fees[asset] = fees.get(asset, Decimal(0)) + a.fees
            if a.realised is not None:
                realised[asset] = realised.get(asset, Decimal(0)) + a.realised
            if a.cost_vs_mark is not None:
                cost[asset] = cost.get(asset, Decimal(0)) + a.cost_vs_mark
            if a.price is not None:
                volume += a.qty * a.price
    return {"fees": fees, "realised": realised, "cost_vs_mark": cost, "volume": volume}


def _render_accounts(report: Any, totals: dict[str, Any]) -> None:
    from hedgectl.cli import render
    from hedgectl.domain.pnl import conversion_note

    rows = [
        [v.venue, a.order.symbol, a.order.side.value, a.qty, a.price, a.position.entry_price, a.position.mark_price,
         f"{render.fmt(a.fees)} {a.fee_asset or ''}", a.realised, a.cost_vs_mark]
        for v in report.venues
        for a in v.accounts
    ]  # fmt: skip
    if not rows:
        return
    render.table(
        "closes (realised = (fill - entry) x q - fee; cost vs mark = (mark - fill) x q + fee; q = the qty closed, "
        "+ closing a long (a sell), - closing a short (a buy))",
        ["venue", "symbol", "side", "qty", "fill price", "entry", "mark", "fee", "realised", "cost vs mark"],
        rows,
        right=["qty", "fill price", "entry", "mark", "realised", "cost vs mark"],
    )

    def per_asset(values: dict[str, Decimal]) -> str:
        return ", ".join(f"{render.fmt(x)} {asset}" for asset, x in sorted(values.items())) or "-"

    render.line(
        f"total: realised {per_asset(totals['realised'])}; fees {per_asset(totals['fees'])}; "
        f"cost vs mark {per_asset(totals['cost_vs_mark'])} (per currency; history records the realised sum in "
        "USDT, " + (conversion_note(totals["realised"]) or "nothing to convert") + ")"
    )


def _render(report: Any, labels: dict[tuple[str, str], list[str]], *, title: str) -> None:
    from hedgectl.cli import render

    rows = []
    for v in report.venues:
        open_desc = ", ".join(
            f"{p.symbol} {p.qty:+f}"
            + (f" (run {', '.join(labels[(v.venue, p.symbol)])})" if (v.venue, p.symbol) in labels else "")
            for p in v.positions_before
        ) or ("flat" if v.positions_read else "unknown")
        done = []
        if v.cancelled:
            done.append(f"cancelled {len(v.cancelled)} order(s)")
        elif v.open_orders_before:
            done.append(f"{len(v.open_orders_before)} open order(s)")
        if v.closes:
            done.append(", ".join(f"{o.side.value} {render.fmt(o.qty)} {o.symbol}" for o in v.closes))
        left = (
            "unknown"
            if v.positions_after is None
            else ", ".join(f"{p.symbol} {p.qty:+f}" for p in v.positions_after) or "flat"
        )
        rows.append([v.venue, open_desc, "; ".join(done) or "-", left, "; ".join(v.errors) or "-"])
    render.table(title, ["venue", "was open", "done", "left", "errors"], rows)
