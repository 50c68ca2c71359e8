"""Accounts in hedge (Binance/Aster dualSidePosition) and long/short (OKX) mode: the real CLI against the simulator.

Each case ends flat with exit 0, and the simulator's request log shows every order carrying the position
side its mode needs (and, on Binance/Aster, no reduceOnly, which hedge mode refuses).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.cli.paper import PaperSimulator
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import OrderRequest, OrderType, PositionMode, Side
from hedgectl.errors import VenueError
from hedgectl.settings import load_settings
from hedgectl.sim import credentials
from hedgectl.venues.base import AccountConfigured
from hedgectl.venues.registry import Registry
from tests.e2e.conftest import Sim, hedgectl, journal_client_ids
from tests.e2e.test_bp_aster_loop import FAST, Loop, _fill_when_resting, frozen_sim  # noqa: F401 - fixture
from tests.sim.helpers import binance_query

pytestmark = pytest.mark.e2e


def hedge_mode(sim: Sim, *venues: str) -> None:
    for venue in venues:
        sim.post("/_sim/account", {"venue": venue, "position_mode": "hedge"})


def order_records(sim: Sim, venue: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests("create_order") if r["venue"] == venue and r["status"] == 200]


def sides_of_account(sim: Sim, venue: str) -> list[tuple[str, str]]:
    return sorted((p["position_side"], p["qty"]) for p in sim.state()[venue]["positions"])


async def _open_both_sides(venues: tuple[str, ...], qty: str = "0.002") -> None:
    """A long and a short on each venue, through the real adapters (a hedge-mode account holds both)."""
    settings = load_settings()
    registry = Registry(settings, paper=PaperSimulator(settings))
    try:
        for venue in venues:
            adapter = registry.venue(venue)
            for side in (Side.BUY, Side.SELL):
                request = OrderRequest(
                    symbol="BTC", side=side, type=OrderType.MARKET, qty=Decimal(qty),
                    client_order_id=new_client_order_id(),
                )
                await adapter.place_order(request)
    finally:
        await registry.aclose()


async def test_flatten_closes_each_side_of_hedge_mode_accounts(sim: Sim) -> None:
    venues = ("binance", "okx", "aster")
    hedge_mode(sim, *venues)
    await _open_both_sides(venues)
    for venue in venues:
        assert sides_of_account(sim, venue) == [("long", "0.002"), ("short", "-0.002")]
    proc = hedgectl("flatten", "--all", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    assert sim.all_flat()
    for venue in venues:
        assert len(doc["venues"][venue]["closes"]) == 2
        records = order_records(sim, venue)
        # opens: buy long, sell short; closes: sell long, buy short - never a one-way order
        assert sorted((r["side"], r["position_side"]) for r in records) == [
            ("buy", "long"), ("buy", "short"), ("sell", "long"), ("sell", "short"),
        ]
        if venue != "okx":
            assert not any(r["reduce_only"] for r in records)


def test_bootstrap_opens_and_closes_on_hedge_mode_accounts(sim: Sim, isolated_env: Path) -> None:
    hedge_mode(sim, "binance", "okx")
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["ok"] is True
    assert doc["exposure_after"] == {"binance": "0", "okx": "0"}
    assert sim.all_flat()
    binance = [(r["side"], r["position_side"], r["reduce_only"]) for r in order_records(sim, "binance")]
    okx = [(r["side"], r["position_side"]) for r in order_records(sim, "okx")]
    assert binance == [("buy", "long", False), ("sell", "long", False)]
    assert okx == [("sell", "short"), ("buy", "short")]
    logged = {r["client_order_id"] for r in sim.requests("create_order")}
    assert logged <= journal_client_ids(isolated_env)


def test_one_way_accounts_still_send_reduce_only_closes(sim: Sim) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    for venue in ("binance", "okx"):
        records = order_records(sim, venue)
        assert [(r["position_side"], r["reduce_only"]) for r in records] == [("both", False), ("both", True)]


def test_bp_aster_loop_on_a_hedge_mode_aster_account_ends_flat(frozen_sim: Sim) -> None:  # noqa: F811
    hedge_mode(frozen_sim, "aster")
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    for leg in (1, 2):
        _fill_when_resting(frozen_sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    assert loop.summary["flat"] is True
    assert frozen_sim.all_flat()
    hedges = [(r["side"], r["position_side"]) for r in order_records(frozen_sim, "aster")]
    # leg 1 opens the long; leg 2's hedge closes it instead of opening a short next to it
    assert hedges == [("buy", "long"), ("sell", "long")]


def test_connect_shows_position_mode_margin_mode_and_leverage(sim: Sim) -> None:
    hedge_mode(sim, "binance", "okx")
    proc = hedgectl("connect", "--json")
    assert proc.returncode == 0, proc.stderr
    venues = {v["venue"]: v for v in json.loads(proc.stdout)["venues"]}
    leverage = {venue: str(sim.state()[venue]["leverage"]) for venue in venues}
    for venue, mode in (("binance", "hedge"), ("okx", "hedge"), ("aster", "one_way")):
        account = venues[venue]["account"]
        assert (account["position_mode"], account["margin_mode"]) == (mode, "cross")
        assert Decimal(account["leverage"]) == Decimal(leverage[venue])
    assert venues["backpack"]["account"] is None
    table = hedgectl("connect")
    assert table.returncode == 0, table.stderr
    # the table may wrap a cell on a narrow terminal: look for its parts
    for part in ("hedge,", "one-way,", "cross,", f"{leverage['binance']}x"):
        assert part in table.stdout, table.stdout


def test_a_plan_whose_margin_the_account_cannot_post_is_refused_before_any_order(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20,000 notional: 4,000 at the old assumed 5x, but 20,000 at this account's 1x against 10,000 free.
    monkeypatch.setenv("HEDGECTL_MAX_NOTIONAL_USDT", "50000")
    query = binance_query({"symbol": "BTCUSDT", "leverage": "1"}, credentials.BINANCE_API_SECRET)
    headers = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    sim.http.post("/binance/fapi/v1/leverage", content=query, headers=headers).raise_for_status()
    proc = hedgectl("bootstrap", "--notional", "20000", "--max-slippage-bps", "5000", "--hold", "0")
    assert proc.returncode == 1, proc.stderr
    message = proc.stderr.strip()
    assert "binance" in message
    assert "margin needed" in message
    assert "at 1x" in message
    assert "Traceback" not in proc.stderr
    assert not sim.requests("create_order")
    assert sim.all_flat()


@pytest.mark.parametrize("venue", ["binance", "okx", "aster"])
async def test_a_mode_switched_mid_session_refuses_one_order_then_is_read_again(sim: Sim, venue: str) -> None:
    settings = load_settings()
    registry = Registry(settings, paper=PaperSimulator(settings))
    try:
        adapter = registry.venue(venue)
        assert isinstance(adapter, AccountConfigured)
        assert await adapter.position_mode() is PositionMode.ONE_WAY
        hedge_mode(sim, venue)  # switched behind the session's back

        def buy() -> OrderRequest:
            return OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.002"),
                                client_order_id=new_client_order_id())

        with pytest.raises(VenueError) as refused:
            await adapter.place_order(buy())
        assert refused.value.code in ("-4061", "51000")
        await adapter.place_order(buy())  # a new order with a new client id, after the mode was read again
        assert await adapter.position_mode() is PositionMode.HEDGE
    finally:
        await registry.aclose()
    assert sides_of_account(sim, venue) == [("long", "0.002")]


async def test_flatten_that_cannot_close_names_each_open_side_and_exits_3(sim: Sim) -> None:
    hedge_mode(sim, "binance")
    await _open_both_sides(("binance",))
    sim.fault(venue="binance", op="create_order", kind="reject", count=100)
    proc = hedgectl("flatten", "--venue", "binance", "--yes", "--json", "--rounds", "2")
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["exposure_after"] == {"binance": {"BTC long": "0.002", "BTC short": "-0.002"}}
    assert "BTC long" in proc.stderr
    assert "BTC short" in proc.stderr
