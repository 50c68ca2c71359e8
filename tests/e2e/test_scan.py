"""`hedgectl scan` against the simulator: every figure recomputed here from the venues' raw replies.

The independent computation reads the simulator's public endpoints as a venue client would (Binance premiumIndex,
fundingInfo and depth; OKX funding-rate, books and instruments; Backpack markPrices, markets and depth) and
prices each pair with the formulas the README states, without hedgectl's code.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Sim, hedgectl, spawn

pytestmark = pytest.mark.e2e

HOLD = timedelta(hours=8)
NOTIONAL = Decimal(100_000)  # deep enough to walk several levels of Backpack's book
# The venues' published base-tier taker rates (binance VIP 0, OKX Lv1, Backpack base tier).
TAKER = {"binance": Decimal("0.0005"), "okx": Decimal("0.0005"), "backpack": Decimal("0.0005")}
SETTLE = {"binance": "USDT", "okx": "USDT", "backpack": "USDC"}
HUNDREDTH = Decimal("0.01")
MONEY = Decimal("0.000001")


@dataclass
class Raw:
    venue: str
    rate: Decimal
    interval: timedelta
    next_at: datetime
    bids: list[tuple[Decimal, Decimal]]  # best first, base units
    asks: list[tuple[Decimal, Decimal]]

    @property
    def mid(self) -> Decimal:
        return (self.bids[0][0] + self.asks[0][0]) / 2


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _levels(rows: list[list[str]], scale: Decimal, best_first_desc: bool) -> list[tuple[Decimal, Decimal]]:
    levels = [(Decimal(r[0]), Decimal(r[1]) * scale) for r in rows]
    return sorted(levels, key=lambda level: level[0], reverse=best_first_desc)


def raw_binance(sim: Sim) -> Raw:
    prem = sim.http.get("/binance/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"}).json()
    info = sim.http.get("/binance/fapi/v1/fundingInfo").json()
    hours = next((int(r["fundingIntervalHours"]) for r in info if r["symbol"] == "BTCUSDT"), 8)  # absent: 8h
    depth = sim.http.get("/binance/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 50}).json()
    return Raw(
        "binance",
        Decimal(prem["lastFundingRate"]),
        timedelta(hours=hours),
        _ms(prem["nextFundingTime"]),
        _levels(depth["bids"], Decimal(1), True),
        _levels(depth["asks"], Decimal(1), False),
    )


def raw_okx(sim: Sim) -> Raw:
    rate = sim.http.get("/okx/api/v5/public/funding-rate", params={"instId": "BTC-USDT-SWAP"}).json()["data"][0]
    insts = sim.http.get("/okx/api/v5/public/instruments", params={"instType": "SWAP"}).json()["data"]
    ct_val = Decimal(next(i["ctVal"] for i in insts if i["instId"] == "BTC-USDT-SWAP"))
    book = sim.http.get("/okx/api/v5/market/books", params={"instId": "BTC-USDT-SWAP", "sz": 50}).json()["data"][0]
    return Raw(
        "okx",
        Decimal(rate["fundingRate"]),
        _ms(rate["nextFundingTime"]) - _ms(rate["fundingTime"]),
        _ms(rate["fundingTime"]),
        _levels(book["bids"], ct_val, True),
        _levels(book["asks"], ct_val, False),
    )


def raw_backpack(sim: Sim) -> Raw:
    mark = sim.http.get("/backpack/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}).json()[0]
    markets = sim.http.get("/backpack/api/v1/markets").json()
    interval_ms = int(next(m["fundingInterval"] for m in markets if m["symbol"] == "BTC_USDC_PERP"))
    depth = sim.http.get("/backpack/api/v1/depth", params={"symbol": "BTC_USDC_PERP"}).json()
    return Raw(
        "backpack",
        Decimal(mark["fundingRate"]),
        timedelta(milliseconds=interval_ms),
        _ms(mark["nextFundingTimestamp"]),
        _levels(depth["bids"], Decimal(1), True),
        _levels(depth["asks"], Decimal(1), False),
    )


def _take(levels: list[tuple[Decimal, Decimal]], qty: Decimal) -> Decimal:
    value, left = Decimal(0), qty
    for price, size in levels:
        step = min(left, size)
        value += step * price
        left -= step
        if left <= 0:
            return value
    raise AssertionError("book too thin for the test's notional")


def _settlements(raw: Raw, start: datetime, end: datetime) -> int:
    count, at = 0, raw.next_at
    while at <= end:
        count += at > start
        at += raw.interval
    return count


def expected_pair(long: Raw, short: Raw, as_of: datetime) -> dict[str, Decimal]:
    """The README's formulas, from the raw replies."""
    hours = lambda raw: Decimal(int(raw.interval.total_seconds())) / 3600  # noqa: E731
    per_hour = short.rate / hours(short) - long.rate / hours(long)
    mean = (long.mid + short.mid) / 2
    qty = NOTIONAL / mean
    lb, ls = _take(long.asks, qty), _take(long.bids, qty)
    ss, sb = _take(short.bids, qty), _take(short.asks, qty)
    fees = TAKER[long.venue] * (lb + ls) + TAKER[short.venue] * (ss + sb)
    cost = (lb - ls) + (sb - ss) + fees
    carry = short.rate * NOTIONAL * _settlements(short, as_of, as_of + HOLD) - long.rate * NOTIONAL * _settlements(
        long, as_of, as_of + HOLD
    )
    expected = carry - cost
    return {
        "funding_apr_pct": (per_hour * 8760 * 100).quantize(HUNDREDTH),
        "basis_bps": ((short.mid - long.mid) / mean * 10_000).quantize(HUNDREDTH),
        "entry_exit_cost_bps": (cost / NOTIONAL * 10_000).quantize(HUNDREDTH),
        "funding_carry": carry.quantize(MONEY),
        "expected_pnl": expected.quantize(MONEY),
        "net_apr_pct": (expected / NOTIONAL / 8 * 8760 * 100).quantize(HUNDREDTH),
    }


