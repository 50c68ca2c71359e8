"""What `hedgectl history` shows: the runs table (narrow enough for 140 columns), one run's screen, and the
`--json` shapes of runs and orders. The figures come from `history_cmd`; nothing here reads the journal."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedgectl.domain.types import FundingPayment
    from hedgectl.journal.repository import RunRow

# What a run's net PnL counts, said under the table and in --json.
NET_INCLUDES = (
    "net pnl: the run's fills (price PnL less fees) and every funding payment attributed to it, also those "
    "settled after it ended (journaled later, e.g. by `positions`), in USDT with USDC counted at par"
)
NET_NOTE = (
    "net pnl: fills less fees, plus all the run's funding (also settled after it ended); USDT, USDC at par. "
    "Digits: history show RUN"
)
_NARROW_MONEY = 4  # places in the runs table; `history show RUN` and --json keep every digit
_NARROW_VOLUME = 2
# A status whose exit code says nothing more than the status word; others show their code ("failed 2").
_USUAL_EXIT = {"ok": 0, "failed": 1, "exposure": 3, "interrupted": 130}


def plain(value: Any) -> Any:
    """A journaled number in plain notation (older journals stored str(Decimal): "1E+1")."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def fees_text(fees: dict[str, Any], places: int | None = None, sep: str = ", ") -> str | None:
    """Amounts per asset ("0.57 USDT, 0.1 USDC"), None when there are none."""
    from hedgectl.cli import render

    return sep.join(f"{render.fmt(v, places)} {asset}" for asset, v in sorted(fees.items())) or None


def cost_text(cost: Any) -> str | None:
    return None if cost is None else f"{cost:.2f}"


def run_doc(run: RunRow) -> dict[str, Any]:
    import dataclasses

    doc = dataclasses.asdict(run)
    doc["net_pnl"], doc["volume"] = plain(run.net_pnl), plain(run.volume)
    return doc


def order_doc(row: Any) -> dict[str, Any]:
    import dataclasses

    doc = dataclasses.asdict(row)
    return {k: plain(v) if k in ("qty", "filled_qty", "avg_price", "price") else v for k, v in doc.items()}


def _status(run: RunRow) -> str:
    if run.exit_code is None or _USUAL_EXIT.get(run.status) == run.exit_code:
        return run.status
    return f"{run.status}\nexit {run.exit_code}"  # labelled, under the status: "kept 130" read as a figure


def _money(value: Any, places: int) -> str:
    from hedgectl.cli import render

    value = plain(value)
    return render.fmt(value, places if isinstance(value, Decimal) else None)


def runs_table(lines: list[dict[str, Any]], totals: dict[str, Any], period_text: str) -> None:
    """The runs, newest first, and the period's totals, in 9 columns that fit 140: the mode under the command,
    the exit code in the status where it adds something, amounts rounded, one asset per line; the end time and
    every digit are in `history show RUN` and --json. Run ids never wrap (a user copies them)."""
    from hedgectl.cli import render

    rows: list[list[Any]] = []
    for line in lines:
        run: RunRow = line["run"]
        rows.append(
            [
                run.id,
                f"{run.command}\n{run.mode}",
                run.started_at[:19].replace("T", "\n"),  # date over time: the column stays narrow, neither is cut
                _status(run),
                _money(line["net_pnl"], _NARROW_MONEY),
                fees_text(line["fees"], _NARROW_MONEY, "\n"),
                fees_text(line["funding"], _NARROW_MONEY, "\n"),
                _money(line["volume"], _NARROW_VOLUME),
                cost_text(line["cost_per_10k"]),
            ]
        )
    rows.append(
        [
            f"total ({totals['runs']} run{'' if totals['runs'] == 1 else 's'})",
            None,
            None,
            None,
            _total_net(totals),
            fees_text(totals["fees"], _NARROW_MONEY, "\n"),
            fees_text(totals["funding"], _NARROW_MONEY, "\n"),
            _money(totals["volume"], _NARROW_VOLUME),
            cost_text(totals["cost_per_10k"]),
        ]
    )
    columns = ["run", "command", "started", "status", "net pnl", "fees", "funding", "volume", "cost/10k"]
    render.table(
        f"hedgectl runs ({period_text}; fees and funding (+ received) per currency)",
        columns,
        rows,
        right=["net pnl", "fees", "funding", "volume", "cost/10k"],
        whole=["run", "started", "status", "net pnl", "volume", "cost/10k"],
    )
    render.line(NET_NOTE, style="dim")
    if totals.get("net_pnl_partial"):
        runs = totals["net_pnl_runs"]
        missing = runs["of"] - runs["counted"]
        render.warn(
            f"the net pnl total counts {runs['counted']} of the {runs['of']} runs that traded: "
            f"{missing} ha{'s' if missing == 1 else 've'} no known net pnl (their fees are in the fees total); "
            "see history show RUN"
        )


