"""The report's numbers: per run, time series read from the journal alone; over runs, a table and totals.

Nothing here asks a venue or writes the journal. Every figure comes from the journal's rows: fills (price,
fees, volume), the `funding` table, and the events the commands journal (bootstrap's latency and hold marks,
the loop's hedges, cycles and funding pauses).

The PnL of a run at any moment is its fills' cash flow plus what it still holds valued at the last price seen
on that venue (a fill, or a bootstrap hold mark), less fees, plus funding: the loop's own stats use the same
rule, so the last point of a run that ends flat is its realised net PnL. Sums over venues that settle in
different stablecoins are in USDT at the stated rates of `domain.pnl`; an amount in an asset without a stated
rate is left out of the sums and named in the run's warnings (never counted at par by guess).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hedgectl.domain.pnl import REPORT_ASSET, USDT_PER_UNIT, conversion_note
from hedgectl.domain.types import FundingPayment, Side
from hedgectl.journal import Journal, OrderRow, RunRow
from hedgectl.journal.figures import RunFigures, figures_of, per_10k, venue_assets
from hedgectl.journal.figures import total as total_figures
from hedgectl.report import carry as carry_events

_ZERO = Decimal(0)
LOOP_COMMANDS = ("bp-aster loop",)


@dataclass
class _Venue:
    """One venue's running state while a run's timeline is replayed (amounts in the venue's own asset)."""

    asset: str
    cash: Decimal = _ZERO  # + sells, - buys
    qty: Decimal = _ZERO  # signed base held
    price: Decimal | None = None  # last price seen: a fill or a mark
    fees: Decimal = _ZERO
    funding: Decimal = _ZERO
    volume: Decimal = _ZERO
    fills: int = 0

    @property
    def price_pnl(self) -> Decimal:
        held = self.qty * self.price if self.qty and self.price is not None else _ZERO
        return self.cash + held


@dataclass
class RunReport:
    """One run's series and totals; `document()` is its part of the --json document (and the HTML's data)."""

    run: RunRow
    kind: str  # "bootstrap", "loop", "carry" or "other"
    venues: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    pnl: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    funding: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] | None = None
    hedge_reaction_ms: list[float] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    carry: list[dict[str, Any]] = field(default_factory=list)  # a carry's readings: basis, funding spread, delta
    conversion: str | None = None
    warnings: list[str] = field(default_factory=list)
    net_pnl: Decimal | None = None  # recorded at the end + funding settled after it (`journal.figures`)
    figures: RunFigures | None = None  # volume, fees, funding, slippage, net, cost per 10k: `history`'s

    @property
    def traded(self) -> bool:
        return bool(self.fills or self.funding)

    def document(self) -> dict[str, Any]:
        run = self.run
        document: dict[str, Any] = plain(
            {
                "run": {
                    "id": run.id,
                    "command": run.command,
                    "mode": run.mode,
                    "started_at": run.started_at,
                    "ended_at": run.ended_at,
                    "status": run.status,
                    "exit_code": run.exit_code,
                    "net_pnl": self.net_pnl,
                    "volume": self.figures.volume if self.figures else _decimal(run.volume),
                    "error": run.error,
                },
                "kind": self.kind,
                "asset": REPORT_ASSET,
                "conversion": self.conversion,
                "venues": self.venues,
                "totals": self.totals,
                "pnl": self.pnl,
                "fills": self.fills,
                "marks": self.marks,
                "funding": self.funding,
                "latency": self.latency,
                "hedge_reaction_ms": self.hedge_reaction_ms,
                "markers": self.markers,
                "carry": self.carry,
                "warnings": self.warnings,
            }
        )
        return document


