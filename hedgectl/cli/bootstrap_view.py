"""What `hedgectl bootstrap` shows: the live reporter (Rich, or silent under --json), the hold line, the summary,
and the --json document (its shape: one key per leg and phase, figures as Decimal, null where unknown)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _leg_doc(leg: Any) -> dict[str, Any] | None:
    if leg is None:
        return None
    order = leg.order
    return {
        "order_id": order.order_id if order else None,
        "client_order_id": order.client_order_id if order else None,
        "qty": order.filled_qty if order else Decimal(0),
        "avg_price": order.avg_price if order else None,
        "fee": sum((f.fee for f in leg.fills), Decimal(0)) if leg.fills else (order.fee if order else None),
        "status": order.status if order else None,
        "ack_ms": _round(leg.latency_ms),  # request sent -> acknowledged
        "fill_ms": _round(leg.fill_ms),  # request sent -> fully filled known
        "fills_from": leg.fills_source,
        "error": leg.error,
    }


def document(mode: str, result: Any) -> dict[str, Any]:
    """The --json document of one hedge cycle (a `CycleResult`): legs, latency, PnL, balances, checks, entry."""
    cfg, plan = result.config, result.plan
    legs: dict[str, Any] = {}
    for venue, side in ((cfg.long_venue, "buy"), (cfg.short_venue, "sell")):
        opened = next((leg for leg in result.opened if leg.venue == venue), None)
        closes = [leg for leg in result.closed if leg.venue == venue]
        legs[venue] = {
            "side": side,
            "open": _leg_doc(opened),
            # Every opening order (one for a taker entry; maker-first: post-only orders, hedges, the rest taken).
            "opens": [_leg_doc(leg) for leg in result.opened if leg.venue == venue],
            "close": _leg_doc(closes[0]) if closes else None,
            "extra_closes": [_leg_doc(leg) for leg in closes[1:]],
        }
    total = result.total
    exposure: dict[str, Decimal | None] = {cfg.long_venue: Decimal(0), cfg.short_venue: Decimal(0)}
    if result.final is not None:
        for v in result.final.venues:
            if not v.flat:  # signed open quantity, or None when the venue could not be read
                exposure[v.venue] = sum(v.exposure.values(), Decimal(0)) if v.exposure else None
    return {
        "ok": result.ok,
        "closed_outside": result.closed_outside,  # venue -> qty the venue shows flat, no order of this run closed
        "mode": mode,
        "symbol": cfg.symbol,
        "qty": plan.qty if plan else None,
        "notional_target": cfg.notional_usdt,
        "notional": plan.notional if plan else None,  # the plan's estimate: qty x reference price
        "notional_opened": result.opened_notional,  # the bps base: opening fills' value per leg
        "legs": legs,
        "latency_ms": {
            "open_phase": _round(result.open_ms),  # both open orders built -> both acknowledged
            "close_phase": _round(result.close_ms),  # both close orders built -> both acknowledged
            "open_skew": _round(result.skew_ms),  # between the two open requests leaving
        },
        "pnl": {
            **{v: _pnl_doc(result, v, p) for v, p in result.pnl.items()},
            "asset": "USDT",  # the totals below, converted as `conversion` says
            "conversion": result.conversion,
            "gross": total.gross,
            "fees": total.fees,
            "funding": total.funding,
            "net": total.net,
            "net_bps": result.net_bps.quantize(Decimal("0.01")),
            "bps_base": "notional_opened",
        },
        "balances_before": {v: {b.asset: b.total for b in bs} for v, bs in result.balances_before.items()},
        "balances_after": {v: {b.asset: b.total for b in bs} for v, bs in result.balances_after.items()},
        "exposure_after": exposure,
        "checks": [_check_doc(c) for c in result.checks],
        "entry": _entry_doc(result.entry) if result.entry is not None else {"mode": result.config.entry.value},
        "closed_early": result.closed_early,
        "interrupted": result.interrupted,
        "warnings": result.warnings,
        "error": result.error,
        "exit_code": result.exit_code,
    }


def _entry_doc(entry: Any) -> dict[str, Any]:
    """--entry maker-first: where the post-only order rested, what filled there and was hedged, what was taken
    after the timeout, and the fees against taking every fill at the venues' taker rates at the same prices."""
    return {
        "mode": "maker-first",
        "maker": entry.maker,
        "taker": entry.taker,
        "maker_side": entry.maker_side,
        "maker_timeout_s": entry.timeout_s,
        "maker_orders": entry.maker_orders,
        "maker_filled": entry.maker_filled,
        "hedged": entry.hedged,
        "closed_on_maker": entry.closed_on_maker,
        "timed_out": entry.timed_out,
        "taken": entry.taken,
        "taker_rates": {v: {"rate": r, "source": entry.rate_sources[v]} for v, r in entry.taker_rates.items()},
        "fees": {
            v: {"paid": f, "all_taker": entry.all_taker_fees[v], "saving": entry.saving[v], "asset": entry.assets[v]}
            for v, f in entry.fees.items()
        },
        "fee_saving": entry.saving_total,
        "fee_saving_asset": "USDT",
    }  # fmt: skip