def _total_net(totals: dict[str, Any]) -> str:
    """The period's net: n/a when no run that traded has one, else the sum and, when partial, of how many."""
    if totals["net_pnl"] is None:
        return "n/a"
    text = _money(totals["net_pnl"], _NARROW_MONEY)
    if totals.get("net_pnl_partial"):
        runs = totals["net_pnl_runs"]
        text += f"\n({runs['counted']} of {runs['of']} run{'' if runs['of'] == 1 else 's'})"
    return text


def show_screen(
    run: RunRow,
    net_pnl: Any,
    volume: Any,
    orders: list[Any],
    fills: list[dict[str, Any]],
    payments: list[FundingPayment],
    breakdown: dict[str, Any],
    order_fees: dict[str, dict[str, Any]],
) -> None:
    """One run: a header line, its orders, fills, funding payments and the PnL breakdown from the fills."""
    from hedgectl.cli import render

    ended = (
        f"exit {run.exit_code}"
        if run.exit_code is not None
        else ("still running" if run.ended_at is None else "no exit code recorded")
    )
    start, end = run.started_at[:19].replace("T", " "), (run.ended_at or "")[:19].replace("T", " ") or "now"
    span = f"{start}..{end[11:] if end[:10] == start[:10] else end}"  # the date once when it did not change
    render.line(
        f"run {run.id}: {run.command} ({run.mode}) {run.status}, {ended}, {span} UTC, "
        f"net pnl {render.fmt(net_pnl)}, volume {render.fmt(volume)}"
    )
    if run.error:
        render.line(f"error: {run.error}")
    render.table(
        "orders",
        ["client id", "venue", "symbol", "side", "type", "qty", "intent", "state", "status", "filled", "avg price",
         "fee"],
        [
            [o.client_order_id, o.venue, o.symbol, o.side, o.type, plain(o.qty), o.intent, o.state, o.status,
             plain(o.filled_qty), plain(o.avg_price), fees_text(order_fees.get(o.client_order_id, {}))]
            for o in orders
        ],
        right=["qty", "filled", "avg price"],
    )  # fmt: skip
    render.table(
        "fills",
        ["venue", "symbol", "order", "side", "qty", "price", "fee", "asset", "at"],
        [
            [f["venue"], f["symbol"], f["order_id"], f["side"], plain(f["qty"]), plain(f["price"]), plain(f["fee"]),
             f["fee_asset"], f["at"]]
            for f in fills
        ],
        right=["qty", "price", "fee"],
    )  # fmt: skip
    if payments:
        render.table(
            "funding (+ received, - paid)",
            ["venue", "symbol", "at", "amount", "asset"],
            [[f.venue, f.symbol, f.at.isoformat()[:19], render.fmt(f.amount), f.asset] for f in payments],
            right=["amount"],
        )
    if breakdown["venues"]:
        rows = [
            [v, p["asset"], render.fmt(p["gross"], 4), render.fmt(p["fees"], 4), render.fmt(p["funding"], 4),
             render.fmt(p["net"], 4)]
            for v, p in breakdown["venues"].items()
        ]  # fmt: skip
        base = breakdown["notional_opened"]
        title = "PnL from the recorded fills"
        if breakdown["net"] is None:
            # Net unknown: the run's fills do not both open and close its legs. It opened them (base) and
            # something else closed them (or nothing yet: a kept carry), or it closed what another run opened.
            title += " (fees only: not closed in this run)" if base else " (fees only: opened in another run)"
        if base and breakdown["net_bps"] is not None:
            title += f" (net {breakdown['net_bps']} bps of {render.fmt(base, 2)} opened per leg)"
        elif base:
            title += f" ({render.fmt(base, 2)} opened per leg)"
        render.table(
            title,
            ["venue", "asset", "gross", "fees", "funding", "net"],
            rows,
            right=["gross", "fees", "funding", "net"],
        )