def plain(value: Any) -> Any:
    """JSON-ready: Decimals in plain notation as strings (as every --json document has them), datetimes ISO."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def run_kind(command: str) -> str:
    if command in ("bootstrap", "carry"):
        return command
    return "loop" if command in LOOP_COMMANDS else "other"


class _Usdt:
    """Converts to USDT at the stated rates; an asset without one is left out, and said once."""

    def __init__(self, warnings: list[str]) -> None:
        self._warnings = warnings
        self._unknown: set[str] = set()

    def __call__(self, amount: Decimal, asset: str) -> Decimal:
        rate = USDT_PER_UNIT.get(asset)
        if rate is not None:
            return amount * rate
        if asset not in self._unknown:
            self._unknown.add(asset)
            self._warnings.append(f"amounts in {asset or 'an unnamed asset'} have no stated USDT rate: left out")
        return _ZERO


def build_run(journal: Journal, run: RunRow) -> RunReport:
    """Read one run's rows and replay them in time order into its series."""
    report = RunReport(run=run, kind=run_kind(run.command))
    orders = journal.orders(run.id)
    rows = journal.fills(run.id)
    payments = journal.run_funding(run.id)
    events = journal.events(run.id)
    started = _when(run.started_at)
    report.figures = figures = figures_of(run, rows, payments, events)
    report.net_pnl = figures.net

    intents = _intents(orders)
    order_times = {o.client_order_id: _when(o.updated_at) for o in orders}
    by_venue_order = {(o.venue, o.venue_order_id): o.client_order_id for o in orders if o.venue_order_id}
    assets = venue_assets(rows, payments)
    usdt = _Usdt(report.warnings)
    state = {v: _Venue(asset=a) for v, a in assets.items()}

    timeline: list[tuple[datetime, int, str, Any]] = []
    for seq, row in enumerate(rows):
        cid = row["client_order_id"] or by_venue_order.get((row["venue"], row["order_id"]))
        at = _when(row["at"]) or order_times.get(cid or "") or started
        if at is None:
            continue
        fill = {
            "at": at,
            "venue": row["venue"],
            "side": row["side"],
            "qty": Decimal(row["qty"]),
            "price": Decimal(row["price"]),
            "fee": Decimal(row["fee"]),
            "fee_asset": row["fee_asset"],
            "is_maker": bool(row["is_maker"]),
            "intent": intents.get(cid or ""),
            "order_id": row["order_id"],
        }
        report.fills.append(fill)
        timeline.append((at, seq, "fill", fill))
    for seq, payment in enumerate(payments):
        state.setdefault(payment.venue, _Venue(asset=payment.asset))
        report.funding.append(_funding_doc(payment))
        report.markers.append({"at": payment.at, "kind": "funding", "venue": payment.venue, "amount": payment.amount})
        timeline.append((payment.at, seq, "funding", payment))
    for seq, event in enumerate(events):
        _read_event(report, event, timeline, seq)
    timeline.sort(key=lambda item: (item[0], ("fill", "funding", "mark", "slippage").index(item[2]), item[1]))

    slippage = _ZERO
    for at, _, what, item in timeline:
        if what == "fill":
            v = state.setdefault(item["venue"], _Venue(asset=REPORT_ASSET))
            notional = item["qty"] * item["price"]
            v.cash += notional if item["side"] == Side.SELL.value else -notional
            v.qty += Side(item["side"]).sign * item["qty"]
            v.price = item["price"]
            v.volume += notional
            v.fills += 1
            v.fees += item["fee"] if item["fee_asset"] in ("", v.asset) else usdt(item["fee"], item["fee_asset"])
        elif what == "funding":
            v = state[item.venue]
            v.funding += item.amount if item.asset == v.asset else usdt(item.amount, item.asset)
        elif what == "slippage":
            slippage += item
        else:
            for venue, price in item.items():
                if venue in state:
                    state[venue].price = price
        report.pnl.append(_point(at, what, state, usdt, slippage))

    report.venues = {
        name: {
            "asset": v.asset,
            "fills": v.fills,
            "volume": v.volume,
            "price_pnl": v.price_pnl,
            "fees": v.fees,
            "funding": v.funding,
            "net": v.price_pnl - v.fees + v.funding,
            "position": v.qty,
        }
        for name, v in sorted(state.items())
    }
    last = report.pnl[-1] if report.pnl else _point(started or datetime.now(UTC), "start", {}, usdt, _ZERO)
    keys = ("price_pnl", "fees", "funding", "slippage", "net", "volume", "cost_per_10k")
    report.totals = {k: last[k] for k in keys}
    report.totals.update(
        volume=figures.volume or _ZERO,
        fees=figures.fees_usdt,
        funding=figures.funding_usdt,
        slippage=figures.slippage or _ZERO,
        cost_per_10k=figures.cost_per_10k,
    )
    _leave_out_what_it_did_not_close(report, state)
    report.conversion = conversion_note(v.asset for v in state.values())
    return report


