"""What `hedgectl carry` shows while it watches: the live Rich view (a table under small charts) or one JSON
event per change; and at its end, the PnL table and final line, or the JSON `result` document."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hedgectl.cli import output

if TYPE_CHECKING:
    from hedgectl.clock import Clock
    from hedgectl.engine.carry.context import CarryResult
    from hedgectl.engine.carry.view import CarryView


def view_rows(view: CarryView) -> list[list[Any]]:
    from hedgectl.cli import render

    rows = []
    for leg in view.legs:
        rows.append(
            [
                leg.venue,
                leg.qty,
                leg.entry_price,
                leg.mark,
                render.fmt(leg.upnl, 4),
                leg.liquidation_price,
                "-" if leg.liq_distance_pct is None else f"{leg.liq_distance_pct:.2f}%",
                "-" if leg.funding_apr_pct is None else f"{leg.funding_apr_pct:.2f}%",
                # A time left, as `prices` shows it: a clock time (00:00:00) read as a countdown.
                render.duration((leg.next_funding_at - datetime.now(UTC)).total_seconds())
                if leg.next_funding_at
                else "-",
            ]
        )
    return rows


def view_line(view: CarryView) -> str:
    from hedgectl.cli import render

    spread = "unknown" if view.spread_apr_pct is None else f"{view.spread_apr_pct:.2f}% APR"
    return (
        f"delta {view.delta:+f} ({view.delta_pct:.2f}%)  basis {view.basis_bps:+.2f} bps  spread {spread}  "
        f"uPnL {render.fmt(view.upnl, 4)}  fees {view.fees:.4f}  funding {render.fmt(view.funding, 4)}  "
        f"net {render.fmt(view.net, 4)} USDT"
    )


class JsonReporter:
    def __init__(self) -> None:
        self._last: Any = None

    def phase(self, title: str) -> None: ...

    def plan(self, plan: Any) -> None:
        output.emit_document({"event": "plan", "qty": plan.qty, "notional": plan.notional, "symbol": plan.symbol})

    def view(self, view: CarryView) -> None:
        summary = output.to_jsonable(view.summary())
        if summary != self._last:
            self._last = summary
            output.emit_document({"event": "view", **summary})

    def event(self, kind: str, text: str, data: dict[str, Any]) -> None:
        output.emit_document({"event": kind, "text": text, **data})

    def warning(self, text: str) -> None:
        output.emit_document({"event": "warning", "text": text})


CHART_WINDOW_S = 15 * 60  # the live view's charts show the last 15 minutes


class RichReporter:
    COLUMNS = ("venue", "qty", "entry", "mark", "uPnL", "liq. price", "liq. dist.", "funding APR", "next funding in")

    def __init__(self, clock: Clock | None = None) -> None:
        from hedgectl.cli import render
        from hedgectl.clock import SystemClock

        self._cm: Any = None
        self._update: Any = None
        self._clock = clock or SystemClock()
        # Above the live table: the carry's net PnL and the basis at each reading, over the last CHART_WINDOW_S.
        self._pnl = render.TrailChart("net PnL", "USDT", window_s=CHART_WINDOW_S)
        self._basis = render.TrailChart("basis long - short", "bps", window_s=CHART_WINDOW_S)

    def phase(self, title: str) -> None:
        from hedgectl.cli import render

        self._stop()
        render.heading(title)

    def plan(self, plan: Any) -> None:
        from hedgectl.cli import render

        render.line(f"plan: {plan.qty} {plan.symbol} per leg (~{plan.notional:.2f} USDT)")
        for check in plan.checks:
            render.line(f"  {check.describe()}")

    def view(self, view: CarryView) -> None:
        from hedgectl.cli import render

        now = self._clock.monotonic()
        if view.net is not None:
            self._pnl.add(now, float(view.net))
        self._basis.add(now, float(view.basis_bps))
        if self._update is None:
            self._cm = render.live_table(self._build)
            self._update = self._cm.__enter__()
        self._update(view)

    def _build(self, view: CarryView) -> Any:
        from hedgectl.cli import render

        now = self._clock.monotonic()
        table = render.make_table(None, self.COLUMNS, view_rows(view), right=self.COLUMNS[1:])
        return render.stack(
            self._pnl.render(now), self._basis.render(now), main=render.with_line(table, view_line(view), style="cyan")
        )

    def event(self, kind: str, text: str, data: dict[str, Any]) -> None:
        from hedgectl.cli import render

        render.line(f"[{kind}] {text}", style="red" if kind in ("trip", "exposure") else None)

    def warning(self, text: str) -> None:
        from hedgectl.cli import render

        render.warn(text)

    def _stop(self) -> None:
        if self._cm is not None:
            self._cm.__exit__(None, None, None)
            self._cm = self._update = None


def _result_doc(result: CarryResult) -> dict[str, Any]:
    return {
        "event": "result",
        "ok": result.exit_code == 0,
        "exit_code": result.exit_code,
        "exit_reason": result.exit_reason,
        "symbol": result.config.symbol,
        "qty": result.target_qty,
        "kept": result.kept,
        "open": result.open_per_venue if result.kept else (result.final.exposure() if result.final else {}),
        "rehedges": result.rehedges,
        "pnl": {
            **{
                v: {
                    "gross": p.gross,
                    "fees": p.fees,
                    "funding": p.funding,
                    "net": p.net,
                    "uncounted_qty": p.uncounted_qty,
                }
                for v, p in result.pnl.items()
            },
            "net": result.net,
            "funding_known": result.funding_known,
        },
        "tripped": result.tripped,
        "warnings": result.warnings,
        "error": result.error,
    }


def report_result(result: CarryResult, *, json_out: bool) -> None:
    """The carry's end: its PnL table and final line, or the JSON `result` document."""
    from hedgectl.cli import render
    from hedgectl.engine.carry.exits import CLOSED_OUTSIDE

    if json_out:
        output.emit_document(_result_doc(result))
    else:
        if result.pnl:
            _pnl_table(result)
        for warning in result.warnings:
            render.warn(warning)
    if not result.flat and result.final is not None:
        if result.error:
            render.error(f"carry failed: {result.error}")
        render.error(f"EXPOSURE REMAINS: {result.final.describe_exposure()} - run `hedgectl flatten --all`")
    elif result.kept:
        open_now = ", ".join(f"{v} {q:+f}" for v, q in result.open_per_venue.items())
        render.warn(f"pair kept open ({open_now} {result.config.symbol}): `hedgectl carry --resume` takes it over")
    elif result.tripped:
        render.error(f"circuit breaker tripped ({result.tripped}); both venues flat")
    elif result.error:
        render.error(f"carry failed: {result.error}" + ("; both venues flat" if result.final else ""))
    elif not json_out and result.opened_at is None:  # stopped while planning: no opening order was sent
        reason = f" ({result.exit_reason})" if result.exit_reason else ""
        render.line(f"CARRY STOPPED before its pair was opened{reason}: no order was sent")
    elif not json_out and result.exit_reason == CLOSED_OUTSIDE:
        render.line(f"CARRY ENDED, NOT CLOSED BY THIS RUN ({result.exit_reason}): both venues flat", style="bold")
    elif not json_out:
        render.line(f"CARRY CLOSED ({result.exit_reason or 'stopped'}): both venues flat", style="bold green")


def _pnl_table(result: CarryResult) -> None:
    """Per venue and in total, rounded to 4 places for display (the JSON keeps the exact figures)."""
    from hedgectl.cli import render

    legs = list(result.pnl.items())
    rows: list[list[Any]] = [[v, p.gross, p.fees, p.funding, p.net] for v, p in legs]
    rows.append(["total", *(sum((r[i] for r in rows), Decimal(0)) for i in range(1, 5))])
    columns = ["venue", "gross", "fees", "funding", "net"]
    render.table("PnL (USDT)", columns, [[r[0], *(render.fmt(x, 4) for x in r[1:])] for r in rows], right=columns[1:])
