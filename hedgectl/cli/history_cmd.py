"""`hedgectl history`: the journal's runs, and one run's orders, fills and PnL."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hedgectl.cli.common import announce_read_only, options

history_app = typer.Typer(help="Runs recorded in the journal.", no_args_is_help=False, invoke_without_command=True)


def _open_journal(ctx: typer.Context) -> Any:
    from hedgectl.cli.session import load, open_journal

    settings = load(options(ctx))
    announce_read_only(settings)
    return open_journal(settings)


@history_app.callback()
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs, newest first.")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List recent runs: id, command, started, ended, status, net PnL, volume."""
    if ctx.invoked_subcommand is not None:
        return
    from hedgectl.cli import output, render

    output.set_json_mode(json_out)
    journal = _open_journal(ctx)
    try:
        runs = journal.runs(limit)
    finally:
        journal.close()
    if json_out:
        output.emit_document({"ok": True, "runs": runs})
        return
    render.table(
        "hedgectl runs",
        ["run", "command", "mode", "started", "ended", "status", "exit", "net pnl", "volume"],
        [
            [
                r.id,
                r.command,
                r.mode,
                r.started_at[:19],
                (r.ended_at or "")[:19] or None,
                r.status,
                r.exit_code,
                r.net_pnl,
                r.volume,
            ]
            for r in runs
        ],
        right=["exit", "net pnl", "volume"],
    )


@history_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id from `hedgectl history`.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show one run: its orders, fills and PnL."""
    from hedgectl.cli import output, render
    from hedgectl.errors import UsageError

    output.set_json_mode(json_out)
    journal = _open_journal(ctx)
    try:
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} in the journal (see `hedgectl history`)")
        orders, fills, events = journal.orders(run_id), journal.fills(run_id), journal.events(run_id)
    finally:
        journal.close()
    if json_out:
        output.emit_document({"ok": True, "run": run, "orders": orders, "fills": fills, "events": events})
        return
    render.line(
        f"run {run.id}: {run.command} ({run.mode}) {run.status}, exit {run.exit_code}, "
        f"net pnl {run.net_pnl or '-'}, volume {run.volume or '-'}"
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
                o.qty,
                o.intent,
                o.state,
                o.status,
                o.filled_qty,
                o.avg_price,
                o.fee,
            ]
            for o in orders
        ],
        right=["qty", "filled", "avg price", "fee"],
    )
    render.table(
        "fills",
        ["venue", "symbol", "order", "side", "qty", "price", "fee", "asset", "at"],
        [
            [f["venue"], f["symbol"], f["order_id"], f["side"], f["qty"], f["price"], f["fee"], f["fee_asset"], f["at"]]
            for f in fills
        ],
        right=["qty", "price", "fee"],
    )
