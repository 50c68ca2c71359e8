"""bootstrap --entry maker-first through the real CLI against the simulator (frozen clock: the post-only order
fills only when the test fills it through /_sim/fill).

Each test ends flat, and its fees are exact: what the command reports per venue is what the simulator charged,
and the saving is, for every maker fill the simulator made, its taker fee at the same price less its maker fee."""

from __future__ import annotations

import json
import signal
import subprocess
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn

pytestmark = pytest.mark.e2e
LONG, SHORT = "okx", "backpack"  # equal taker fees (0.05 %): the post-only order rests on the long venue
TAKER_RATE = {"okx": Decimal("0.0005"), "backpack": Decimal("0.0005")}


def _args(timeout: str) -> list[str]:
    return [
        "bootstrap", "--long", LONG, "--short", SHORT, "--symbol", "BTC", "--notional", "300", "--hold", "0",
        "--entry", "maker-first", "--maker-timeout", timeout, "--yes", "--json",
    ]  # fmt: skip


def _freeze(sim: Sim) -> None:
    sim.post("/_sim/clock", {"frozen": True})


def _orders(sim: Sim, venue: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests("create_order") if r["venue"] == venue]


def _resting(sim: Sim, venue: str) -> list[dict[str, Any]]:
    return sim.state()[venue]["open_orders"]


def _fill(sim: Sim, ratio: str) -> list[dict[str, Any]]:
    return sim.post("/_sim/fill", {"venue": LONG, "all": True, "ratio": ratio})["fills"]


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, json.loads(out), err


def _assert_flat_with_exact_fees(sim: Sim, doc: dict[str, Any], maker_fills: list[dict[str, Any]]) -> None:
    assert sim.all_flat()
    state = sim.state()
    for venue in (LONG, SHORT):
        assert Decimal(str(doc["pnl"][venue]["fees"])) == Decimal(state[venue]["fees_paid"]), venue
    saving = sum(
        (Decimal(f["qty"]) * Decimal(f["price"]) * TAKER_RATE[LONG] - Decimal(f["fee"]) for f in maker_fills),
        Decimal(0),
    )
    assert all(f["maker"] for f in maker_fills)
    assert Decimal(str(doc["entry"]["fees"][LONG]["saving"])) == saving
    assert Decimal(str(doc["entry"]["fees"][SHORT]["saving"])) == 0
    assert Decimal(str(doc["entry"]["fee_saving"])) == saving


def test_partial_maker_fills_are_each_hedged_at_once_on_the_other_venue(sim: Sim) -> None:
    _freeze(sim)
    proc = spawn(*_args("60"))
    try:
        eventually(lambda: len(_resting(sim, LONG)) == 1, timeout=30)
        first = _fill(sim, "0.5")
        eventually(lambda: len(_orders(sim, SHORT)) == 1)  # the first hedge, before anything else fills
        hedge = _orders(sim, SHORT)[0]
        assert (hedge["side"], Decimal(hedge["qty"])) == ("sell", Decimal(first[0]["qty"]))
        rest = _fill(sim, "1")
        eventually(lambda: len(_orders(sim, SHORT)) >= 2)
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    entry = doc["entry"]
    qty = Decimal(str(doc["qty"]))
    assert (entry["maker"], entry["taker"], entry["maker_side"]) == (LONG, SHORT, "buy")
    assert Decimal(str(entry["maker_filled"])) == Decimal(str(entry["hedged"])) == qty
    assert Decimal(str(entry["taken"])) == 0
    assert entry["timed_out"] is False
    hedges = [r for r in _orders(sim, SHORT) if not r["reduce_only"]]
    assert [Decimal(h["qty"]) for h in hedges] == [Decimal(first[0]["qty"]), Decimal(rest[0]["qty"])]
    assert len([r for r in _orders(sim, LONG) if not r["reduce_only"]]) == 1  # one post-only order
    _assert_flat_with_exact_fees(sim, doc, first + rest)


def test_after_the_timeout_the_rest_is_taken_on_both_venues(sim: Sim) -> None:
    _freeze(sim)
    proc = spawn(*_args("2"))  # the fill below lands within milliseconds of the order resting
    try:
        eventually(lambda: len(_resting(sim, LONG)) == 1, timeout=30)
        part = _fill(sim, "0.4")
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    entry = doc["entry"]
    qty = Decimal(str(doc["qty"]))
    maker_qty = Decimal(part[0]["qty"])
    assert entry["timed_out"] is True
    assert Decimal(str(entry["maker_filled"])) == maker_qty
    assert Decimal(str(entry["taken"])) == qty - maker_qty
    opens = {v: [r for r in _orders(sim, v) if not r["reduce_only"]] for v in (LONG, SHORT)}
    # okx: the post-only order, then the rest at market; backpack: the hedge of the partial fill, then the rest.
    assert [Decimal(r["qty"]) for r in opens[LONG]] == [qty, qty - maker_qty]
    assert [Decimal(r["qty"]) for r in opens[SHORT]] == [maker_qty, qty - maker_qty]
    _assert_flat_with_exact_fees(sim, doc, part)


