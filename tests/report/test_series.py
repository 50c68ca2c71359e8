"""The report's series from journal rows written by hand: PnL split, conversions, marks, loop events, totals."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hedgectl.domain.pnl import cost_per_10k, leg_pnl
from hedgectl.domain.types import Side
from hedgectl.journal import Journal
from hedgectl.report.series import build_report, build_run
from tests.report.journal_rows import funding, trade

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite")


def test_a_hedge_curve_ends_at_its_fills_net_and_splits_price_fees_and_funding(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run_id = journal.start_run("bootstrap", "paper")
    trade(journal, run_id, "binance", BUY, "0.01", "100000", "0.5", at_s=0)
    trade(journal, run_id, "okx", SELL, "0.01", "100010", "0.5", at_s=0.001)
    funding(journal, run_id, "okx", "0.2", at_s=5)
    trade(journal, run_id, "binance", SELL, "0.01", "100020", "0.5", at_s=10, intent="close")
    trade(journal, run_id, "okx", BUY, "0.01", "100020", "0.5", at_s=10.001, intent="close")
    journal.end_run(run_id, status="ok", exit_code=0, net_pnl=D("-1.7"), volume=D("4000.5"))

    report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]

    assert [p["cause"] for p in report.pnl] == ["fill", "fill", "funding", "fill", "fill"]
    # Open: nothing gained yet at the fill prices, both fees paid; then funding; then the close realises it.
    assert report.pnl[1]["price_pnl"] == 0
    assert report.pnl[1]["fees"] == D("1.0")
    assert report.pnl[2]["funding"] == D("0.2")
    assert report.pnl[2]["net"] == D("-0.8")
    last = report.pnl[-1]
    assert last["price_pnl"] == D("0.01") * 20 - D("0.01") * 10  # binance +0.2, okx -0.1
    assert last["fees"] == D("2.0")
    assert last["net"] == D("0.1") - D("2.0") + D("0.2")
    assert last["volume"] == D("4000.5")
    # as history counts it: fees + funding paid - received (+ a loop's slippage), not the price PnL
    assert last["cost_per_10k"] == cost_per_10k(D("2.0"), D("0.2"), D(0), D("4000.5")).quantize(D("0.0001"))
    assert report.totals["net"] == last["net"]
    assert report.venues["okx"]["funding"] == D("0.2")
    assert report.venues["binance"]["net"] == D("0.2") - D("1.0")
    assert [m["kind"] for m in report.markers] == ["funding"]
    assert report.warnings == []


def test_a_usdc_venue_is_summed_at_par_and_an_asset_without_a_rate_is_left_out_and_named(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run_id = journal.start_run("bp-aster loop", "paper")
    trade(journal, run_id, "backpack", SELL, "10", "1.5", "0.003", asset="USDC", at_s=0)
    trade(journal, run_id, "aster", BUY, "10", "1.5", "0.006", asset="USDT", at_s=1)
    trade(journal, run_id, "aster", SELL, "10", "1.5", "0.01", asset="BNB", at_s=2)

    report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]

    assert report.venues["backpack"]["asset"] == "USDC"
    assert report.conversion == "USDC converted at 1 USDC = 1 USDT"
    assert report.totals["fees"] == D("0.009")  # the BNB fee is not in it
    assert report.warnings == ["amounts in BNB have no stated USDT rate: left out"]
    assert report.kind == "loop"


def test_hold_marks_value_the_open_position_between_the_fills(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run_id = journal.start_run("bootstrap", "paper")
    now = datetime.now(UTC)
    trade(journal, run_id, "binance", BUY, "1", "100", "0", at=now - timedelta(seconds=5))
    trade(journal, run_id, "okx", SELL, "1", "101", "0", at=now - timedelta(seconds=5))
    journal.event(run_id, "bootstrap.mark", {"marks": {"binance": D("103"), "okx": D("102")}, "net": D("1")})
    trade(journal, run_id, "binance", SELL, "1", "104", "0", at=now + timedelta(seconds=5), intent="close")
    trade(journal, run_id, "okx", BUY, "1", "104", "0", at=now + timedelta(seconds=5), intent="close")

    report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]

    mark = next(p for p in report.pnl if p["cause"] == "mark")
    assert mark["price_pnl"] == (D(103) - 100) + (D(101) - 102)
    assert report.marks == [{"at": report.marks[0]["at"], "marks": {"binance": D(103), "okx": D(102)}}]
    assert report.totals["price_pnl"] == D(4) + D(-3)


def test_the_loops_hedges_cycles_and_pauses_are_read_from_its_events(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run_id = journal.start_run("bp-aster loop", "paper")
    journal.event(run_id, "loop.hedge", {"reaction_ms": 3.25, "venue": "aster"})
    journal.event(run_id, "loop.hedge", {"reaction_ms": None, "venue": "aster"})  # a settle hedge: no fill seen
    journal.event(run_id, "loop.pause", {"reason": "funding", "venue": "backpack"})
    journal.event(run_id, "loop.hedge", {"reaction_ms": 4.5, "venue": "aster"})
    journal.event(run_id, "loop.cycle", {"cycles": 1})

    report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]

    assert report.hedge_reaction_ms == [3.25, 4.5]
    assert [(m["kind"], m.get("cycle")) for m in report.markers] == [("pause", None), ("cycle", 1)]
    assert report.pnl == []
    assert report.totals["net"] == 0


def test_several_runs_add_up_to_cumulative_pnl_volume_and_totals_per_venue(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    first = journal.start_run("bootstrap", "paper")
    trade(journal, first, "binance", BUY, "1", "100", "0.1")
    journal.end_run(first, status="ok", exit_code=0, net_pnl=D("-0.5"), volume=D(100))
    second = journal.start_run("flatten", "paper")
    trade(journal, second, "binance", SELL, "1", "101", "0.1", intent="flatten")
    funding(journal, second, "binance", "-0.05")
    journal.end_run(second, status="ok", exit_code=0, net_pnl=D("0.8"), volume=D(101))

    runs = journal.runs(None)[::-1]
    document = build_report(journal, runs, datetime.now(UTC)).document()

    summary = document["summary"]
    assert [r["run_id"] for r in summary["runs"]] == [first, second]
    assert [(c["net"], c["volume"]) for c in summary["cumulative"]] == [("-0.5", "100"), ("0.3", "201")]
    assert summary["venues"]["binance"] == {
        "asset": "USDT", "runs": 2, "fills": 2, "volume": "201", "fees": "0.2", "funding": "-0.05",
    }  # fmt: skip
    assert summary["totals"]["net_pnl"] == "0.3"
    fees = sum(D(v["fees"]) for v in summary["venues"].values())
    paid = sum(D(v["funding"]) for v in summary["venues"].values())
    expected = cost_per_10k(fees, paid, D(0), D(201))
    assert expected is not None
    assert summary["totals"]["cost_per_10k"] == format(expected.quantize(D("0.0001")), "f")
    # Every number is a plain-notation string, as in every --json document.
    assert document["runs"][1]["funding"][0]["amount"] == "-0.05"


_prices = st.decimals(min_value=D("0.01"), max_value=D(100000), places=2)
_qtys = st.decimals(min_value=D("0.001"), max_value=D(100), places=3)
_fees = st.decimals(min_value=D(0), max_value=D(10), places=4)
_trades = st.lists(
    st.tuples(st.sampled_from(["binance", "okx"]), st.sampled_from([BUY, SELL]), _qtys, _prices, _fees, _prices),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(_trades)
def test_a_run_that_ends_flat_ends_at_its_fills_realised_pnl(trades: list[tuple[str, Side, D, D, D, D]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite")
        run_id = journal.start_run("bootstrap", "paper")
        fills = []
        for i, (venue, side, qty, price, fee, close_price) in enumerate(trades):
            fills.append(trade(journal, run_id, venue, side, str(qty), str(price), str(fee), at_s=i))
            fills.append(trade(journal, run_id, venue, side.opposite, str(qty), str(close_price), "0", at_s=100 + i))
        report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]
        journal.close()

    realised = leg_pnl(fills)
    assert report.totals["price_pnl"] == realised.gross
    assert report.totals["fees"] == realised.fees
    assert report.totals["net"] == realised.net
    assert all(v["position"] == 0 for v in report.venues.values())
    volumes = [p["volume"] for p in report.pnl]
    fees = [p["fees"] for p in report.pnl]
    assert volumes == sorted(volumes)
    assert fees == sorted(fees)


def _carry_run(journal: Journal) -> str:
    """A carry held 0.01 BTC long binance / short okx, re-hedged okx once, tripped the breaker and closed."""
    run_id = journal.start_run("carry", "paper")
    trade(journal, run_id, "binance", BUY, "0.01", "100000", "0.5", at_s=0, intent="carry_open")
    trade(journal, run_id, "okx", SELL, "0.01", "100010", "0.5", at_s=0, intent="carry_open")
    reading = {"marks": {"binance": "100200", "okx": "100190"}, "qty": {"binance": "0.01", "okx": "-0.01"}}
    journal.event(run_id, "carry.open", {"text": "opened 0.01 BTC", "qty": "0.01"})
    journal.event(
        run_id,
        "carry.mark",
        {**reading, "basis_bps": "1.00", "spread_apr_pct": "12.50", "delta": "0", "delta_pct": "0"},
    )
    journal.event(run_id, "carry.funding", {"text": "okx: funding", "venue": "okx", "amount": "0.2"})
    short = {**reading, "qty": {"binance": "0.01", "okx": "-0.005"}}
    journal.event(
        run_id,
        "carry.mark",
        {**short, "basis_bps": "1.00", "spread_apr_pct": None, "delta": "0.005", "delta_pct": "50"},
    )
    journal.event(run_id, "carry.rehedge", {"text": "re-hedged", "venue": "okx", "qty": "0.005"})
    journal.event(run_id, "carry.trip", {"text": "circuit breaker tripped", "breaker": "delta_breach"})
    journal.event(run_id, "carry.close", {"text": "closed BTC", "net": "-1", "reason": "circuit breaker: x"})
    return run_id


def test_a_carrys_readings_value_its_legs_and_its_events_become_markers(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    run_id = _carry_run(journal)

    report = build_run(journal, journal.run(run_id))  # type: ignore[arg-type]

    assert report.kind == "carry"
    assert [(p["delta"], p["delta_pct"], p["spread_apr_pct"]) for p in report.carry] == [
        (D(0), D(0), D("12.50")),
        (D("0.005"), D(50), None),
    ]
    assert report.carry[1]["qty"] == {"binance": D("0.01"), "okx": D("-0.005")}
    # Between the fills and the close, the open legs are valued at the readings' marks (a carry.funding event is
    # not a payment: the funding table is).
    assert report.pnl[-1]["cause"] == "mark"
    assert report.totals["price_pnl"] == D("0.01") * (D(100200) - D(100000)) + D("0.01") * (D(100010) - D(100190))
    assert report.totals["funding"] == 0
    assert [(m["kind"], m["event"]) for m in report.markers] == [
        ("open", "open"),
        ("rehedge", "rehedge"),
        ("trip", "trip"),
        ("exit", "close"),
    ]
    rehedge, trip, close = report.markers[1:]
    assert (rehedge["venue"], rehedge["qty"]) == ("okx", D("0.005"))
    assert trip["breaker"] == "delta_breach"
    assert close["reason"] == "circuit breaker: x"


def test_a_runs_net_counts_funding_settled_after_it_ended_as_history_does(tmp_path: Path) -> None:
    from tests.report.journal_rows import T0

    journal = _journal(tmp_path)
    run_id = journal.start_run("bootstrap", "paper")
    trade(journal, run_id, "binance", BUY, "1", "100", "0.1")
    funding(journal, run_id, "binance", "0.05")  # settled while it ran: in its recorded net
    journal.end_run(run_id, status="ok", exit_code=0, net_pnl=D("-0.5"), volume=D(100))
    later_s = (datetime.now(UTC) + timedelta(hours=8) - T0).total_seconds()
    funding(journal, run_id, "backpack", "0.2", asset="USDC", at_s=later_s)  # read later, by `positions`

    document = build_report(journal, journal.runs(None), datetime.now(UTC)).document()

    [row] = document["summary"]["runs"]
    assert row["net_pnl"] == "-0.3"  # -0.5 recorded + 0.2 USDC at par
    assert document["runs"][0]["run"]["net_pnl"] == "-0.3"
    assert document["summary"]["totals"]["net_pnl"] == "-0.3"