def _pnl_doc(result: Any, venue: str, pnl: Any) -> dict[str, Any]:
    """One leg's PnL; `funding` is null when the venue's payments could not be read (never a silent 0)."""
    funding = result.funding.get(venue)
    known = funding is None or funding.known
    return {
        "asset": result.pnl_asset(venue),
        "gross": pnl.gross,
        "fees": pnl.fees,
        "funding": pnl.funding if known else None,
        "funding_payments": [
            {"id": f.payment_id, "at": f.at, "amount": f.amount, "asset": f.asset}
            for f in (funding.payments if funding is not None else [])
        ],
        "net": pnl.net,
        "uncounted_qty": pnl.uncounted_qty,  # base units closed outside the run: their PnL is not counted
    }


def _check_doc(check: Any) -> dict[str, Any]:
    """One pre-entry check: its figure, threshold (None: warn only) and verdict."""
    return {
        "name": check.name,
        "venue": check.venue,
        # Volatility in % needs more places than bps do: 0.0421 % is a figure, 0.04 a rounding.
        "figure": None
        if check.figure is None
        else check.figure.quantize(Decimal("0.0001" if check.unit == "%" else "0.01")),
        "threshold": check.threshold,
        "unit": check.unit,
        "set_by": check.flag,
        "passed": check.passed,
        "detail": check.detail,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


HOLD_LINE_LEGEND = (
    "unrealised PnL at the current marks; net = that, less the opening fees paid and the closing fees "
    "estimated at each venue's taker rate (the close is a market order)"
)


def hold_line(remaining_s: float, mark: Any) -> str:
    """The live hold line: time left, unrealised PnL per venue at its mark, and what closing now would net."""
    return (
        f"{remaining_s:5.1f} s left  uPnL "
        + "  ".join(f"{v} {p:+.4f}" for v, p in mark.upnl.items())
        + f"  fees paid {mark.fees_paid:.4f}  est. close fees {mark.est_close_fees:.4f}  net if closed {mark.net:+.4f}"
        + (" USDT" if mark.conversion else "")  # the conversion is said once, above the line (it would not fit)
    )


class SilentReporter:
    """Under --json: the cycle says nothing as it goes (the document tells it all at the end)."""

    def phase(self, title: str) -> None: ...
    def balances(self, title: str, balances: Any) -> None: ...
    def plan(self, plan: Any) -> None: ...
    def fills(self, title: str, legs: Any) -> None: ...
    def hold_tick(self, remaining_s: float, mark: Any) -> None: ...
    def warning(self, text: str) -> None: ...
    def entry_event(self, text: str) -> None: ...


class RichReporter:
    """On a terminal: a heading per phase, the plan and fills as tables, and one live hold line."""

    def __init__(self) -> None:
        self._live: Any = None

    def phase(self, title: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.heading(title)

    def balances(self, title: str, balances: dict[str, Any]) -> None:
        from hedgectl.cli import render

        render.table(
            title,
            ["venue", "asset", "total", "free"],
            [[v, b.asset, b.total, b.free] for v, bs in balances.items() for b in bs if b.total],
            right=["total", "free"],
        )

    def plan(self, plan: Any) -> None:
        from hedgectl.cli import render

        render.table(
            f"Plan: {plan.qty} {plan.symbol} on each leg (~{plan.notional:.2f} USDT), cross spread "
            f"{plan.cross_spread_bps:.2f} bps",
            ["venue", "side", "bid", "ask", "expected price", "slippage bps", "free balance"],
            [
                [
                    leg.venue,
                    leg.side.value,
                    leg.quote.bid,
                    leg.quote.ask,
                    leg.expected_price.quantize(leg.market.tick_size),
                    f"{leg.slippage_bps:.2f}",
                    f"{leg.balance_free:.2f} {leg.balance_asset}",
                ]
                for leg in plan.legs
            ],
            right=["bid", "ask", "expected price", "slippage bps", "free balance"],
        )
        render.line("checks before entry:")
        for check in plan.checks:
            render.line(f"  {check.describe()}")

    def fills(self, title: str, legs: Any) -> None:
        from hedgectl.cli import render

        if not any(leg.error or (leg.order and leg.order.filled_qty) for leg in legs):
            return  # nothing filled and nothing refused (an entry interrupted before its first fill): no table
        rows = []
        for leg in legs:
            o = leg.order
            fee = sum((f.fee for f in leg.fills), Decimal(0)) if leg.fills else (o.fee if o else None)
            rows.append(
                [
                    leg.venue,
                    leg.side.value,
                    o.filled_qty if o else None,
                    o.avg_price if o else None,
                    fee,
                    o.order_id if o else None,
                    f"{leg.latency_ms:.1f}" if leg.latency_ms is not None else None,
                    f"{leg.fill_ms:.1f}" if leg.fill_ms is not None else None,
                    leg.error or (o.status.value if o else "-"),
                ]
            )
        render.table(
            title,
            ["venue", "side", "qty", "avg price", "fee", "order id", "ack ms", "fill ms", "status"],
            rows,
            right=["qty", "avg price", "fee", "ack ms", "fill ms"],
        )
        render.line("ack ms: request sent -> acknowledged; fill ms: request sent -> fully filled known")

    def hold_tick(self, remaining_s: float, mark: Any) -> None:
        from hedgectl.cli import render

        if self._live is None:
            render.line(HOLD_LINE_LEGEND)
            if mark.conversion:
                render.line(f"uPnL, fees and net in USDT: {mark.conversion}")
        text = hold_line(remaining_s, mark)
        if self._live is None:
            self._cm = render.live_text(text)
            self._live = self._cm.__enter__()
        self._live(text)

    def warning(self, text: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.warn(text)

    def entry_event(self, text: str) -> None:
        from hedgectl.cli import render

        self._stop_live()
        render.line(f"  {text}")

    def _stop_live(self) -> None:
        if self._live is not None:
            self._cm.__exit__(None, None, None)
            self._live = None


def render_summary(result: Any, *, sent: bool) -> None:
    """The outcome; `sent`: the journal holds an order of this run (else no order ever left the process)."""
    from hedgectl.cli import render

    if result.plan is None and result.checks:  # a refused plan: what each check found, the refusing one included
        render.line("checks before entry:")
        for check in result.checks:
            render.line(f"  {check.describe()}")
    if result.pnl:
        rows = [[v, result.pnl_asset(v), p.gross, p.fees, p.funding, p.net] for v, p in result.pnl.items()]
        total = result.total
        rows.append(["total", "USDT", total.gross, total.fees, total.funding, total.net])
        unknown = {v for v, f in result.funding.items() if not f.known}
        cells = [[r[0], r[1], *(render.fmt(x, 4) for x in r[2:])] for r in rows]
        for row in cells:
            if row[0] in unknown or (row[0] == "total" and unknown):
                row[4] = "unknown"
        render.table(
            f"PnL (net {result.net_bps:.2f} bps of {result.opened_notional:.2f} opened per leg)",
            ["venue", "asset", "gross", "fees", "funding", "net"],
            cells,
            right=["gross", "fees", "funding", "net"],
        )
        paid = sum(len(f.payments) for f in result.funding.values())
        if paid:
            render.line(f"funding: {paid} payment(s) settled during the hold (+ received, - paid)")
        if result.conversion:
            render.line(f"total in USDT: {result.conversion}")
    if result.entry is not None:
        entry = result.entry
        render.line(
            f"maker-first entry: {entry.maker_filled} filled as maker on {entry.maker} in {entry.maker_orders} "
            f"post-only order(s), hedged on {entry.taker}"
            + (f"; {entry.taken} taken on both after {entry.timeout_s:g} s" if entry.taken else "")
        )
        render.line(
            "fees: "
            + ", ".join(
                f"{v} {entry.fees[v]:.4f} (all-taker {entry.all_taker_fees[v]:.4f} "
                f"at {entry.taker_rates[v] * 100:.4f}%)"
                for v in entry.fees
            )
            + f"; saving {entry.saving_total:.4f} USDT against an all-taker entry at the same prices"
        )
    lat = [
        f"open phase {result.open_ms:.1f} ms" if result.open_ms is not None else None,
        f"close phase {result.close_ms:.1f} ms" if result.close_ms is not None else None,
        f"open skew {result.skew_ms:.3f} ms" if result.skew_ms is not None else None,
    ]
    if any(lat):
        legend = ["phase: both orders built -> both acknowledged"]
        if result.skew_ms is not None:  # explained only where shown
            legend.append("skew: between the two requests leaving")
        render.line("latency: " + ", ".join(x for x in lat if x) + f" ({'; '.join(legend)})")
    for warning in result.warnings:
        render.warn(warning)
    if not result.flat and result.final is not None:
        render.error(f"EXPOSURE REMAINS: {result.final.describe_exposure()} - run `hedgectl flatten --all`")
    elif result.interrupted:
        render.line("interrupted: both venues are flat" if sent else "interrupted: no order was sent", style="yellow")
    elif result.error and not sent:
        render.error(f"hedge cycle failed before any order was sent: {result.error}")
    elif result.error:
        render.error(f"hedge cycle failed, both venues flat: {result.error}")
    elif result.closed_outside:
        outside = ", ".join(f"{v} {q}" for v, q in result.closed_outside.items())
        render.line(
            f"HEDGE CYCLE NOT CLOSED BY THIS RUN: closed outside it ({outside}); both venues flat; "
            "its PnL counts only its own fills",
            style="bold yellow",
        )
    else:
        render.line("HEDGE CYCLE COMPLETED: both legs opened, held, closed; both venues flat", style="bold green")