def _leave_out_what_it_did_not_close(report: RunReport, state: dict[str, _Venue]) -> None:
    """A run whose own fills leave a quantity (legs closed outside it, or kept open): marking it at the last price
    counted a close the run never made. Its net is the one it recorded and `history` shows (journal/figures.py:
    realised lot by lot, the rest uncounted), and the report says what it left out."""
    left, net, totals = {name: v.qty for name, v in sorted(state.items()) if v.qty}, report.net_pnl, report.totals
    if not left or net is None:
        return
    totals["net"], totals["price_pnl"] = net, net + totals["fees"] - totals["funding"]
    held = ", ".join(f"{name} {qty:+f}" for name, qty in left.items())
    report.warnings.append(
        f"not closed by this run ({held}: closed outside it, or left open): its price change is not in the net, "
        "which is the run's own as history shows it"
    )


def _point(at: datetime, cause: str, state: dict[str, _Venue], usdt: _Usdt, slippage: Decimal) -> dict[str, Any]:
    """The run's totals in USDT once the item at `at` is accounted; its cost per 10k as `history` and the loop
    count it (domain.pnl.cost_per_10k: fees, funding and the hedges' slippage, not the price PnL)."""
    price = sum((usdt(v.price_pnl, v.asset) for v in state.values()), _ZERO)
    fees = sum((usdt(v.fees, v.asset) for v in state.values()), _ZERO)
    funding = sum((usdt(v.funding, v.asset) for v in state.values()), _ZERO)
    volume = sum((usdt(v.volume, v.asset) for v in state.values()), _ZERO)
    net = price - fees + funding
    return {
        "at": at,
        "cause": cause,
        "price_pnl": price,
        "fees": fees,
        "funding": funding,
        "slippage": slippage,
        "net": net,
        "volume": volume,
        "cost_per_10k": per_10k(fees, funding, slippage, volume),
    }


def _read_event(report: RunReport, event: dict[str, Any], timeline: list[Any], seq: int) -> None:
    """Take what the report shows from one journaled event."""
    kind, data, at = event["kind"], event["data"], _when(event["at"])
    if at is None:
        return
    if kind == "bootstrap.mark":
        marks = {venue: Decimal(str(price)) for venue, price in (data.get("marks") or {}).items()}
        report.marks.append({"at": at, "marks": marks})
        timeline.append((at, seq, "mark", marks))
    elif kind in ("bootstrap.open", "bootstrap.close"):
        phase = kind.removeprefix("bootstrap.")
        latency = report.latency or {"open_phase_ms": None, "close_phase_ms": None, "open_skew_ms": None, "legs": {}}
        latency[f"{phase}_phase_ms"] = data.get("phase_ms")
        if phase == "open":
            latency["open_skew_ms"] = data.get("skew_ms")
        for venue, figures in (data.get("legs") or {}).items():
            latency["legs"].setdefault(venue, {})[phase] = figures
        report.latency = latency
    elif kind == "loop.hedge":
        if data.get("reaction_ms") is not None:
            report.hedge_reaction_ms.append(float(data["reaction_ms"]))
        if data.get("slippage") is not None:  # what the hedge paid against the maker's price (cost per 10k)
            timeline.append((at, seq, "slippage", Decimal(str(data["slippage"]))))
    elif kind == "loop.cycle":
        report.markers.append({"at": at, "kind": "cycle", "cycle": data.get("cycles")})
    elif kind == "loop.pause":
        report.markers.append({"at": at, "kind": "pause", "venue": data.get("venue"), "reason": data.get("reason")})
    elif kind == "carry.mark":
        marks, point = carry_events.read_mark(at, data)
        report.marks.append({"at": at, "marks": marks})
        report.carry.append(point)
        timeline.append((at, seq, "mark", marks))
    elif (
        kind.startswith("carry.") and (found := carry_events.marker(at, kind.removeprefix("carry."), data)) is not None
    ):
        report.markers.append(found)