def test_nothing_filled_as_maker_takes_everything_and_saves_nothing(sim: Sim) -> None:
    _freeze(sim)
    proc = hedgectl(*_args("1"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["entry"]["maker_filled"] == "0"
    assert doc["entry"]["timed_out"] is True
    assert Decimal(str(doc["entry"]["taken"])) == Decimal(str(doc["qty"]))
    _assert_flat_with_exact_fees(sim, doc, [])


def test_a_post_only_rejection_is_priced_again_and_the_entry_goes_on(sim: Sim) -> None:
    _freeze(sim)
    sim.fault(
        venue=LONG,
        op="create_order",
        kind="reject",
        count=1,
        code="51006",
        msg="Order price is not within the price limit",
    )
    proc = spawn(*_args("60"))
    try:
        eventually(lambda: len(_resting(sim, LONG)) == 1, timeout=30)
        fills = _fill(sim, "1")
        eventually(lambda: len(_orders(sim, SHORT)) >= 1)
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    first, second = _orders(sim, LONG)[:2]
    assert first["fault"] == "reject"
    assert second["fault"] is None
    assert doc["entry"]["maker_orders"] == 1
    _assert_flat_with_exact_fees(sim, doc, fills)


def test_post_only_refused_every_time_rolls_back_flat(sim: Sim) -> None:
    _freeze(sim)
    sim.fault(venue=LONG, op="create_order", kind="reject", count=5)
    proc = hedgectl(*_args("60"))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert "maker-first entry" in doc["error"]
    assert [r for r in sim.requests("create_order") if r["venue"] == SHORT] == []  # nothing filled: no hedge
    assert sim.all_flat()
    assert all(Decimal(v["fees_paid"]) == 0 for v in sim.state().values())
    assert doc["pnl"]["fees"] == "0"


def test_ctrl_c_mid_entry_cancels_hedges_what_filled_and_ends_flat(sim: Sim) -> None:
    _freeze(sim)
    proc = spawn(*_args("60"))
    try:
        eventually(lambda: len(_resting(sim, LONG)) == 1, timeout=30)
        part = _fill(sim, "0.5")
        eventually(lambda: len(_orders(sim, SHORT)) == 1)
        proc.send_signal(signal.SIGINT)
    finally:
        code, doc, err = _finish(proc)
    assert code == 130, err
    assert doc["interrupted"] is True
    assert Decimal(str(doc["entry"]["maker_filled"])) == Decimal(part[0]["qty"]) == Decimal(str(doc["entry"]["hedged"]))
    assert _resting(sim, LONG) == []  # the post-only order was cancelled
    _assert_flat_with_exact_fees(sim, doc, part)


def test_the_loss_limit_closes_a_maker_first_entry_early_as_it_does_a_taker_one(sim: Sim) -> None:
    _freeze(sim)
    args = _args("60")
    args[args.index("--hold") + 1] = "60"
    proc = spawn(*args)
    try:
        eventually(lambda: len(_resting(sim, LONG)) == 1, timeout=30)
        fills = _fill(sim, "1")
        eventually(lambda: len(_orders(sim, SHORT)) == 1)
        price = Decimal(fills[0]["price"]) * Decimal("0.98")  # the long venue falls 2 %
        sim.post("/_sim/price", {"symbol": "BTC", "price": str(price), "venue": LONG})
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    assert doc["closed_early"] is True
    assert any("max-loss-pct" in w for w in doc["warnings"])
    _assert_flat_with_exact_fees(sim, doc, fills)


def test_the_post_only_order_rests_on_the_venue_with_the_higher_taker_fee(sim: Sim) -> None:
    # Aster's taker fee is 0.035 %, OKX's 0.05 %: with Aster long, the post-only order sells on OKX.
    _freeze(sim)
    args = _args("60")
    args[args.index("--long") + 1], args[args.index("--short") + 1] = "aster", "okx"
    proc = spawn(*args)
    try:
        eventually(lambda: len(_resting(sim, "okx")) == 1, timeout=30)
        assert _resting(sim, "aster") == []
        fills = sim.post("/_sim/fill", {"venue": "okx", "all": True, "ratio": "1"})["fills"]
        eventually(lambda: len(_orders(sim, "aster")) >= 1)
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    entry = doc["entry"]
    assert (entry["maker"], entry["taker"], entry["maker_side"]) == ("okx", "aster", "sell")
    assert entry["taker_rates"]["aster"]["rate"] == "0.00035"
    assert sim.all_flat()
    saving = sum(
        (Decimal(f["qty"]) * Decimal(f["price"]) * TAKER_RATE["okx"] - Decimal(f["fee"]) for f in fills), Decimal(0)
    )
    assert Decimal(str(entry["fee_saving"])) == saving
    state = sim.state()
    assert all(Decimal(str(doc["pnl"][v]["fees"])) == Decimal(state[v]["fees_paid"]) for v in ("okx", "aster"))


def test_binance_refusing_a_post_only_order_that_would_take_is_priced_again(sim: Sim) -> None:
    # Binance and OKX charge the same taker fee: the order rests on the long venue, Binance, which refuses a
    # post-only order that would take with -5022 (OKX and Backpack expire it instead).
    _freeze(sim)
    sim.fault(
        venue="binance", op="create_order", kind="reject", count=1, code="-5022",
        msg="Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )  # fmt: skip
    proc = spawn(*[a for a in _args("60")[:-2] if a not in ("--long", LONG, "--short", SHORT)], "--yes", "--json")
    try:
        eventually(lambda: len(_resting(sim, "binance")) == 1, timeout=30)
        fills = sim.post("/_sim/fill", {"venue": "binance", "all": True, "ratio": "1"})["fills"]
        eventually(lambda: len(_orders(sim, "okx")) >= 1)
    finally:
        code, doc, err = _finish(proc)
    assert code == 0, err
    first, second = _orders(sim, "binance")[:2]
    assert first["fault"] == "reject"
    assert second["fault"] is None
    assert doc["entry"]["maker"] == "binance"
    assert sim.all_flat()
    state = sim.state()
    assert all(Decimal(str(doc["pnl"][v]["fees"])) == Decimal(state[v]["fees_paid"]) for v in ("binance", "okx"))
    assert Decimal(str(doc["entry"]["fee_saving"])) == sum(
        (Decimal(f["qty"]) * Decimal(f["price"]) * Decimal("0.0005") - Decimal(f["fee"]) for f in fills), Decimal(0)
    )
