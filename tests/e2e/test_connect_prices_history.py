"""`connect`, `prices` and `history` in paper mode, against a real simulator."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


def test_connect_checks_all_four_venues(sim: Sim) -> None:
    proc = hedgectl("connect", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    assert doc["mode"] == "paper"
    venues = {v["venue"]: v for v in doc["venues"]}
    assert set(venues) == {"binance", "okx", "backpack", "aster"}
    for v in venues.values():
        assert v["auth_ok"] is True
        assert v["rtt_ms_p50"] >= 0
        assert abs(v["clock_skew_ms"]) < 2000
        assert any(Decimal(b["total"]) > 0 for b in v["balances"])
        assert v["host"].startswith(sim.url)


def test_connect_human_table(sim: Sim) -> None:
    proc = hedgectl("connect")
    assert proc.returncode == 0, proc.stderr
    assert "hedgectl connect (paper mode)" in proc.stdout
    for venue in ("binance", "okx", "backpack", "aster"):
        assert venue in proc.stdout


def test_connect_reports_a_failing_venue_and_carries_on(sim: Sim) -> None:
    sim.fault(venue="aster", op="any", kind="http_500", count=100)
    proc = hedgectl("connect", "--json")
    assert proc.returncode == 1
    venues = {v["venue"]: v for v in json.loads(proc.stdout)["venues"]}
    assert venues["aster"]["ok"] is False
    assert venues["aster"]["error"]
    assert venues["binance"]["ok"] is True


def test_prices_for_btc_on_every_venue(sim: Sim) -> None:
    proc = hedgectl("prices", "--symbol", "BTC", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc["venues"]) == {"binance", "okx", "backpack", "aster"}
    for quote in doc["venues"].values():
        bid, ask = Decimal(quote["bid"]), Decimal(quote["ask"])
        assert 0 < bid < ask
        assert Decimal(quote["mid"]) == (bid + ask) / 2
        assert quote["funding_rate"] is not None
        assert quote["next_funding_at"]
    assert doc["best_cross_spread"]["buy"] != doc["best_cross_spread"]["sell"]


def test_prices_human_table(sim: Sim) -> None:
    proc = hedgectl("prices", "--symbol", "ETH")
    assert proc.returncode == 0, proc.stderr
    assert "ETH prices (paper mode)" in proc.stdout
    assert "best cross spread" in proc.stdout


def test_history_lists_a_bootstrap_and_shows_its_orders(sim: Sim) -> None:
    run = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert run.returncode == 0, run.stderr
    listing = json.loads(hedgectl("history", "--json").stdout)
    boot = next(r for r in listing["runs"] if r["command"] == "bootstrap")
    assert boot["status"] == "ok"
    assert boot["exit_code"] == 0
    assert boot["net_pnl"] is not None
    shown = json.loads(hedgectl("history", "show", boot["id"], "--json").stdout)
    intents = sorted(o["intent"] for o in shown["orders"])
    assert intents == ["close", "close", "open", "open"]
    assert all(o["state"] == "acked" for o in shown["orders"])
    assert len(shown["fills"]) >= 4


def test_prices_watch_stamps_each_line_and_ends_on_ctrl_c_with_130(sim: Sim) -> None:
    import signal
    from datetime import UTC, datetime, timedelta

    from tests.e2e.conftest import spawn

    started = datetime.now(UTC)
    proc = spawn("prices", "--watch", "--json", "--interval", "0.2")
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]  # two refreshes
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    first, second = (datetime.fromisoformat(doc["ts"]) for doc in lines)
    assert first.utcoffset() == timedelta(0)  # ISO-8601 in UTC
    assert started <= first < second <= datetime.now(UTC)


def test_prices_watch_into_a_pipe_writes_each_refresh_as_it_comes(sim: Sim) -> None:
    """Off a terminal a live table draws only when it ends: `prices --watch | tee log` showed nothing until then."""
    import queue
    import signal
    import threading

    from tests.e2e.conftest import spawn

    proc = spawn("prices", "--watch", "--interval", "0.2")
    try:
        assert proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True).start()
        titles: list[str] = []
        while len(titles) < 2:  # two tables read while the watch still runs (bounded: a silent watch fails)
            line = lines.get(timeout=30)
            if " prices (paper mode, " in line:
                titles.append(line)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert all(title.startswith("BTC prices (paper mode, ") and " UTC)" in title for title in titles), titles