def _intents(orders: list[OrderRow]) -> dict[str, str]:
    return {o.client_order_id: o.intent for o in orders}


def _funding_doc(payment: FundingPayment) -> dict[str, Any]:
    return {
        "at": payment.at,
        "venue": payment.venue,
        "symbol": payment.symbol,
        "payment_id": payment.payment_id,
        "asset": payment.asset,
        "amount": payment.amount,
        "position_qty": payment.position_qty,
        "rate": payment.rate,
    }


@dataclass
class Report:
    runs: list[RunReport]
    generated_at: datetime

    def document(self) -> dict[str, Any]:
        """The whole report as data: what --json prints and what the HTML file embeds."""
        return {
            "ok": True,
            "generated_at": self.generated_at.isoformat(),
            "asset": REPORT_ASSET,
            "runs": [r.document() for r in self.runs],
            "summary": plain(summarise(self.runs)),
        }


def summarise(runs: Iterable[RunReport]) -> dict[str, Any]:
    """Over several runs, oldest first: a row per run, the cumulative PnL and volume, totals per venue.

    A run's PnL is the one it recorded (`runs.net_pnl`: a flatten's realised PnL included) plus its funding settled
    after it ended; its fees, funding, volume and cost per 10k: all as `history` counts them (`journal.figures`)."""
    rows: list[dict[str, Any]] = []
    cumulative: list[dict[str, Any]] = []
    venues: dict[str, dict[str, Any]] = {}
    cum_net = cum_volume = _ZERO
    ordered = sorted(runs, key=lambda r: (r.run.started_at, r.run.id))
    for r in ordered:
        net, volume = r.net_pnl, r.totals.get("volume", _ZERO)
        rows.append(
            {
                "run_id": r.run.id,
                "command": r.run.command,
                "mode": r.run.mode,
                "started_at": r.run.started_at,
                "ended_at": r.run.ended_at,
                "status": r.run.status,
                "exit_code": r.run.exit_code,
                "net_pnl": net,
                "fees": r.totals.get("fees"),
                "funding": r.totals.get("funding"),
                "volume": volume,
                "cost_per_10k": r.totals.get("cost_per_10k"),
            }
        )
        cum_net += net or _ZERO
        cum_volume += volume
        cumulative.append(
            {"run_id": r.run.id, "at": r.run.ended_at or r.run.started_at, "net": cum_net, "volume": cum_volume}
        )
        for name, v in r.venues.items():
            total = venues.setdefault(
                name,
                {"asset": v["asset"], "runs": 0, "fills": 0, "volume": _ZERO, "fees": _ZERO, "funding": _ZERO},
            )
            total["runs"] += 1
            total["fills"] += v["fills"]
            for key in ("volume", "fees", "funding"):
                total[key] += v[key]
    return {
        "runs": rows,
        "cumulative": cumulative,
        "venues": dict(sorted(venues.items())),
        "totals": {
            "runs": len(rows),
            "net_pnl": cum_net,
            "volume": cum_volume,
            "cost_per_10k": total_figures(r.figures for r in ordered if r.figures).cost_per_10k,
        },
    }


def build_report(journal: Journal, runs: list[RunRow], now: datetime) -> Report:
    return Report(runs=[build_run(journal, run) for run in runs], generated_at=now)