def _set_funding(sim: Sim, venue: str, rate: str, minutes_ahead: int) -> None:
    next_ms = int((time.time() + minutes_ahead * 60) * 1000)
    sim.post("/_sim/funding", {"venue": venue, "symbol": "BTC", "rate": rate, "next_funding_ms": next_ms})


@pytest.fixture
def market(sim: Sim) -> Sim:
    """Frozen prices (the books stay as the scan read them) and funding set per venue: Binance pays longs'
    0.03 % every 8 h, OKX -0.02 % every 8 h, Backpack 0.002 % every hour."""
    sim.post("/_sim/clock", {"frozen": True})
    _set_funding(sim, "binance", "0.0003", 30)
    _set_funding(sim, "okx", "-0.0002", 45)
    _set_funding(sim, "backpack", "0.00002", 20)
    return sim


def _scan(*venues: str, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    proc = hedgectl(
        "scan", "--symbols", "BTC", "--venues", ",".join(venues), "--notional", str(NOTIONAL), "--hold", "8h",
        "--json", *extra,
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr


FIGURES = ("funding_apr_pct", "basis_bps", "entry_exit_cost_bps", "funding_carry", "expected_pnl", "net_apr_pct")


def test_scan_ranks_every_pair_with_figures_equal_to_the_raw_replies(market: Sim) -> None:
    code, doc, err = _scan("binance", "okx", "backpack")
    assert code == 0, err
    raws = {r.venue: r for r in (raw_binance(market), raw_okx(market), raw_backpack(market))}
    as_of = datetime.fromisoformat(doc["as_of"])
    want = {(a, b): expected_pair(raws[a], raws[b], as_of) for a in raws for b in raws if a != b}  # six ordered pairs
    got = {(o["long"], o["short"]): o for o in doc["opportunities"]}
    assert set(got) == set(want)
    for pair, figures in want.items():
        for name in FIGURES:
            assert Decimal(got[pair][name]) == figures[name], (pair, name)
    ranking = [(o["long"], o["short"]) for o in doc["opportunities"]]
    assert ranking == sorted(want, key=lambda p: -want[p]["expected_pnl"])
    # Long the venue that pays longs least, short the one that pays shorts most: OKX long / Binance short.
    assert ranking[0] == ("okx", "binance")
    best = doc["opportunities"][0]
    assert best["long_funding"]["interval_s"] == 8 * 3600
    # The simulated accounts are on the published base tier; the rate is read from the account (paper keys).
    assert best["fees"]["long"] == {"taker_rate": "0.0005", "source": "account"}
    assert doc["unranked"] == []


def test_usdc_and_usdt_pairs_are_shown_as_such(market: Sim) -> None:
    code, doc, err = _scan("binance", "backpack")
    assert code == 0, err
    for o in doc["opportunities"]:
        assert o["mixed_settlement"] is True
        assert {o["long_settle"], o["short_settle"]} == {"USDT", "USDC"}
        assert o[f"{'long' if o['long'] == 'backpack' else 'short'}_settle"] == "USDC"
        assert o["asset"] == "USDT"
        assert o["conversion"] == "USDC counted at par with USDT"
    table = hedgectl("scan", "--symbols", "BTC", "--venues", "binance,backpack,okx")
    assert table.returncode == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if "BTC" in line and "│" in line]
    backpack_rows = [r for r in rows if "backpack" in r]
    assert backpack_rows
    for row in backpack_rows:
        assert "USDT/USDC" in row or "USDC/USDT" in row
    assert all("USDT/USDC" not in r and "USDC/USDT" not in r for r in rows if "backpack" not in r)
    assert "USDC counted at par" in table.stdout


def test_a_venue_down_marks_its_rows_and_the_rest_is_ranked(market: Sim) -> None:
    market.fault(venue="okx", op="any", kind="http_500", count=1000)
    code, doc, err = _scan("binance", "okx", "backpack", extra=("--timeout", "3"))
    assert code == 1, err
    assert doc["venues"]["okx"]["ok"] is False
    assert doc["venues"]["okx"]["error"].startswith("okx:")
    assert {(o["long"], o["short"]) for o in doc["opportunities"]} == {("binance", "backpack"), ("backpack", "binance")}
    marked = {(u["long"], u["short"]) for u in doc["unranked"]}
    assert marked == {("okx", "binance"), ("binance", "okx"), ("okx", "backpack"), ("backpack", "okx")}
    assert all(u["reason"].startswith("okx:") for u in doc["unranked"])
    table = hedgectl("scan", "--symbols", "BTC", "--venues", "binance,okx,backpack", "--timeout", "3")
    assert table.returncode == 1
    okx_rows = [line for line in table.stdout.splitlines() if "│" in line and "okx" in line]
    assert len(okx_rows) == 4
    assert all("okx:" in row for row in okx_rows)


def test_the_ccxt_path_reads_the_simulated_venues_with_the_same_figures(market: Sim) -> None:
    code, doc, err = _scan("ccxt:binanceusdm", "ccxt:okx", "ccxt:backpack")
    assert code == 0, err
    raws = {"ccxt:binanceusdm": raw_binance(market), "ccxt:okx": raw_okx(market), "ccxt:backpack": raw_backpack(market)}
    as_of = datetime.fromisoformat(doc["as_of"])
    got = {(o["long"], o["short"]): o for o in doc["opportunities"]}
    assert len(got) == 6
    for (long, short), o in got.items():
        want = expected_pair(raws[long], raws[short], as_of)
        for name in FIGURES:
            assert Decimal(o[name]) == want[name], (long, short, name)
    assert got[("ccxt:okx", "ccxt:binanceusdm")]["long_funding"]["interval_s"] == 8 * 3600  # next - this time
    assert got[("ccxt:binanceusdm", "ccxt:okx")]["long_funding"]["interval_s"] == 8 * 3600  # fundingInfo's rule
    assert got[("ccxt:backpack", "ccxt:okx")]["long_settle"] == "USDC"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--venues", "binance,nosuchexchange"), "unknown venue 'nosuchexchange'"),
        (("--venues", "binance"), "at least two venues"),
        (("--hold", "soon"), "--hold must be a duration"),
        (("--notional", "-5"), "--notional must be a positive number"),
        (("--venues", "binance,bybit"), "paper mode reads only the simulated venues"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(sim: Sim, args: tuple[str, ...], message: str) -> None:
    proc = hedgectl("scan", "--symbols", "BTC", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("watch", [(), ("--watch", "--interval", "1")])
def test_symbols_no_venue_lists_are_one_line_and_exit_2_like_prices(sim: Sim, watch: tuple[str, ...]) -> None:
    proc = hedgectl("scan", "--symbols", "FOO,BAR", "--venues", "binance,okx", *watch, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: unknown symbols 'FOO', 'BAR': not listed on binance, okx"
    assert proc.stdout == ""
    prices = hedgectl("prices", "--symbol", "FOO")
    assert prices.returncode == proc.returncode


def test_symbols_unlisted_where_a_venue_could_not_be_read_are_not_called_unknown(sim: Sim) -> None:
    sim.fault(venue="okx", op="any", kind="http_500", count=1000)
    proc = hedgectl("scan", "--symbols", "FOO", "--venues", "binance,okx", "--json", "--timeout", "2", timeout=60)
    assert proc.returncode == 1, proc.stderr  # okx may list it: its failure is the answer, not "unknown symbol"
    doc = json.loads(proc.stdout)
    assert doc["venues"]["okx"]["ok"] is False
    assert doc["unlisted"] == ["FOO"]


def test_a_symbol_no_venue_lists_beside_listed_ones_is_a_warning(sim: Sim) -> None:
    proc = hedgectl("scan", "--symbols", "FOO,BTC", "--venues", "binance,okx", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["unlisted"] == ["FOO"]
    assert {(o["base"], o["long"], o["short"]) for o in doc["opportunities"]} == {
        ("BTC", "binance", "okx"),
        ("BTC", "okx", "binance"),
    }
    assert "warning: not listed on any venue read (binance, okx): 'FOO'" in proc.stderr


def test_min_apr_keeps_only_pairs_at_or_above_it(market: Sim) -> None:
    code, every, err = _scan("binance", "okx", "backpack")
    assert code == 0, err
    aprs = sorted(Decimal(o["net_apr_pct"]) for o in every["opportunities"])
    cut = aprs[len(aprs) // 2]
    code, doc, err = _scan("binance", "okx", "backpack", extra=("--min-apr", str(cut)))
    assert code == 0, err
    kept = [Decimal(o["net_apr_pct"]) for o in doc["opportunities"]]
    assert kept
    assert all(apr >= cut for apr in kept)
    assert len(kept) + doc["below_min_apr"] == len(aprs)


def test_watch_refreshes_with_a_timestamp_until_interrupted(market: Sim) -> None:
    proc = spawn("scan", "--symbols", "BTC", "--venues", "binance,okx", "--watch", "--interval", "1", "--json")
    lines: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        while len(lines) < 2:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(json.loads(line))
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert len(lines) == 2, "the watch stopped before its second refresh"
    first, second = (datetime.fromisoformat(doc["as_of"]) for doc in lines)
    assert second > first
    assert all(len(doc["opportunities"]) == 2 for doc in lines)
    assert proc.returncode == 130  # stopped by Ctrl+C, as the exit-code table says


def test_ccxt_reads_asters_own_interval_from_its_funding_info(sim: Sim) -> None:
    proc = hedgectl("scan", "--symbols", "ASTER", "--venues", "ccxt:aster,backpack", "--json")
    assert proc.returncode == 0, proc.stderr
    pair = next(o for o in json.loads(proc.stdout)["opportunities"] if o["long"] == "ccxt:aster")
    assert pair["long_funding"]["interval_s"] == 4 * 3600  # Aster settles ASTER every 4 h
    assert pair["short_funding"]["interval_s"] == 3600
