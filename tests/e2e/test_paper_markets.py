"""Paper mode on a recorded or live market, end to end: `hedgectl sim record`, a replayed bp-aster loop run twice,
and every paper command saying which market it ran on."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.sim.market_source import recording
from hedgectl.sim.market_source.records import Snapshot
from tests.e2e.conftest import Sim, hedgectl
from tests.sim.market_files import book, trade, write

pytestmark = pytest.mark.e2e

D = Decimal
FAST = ["--requote-after", "2", "--between-legs", "0", "--cycle-sleep", "0", "--stop-before-funding", "0"]


def calm_market(path: Path, seconds: int = 300) -> Path:
    """ASTER on Backpack and Aster: a book that stands still, and every 250 ms a large taker on either side,
    far through the touch - so a resting quote fills at its own price soon after it rests, whenever that is."""
    events: list[Any] = []
    for ms in range(0, seconds * 1000, 1000):
        events.append(
            book(
                ms,
                "backpack",
                "ASTER",
                [("1.1995", "900"), ("1.1990", "4000")],
                [("1.2005", "900"), ("1.2010", "4000")],
            )
        )
        events.append(
            book(
                ms,
                "aster",
                "ASTER",
                [("1.19970", "300"), ("1.19950", "5000")],
                [("1.20030", "300"), ("1.20050", "5000")],
            )
        )
    for i, ms in enumerate(range(125, seconds * 1000, 250)):
        taker, price = ("buy", "1.3") if i % 2 == 0 else ("sell", "1.1")
        events.append(trade(ms, "backpack", "ASTER", price, "100000", taker, trade_id=str(i)))
    return write(path, events)


def run_loop(monkeypatch: pytest.MonkeyPatch, home: Path, market: Path) -> dict[str, Any]:
    monkeypatch.setenv("HEDGECTL_HOME", str(home))
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", f"replay:{market}")
    proc = hedgectl("bp-aster", "loop", "--json", "--qty", "20", "--cycles", "2", *FAST, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert lines[-1]["event"] == "summary", lines[-3:]
    return lines[-1]


def test_a_replayed_loop_costs_the_same_per_10k_run_after_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    market = calm_market(tmp_path / "calm.jsonl")
    first = run_loop(monkeypatch, tmp_path / "home-1", market)
    second = run_loop(monkeypatch, tmp_path / "home-2", market)
    assert first["market"] == second["market"] == f"replay {market}"
    a, b = first["stats"], second["stats"]
    assert a["cycles"] == b["cycles"] == 2
    assert a["cost_per_10k"] is not None
    for key in ("cost_per_10k", "maker_volume", "taker_volume", "fees"):
        assert a[key] == b[key], key
    # Two cycles of hedges on Aster's replayed touch (300 deep: the four hedges of 20 never reach the next level).
    assert D(a["taker_volume"]) == 2 * D("20") * (D("1.20030") + D("1.19970"))
    # Maker quotes filled at their own prices: 0.2 % either side of Backpack's recorded mid (1.2000).
    assert D(a["maker_volume"]) == 2 * D("20") * (D("1.2024") + D("1.1976"))


def test_sim_record_captures_the_stand_in_venues_and_replay_reads_it_back(sim: Sim, tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    proc = hedgectl(
        "sim",
        "record",
        "--venues",
        "okx,backpack",
        "--symbols",
        "ASTER,ETH",
        "--minutes",
        "0.02",
        "--poll-ms",
        "200",
        "--url",
        sim.url,
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["pairs"] == ["okx:ASTER", "okx:ETH", "backpack:ASTER", "backpack:ETH"]
    header, events = recording.read(out)
    assert (header.venues, header.symbols) == (("okx", "backpack"), ("ASTER", "ETH"))
    books = [e for e in events if isinstance(e, Snapshot)]
    assert {(b.venue, b.base) for b in books} == {
        ("okx", "ASTER"),
        ("okx", "ETH"),
        ("backpack", "ASTER"),
        ("backpack", "ETH"),
    }
    assert summary["events"] == len(events)
    # The recorded OKX book is in base units: the stand-in's own book, contract size undone.
    live = sim.http.get("/okx/api/v5/market/books", params={"instId": "ETH-USDT-SWAP", "sz": "1"}).json()["data"][0]
    assert all(b.bids[0][1] > 0 for b in books)
    assert D(live["bids"][0][0]) > 0


def test_record_refuses_bad_input_with_one_line(tmp_path: Path) -> None:
    for args, fragment in [
        (["--minutes", "0"], "--minutes must be"),
        (["--venues", "kraken"], "live venues must be among"),
        (["--poll-ms", "1"], "--poll-ms must be"),
    ]:
        proc = hedgectl("sim", "record", *args, str(tmp_path / "x.jsonl"))
        assert proc.returncode == 2, proc.stderr
        assert fragment in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "Traceback" not in proc.stderr


def test_a_paper_command_names_its_market_on_screen_and_in_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = calm_market(tmp_path / "calm.jsonl", seconds=5)
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", f"replay:{market}")
    text = hedgectl("prices", "-s", "ASTER", "--venue", "backpack", "--venue", "aster")
    doc = hedgectl("prices", "-s", "ASTER", "--venue", "backpack", "--venue", "aster", "--json")
    monkeypatch.delenv("HEDGECTL_SIM_MARKET")
    assert text.returncode == 0, text.stderr
    assert f"paper market: replay {market}" in text.stderr.splitlines()
    assert doc.returncode == 0, doc.stderr
    assert json.loads(doc.stdout)["market"] == f"replay {market}"
    synthetic = hedgectl("prices", "-s", "ASTER", "--json")
    assert json.loads(synthetic.stdout)["market"] == "synthetic"


def test_a_missing_recording_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", f"replay:{tmp_path / 'nope.jsonl'}")
    proc = hedgectl("prices", "-s", "ASTER")
    assert proc.returncode == 2, proc.stderr
    assert "cannot read the market recording" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_paper_prices_on_a_live_market_are_the_venues_prices(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    # `sim` stands in for the real venues; the command's own (embedded) simulator reads it as its live market.
    monkeypatch.delenv("HEDGECTL_SIM_URL")
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", "live")
    monkeypatch.setenv("HEDGECTL_SIM_LIVE_URL", sim.url)
    monkeypatch.setenv("HEDGECTL_SIM_LIVE_VENUES", "okx,aster")
    monkeypatch.setenv("HEDGECTL_SIM_LIVE_SYMBOLS", "ETH")
    sim.post("/_sim/clock", {"frozen": True})  # the venues' books stand still while both read them
    proc = hedgectl("prices", "-s", "ETH", "--venue", "okx", "--venue", "aster", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["market"] == f"live ({sim.url})"
    for venue, path, params in [
        ("okx", "/okx/api/v5/market/books", {"instId": "ETH-USDT-SWAP", "sz": "1"}),
        ("aster", "/aster/fapi/v1/depth", {"symbol": "ETHUSDT", "limit": "5"}),
    ]:
        reply = sim.http.get(path, params=params).json()
        top = reply["data"][0] if venue == "okx" else reply
        quoted = doc["venues"][venue]
        assert (D(quoted["bid"]), D(quoted["ask"])) == (D(top["bids"][0][0]), D(top["asks"][0][0])), venue


def test_a_live_market_nobody_answers_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", "live")
    monkeypatch.setenv("HEDGECTL_SIM_LIVE_URL", "http://127.0.0.1:9")
    proc = hedgectl("prices", "-s", "ETH")
    assert proc.returncode == 2, proc.stderr
    assert "no venue answered" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--market", "random"], "must be synthetic, replay:FILE or live"),
        (["--market", "synthetic", "--speed", "2"], "--speed applies to a replay market only"),
        (["--market", "replay:/nonexistent/x.jsonl"], "cannot read the market recording"),
    ],
)
def test_sim_serve_refuses_a_bad_market_with_one_line(args: list[str], fragment: str) -> None:
    proc = hedgectl("sim", "serve", "--port", "0", *args, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
