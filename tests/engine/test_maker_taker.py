"""The maker/taker loop against two in-memory venues: hedging, requotes, races, faults, stops, funding."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hedgectl.clock import SystemClock
from hedgectl.domain.types import FundingPayment
from hedgectl.engine.maker_taker import funding_gate
from hedgectl.engine.maker_taker.config import OnExit
from hedgectl.engine.maker_taker.events import LoopEvent
from hedgectl.engine.maker_taker.loop import UnhedgedAtStart
from hedgectl.errors import AmbiguousOrderState, OrderNotFound, OrderRejected, RateLimited, Unavailable, UsageError
from tests.engine.conftest import Rig
from tests.engine.fakes import FakeVenue

D = Decimal


def _flat(rig: Rig) -> bool:
    return rig.maker.position == 0 and rig.taker.position == 0


async def test_full_fills_hedge_each_leg_and_end_flat(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    result = await rig.run(cycles=2)
    assert result.exit_code == 0, result.error
    assert _flat(rig)
    assert rig.taker_orders("hedge") == [("buy", D(10)), ("sell", D(10))] * 2
    stats = result.stats
    assert stats is not None
    assert stats.cycles == 2
    assert stats.legs == 4
    assert stats.hedges == 4
    assert stats.reaction_samples == 4
    assert stats.reaction_ms_p50 is not None
    assert stats.maker_volume > D(40 * 1.19)
    assert stats.taker_volume > D(40 * 1.19)
    assert stats.fees["backpack"] > 0
    assert stats.fees["aster"] > 0
    # Maker sells above and buys below the market; both legs' fees are in the net.
    maker_fills = list(rig.maker.fills)
    sells = [f.price for f in maker_fills if f.side.value == "sell"]
    buys = [f.price for f in maker_fills if f.side.value == "buy"]
    assert min(sells) > rig.maker.ask
    assert max(buys) < rig.maker.bid
    assert stats.net_pnl == sum(
        (f.qty * f.price * (1 if f.side.value == "sell" else -1) - f.fee for f in [*rig.maker.fills, *rig.taker.fills]),
        D(0),
    )
    expected_cost = -stats.net_pnl / (stats.maker_volume + stats.taker_volume) * 10_000
    assert stats.cost_per_10k == expected_cost.quantize(D("0.0001"))
    assert len(rig.recorder.of("cycle")) == 2
    makers = [o for r in rig.journal.runs() for o in rig.journal.orders(r.id) if o.intent == "maker"]
    assert [(o.state, o.status, o.filled_qty) for o in makers] == [("acked", "filled", "10")] * 4


async def test_sell_price_is_last_plus_offset_rounded_up_and_buy_is_rounded_down(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.maker.price = D("1.2345")
    rig.maker.last = D("1.23456")  # a print between ticks
    await rig.run(offset_pct=D("0.2"))
    placed = rig.recorder.of("order", action="placed")
    assert placed[0].data["price"] == D("1.2371")  # 1.23456 * 1.002 = 1.23702912 -> up
    assert placed[1].data["price"] == D("1.2320")  # 1.23456 * 0.998 = 1.23209088 -> down


async def test_partial_fills_are_hedged_as_they_happen_and_small_residuals_carried(rig: Rig) -> None:
    # Leg 1: 5 (hedged at once), 2.5 (below the taker's 5 ASTER minimum notional: carried), 2.5 (now 5: hedged).
    rig.maker.autofill = [D("0.5"), D("0.5"), D(1)]
    rig.maker.autofill_default = D(1)
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert rig.taker_orders("hedge")[:2] == [("buy", D(5)), ("buy", D(5))]
    kinds = [(e.kind, e.data.get("delta") or e.data.get("qty")) for e in rig.recorder.events if e.leg == 1]
    fills_and_hedges = [k for k in kinds if k[0] in ("fill", "hedge")]
    assert fills_and_hedges == [
        ("fill", D(5)),
        ("hedge", D(5)),
        ("fill", D("2.5")),
        ("fill", D("2.5")),
        ("hedge", D(5)),
    ]
    assert _flat(rig)


async def test_a_hedge_is_trimmed_so_the_rest_of_the_leg_stays_hedgeable(rig: Rig) -> None:
    # 6 filled of 10: hedging 6 would leave a tail of 4, below the minimum of 5 -> hedge 5 now, 5 later.
    rig.maker.autofill = [D("0.6"), D(1)]
    rig.maker.autofill_default = D(1)
    await rig.run()
    assert rig.taker_orders("hedge")[:2] == [("buy", D(5)), ("buy", D(5))]
    assert _flat(rig)


async def test_a_fill_racing_the_cancel_is_hedged(rig: Rig) -> None:
    raced: list[str] = []

    def race(venue: FakeVenue, order_id: str) -> None:
        if not raced:
            raced.append(order_id)
            venue.fill(order_id, D("0.5"))
            venue.autofill_default = D(1)  # later orders fill at the first look

    rig.maker.on_cancel = race  # the first order sees no fill until its cancel
    result = await rig.run()
    assert result.exit_code == 0, result.error
    cancelled = rig.recorder.of("order", action="cancelled")
    assert cancelled[0].data["filled"] == D(5)
    assert rig.taker_orders("hedge")[0] == ("buy", D(5))
    placed = rig.recorder.of("order", action="placed")
    assert placed[1].data["qty"] == D(5)  # re-posted: only the remainder
    assert _flat(rig)


async def test_an_unfilled_order_is_requoted_at_the_new_price(rig: Rig) -> None:
    def move(venue: FakeVenue, _order_id: str) -> None:
        venue.set_price(D("1.3"))
        venue.autofill_default = D(1)

    rig.maker.on_cancel = move
    result = await rig.run()
    assert result.exit_code == 0, result.error
    placed = rig.recorder.of("order", action="placed")
    assert [p.data["price"] for p in placed[:2]] == [D("1.2024"), D("1.3026")]
    assert result.stats is not None
    assert result.stats.requotes >= 1
    assert _flat(rig)


async def test_a_post_only_order_that_would_take_is_repriced(rig: Rig) -> None:
    # The start-up check reads one quote, the funding reader one (the next settlement time: the funding gate is
    # off); the leg's quote is stale: the book moved up 9% before the order.
    rig.maker.stale_quotes = [D("1.2"), D("1.2"), D("1.1")]
    rig.maker.autofill_default = D(1)
    result = await rig.run()
    assert result.exit_code == 0, result.error
    expired = rig.recorder.of("order", action="expired")
    placed = rig.recorder.of("order", action="placed")
    assert expired[0].data["price"] == D("1.1022")
    assert placed[0].data["price"] == D("1.2024")  # re-priced from a fresh quote
    assert _flat(rig)


async def test_the_maker_price_never_crosses_the_quoted_book(rig: Rig) -> None:
    rig.maker.last = D("1.0")  # a stale last trade far below the book
    rig.maker.autofill_default = D(1)
    await rig.run()
    placed = rig.recorder.of("order", action="placed")
    assert placed[0].data["price"] == rig.maker.ask  # sell: at least the ask
    assert placed[1].data["price"] == D("0.998")  # buy: below the bid anyway


async def test_a_taker_reject_is_retried_and_the_leg_recovers(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.taker.fail("place_order", OrderRejected("aster", "Margin is insufficient", code="-2019"))
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert rig.recorder.of("hedge_rejected")
    assert rig.taker_orders("hedge") == [("buy", D(10)), ("buy", D(10)), ("sell", D(10))]  # first one refused
    assert _flat(rig)


async def test_a_taker_that_keeps_rejecting_stops_the_loop_flat_with_exit_1(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.taker.fail("place_order", OrderRejected("aster", "refused"), count=50)
    result = await rig.run(cycles=None)
    assert result.exit_code == 1
    assert result.error is not None
    assert "refused" in result.error
    assert result.final is not None
    assert result.final.flat
    assert _flat(rig)


async def test_an_ambiguous_hedge_is_reconciled_not_resent(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.taker.fail("place_order", AmbiguousOrderState("aster", "timeout"), takes_effect=True)
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert len([o for o in rig.taker.orders.values() if o.request.side.value == "buy"]) == 1
    assert _flat(rig)


async def test_a_hedge_that_was_never_placed_is_sent_again(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.taker.fail("place_order", AmbiguousOrderState("aster", "timeout"))  # not placed
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert rig.taker_orders("hedge") == [("buy", D(10)), ("buy", D(10)), ("sell", D(10))]
    assert _flat(rig)


async def test_a_404_on_the_order_query_does_not_lose_the_fill(rig: Rig) -> None:
    rig.before_loop = lambda: rig.maker.fail("fetch_order", OrderNotFound("backpack", "Order not found"), count=2)
    rig.maker.autofill_default = D(1)
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert _flat(rig)


async def test_an_order_that_vanished_is_resolved_through_its_fills(rig: Rig) -> None:
    # The order fills completely right after placement; every later lookup 404s (no order history).
    def fill_now(venue: FakeVenue, order_id: str) -> None:
        if venue.orders[order_id].request.type.value == "limit":
            venue.fill(order_id)

    rig.maker.on_place = fill_now
    rig.maker.forget_closed = True
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert rig.taker_orders("hedge") == [("buy", D(10)), ("sell", D(10))]
    assert _flat(rig)


@pytest.mark.parametrize("exc", [Unavailable("backpack", "connection reset"), RateLimited("backpack", "429")])
async def test_transient_errors_are_retried_without_stopping(rig: Rig, exc: Exception) -> None:
    def arm() -> None:
        rig.maker.fail("fetch_quote", exc, count=3)  # type: ignore[arg-type]
        rig.maker.fail("place_order", exc, count=2)  # type: ignore[arg-type]
        rig.maker.fail("cancel_order", exc, count=1)  # type: ignore[arg-type]
        rig.taker.fail("place_order", exc, count=2)  # type: ignore[arg-type]
        rig.taker.fail("fetch_positions", exc, count=2)  # type: ignore[arg-type]

    rig.before_loop = arm
    rig.maker.on_cancel = lambda venue, _id: setattr(venue, "autofill_default", D(1))
    result = await rig.run()
    assert result.exit_code == 0, result.error
    assert rig.recorder.of("warning")
    assert _flat(rig)


async def test_a_position_mismatch_after_a_leg_is_corrected_on_the_taker(rig: Rig) -> None:
    def drift(venue: FakeVenue, _order_id: str) -> None:
        if not rig.recorder.of("correction"):
            rig.taker.position += D(2)  # someone else's trade on the taker account

    rig.maker.on_place = drift
    rig.maker.autofill_default = D(1)
    result = await rig.run()
    assert result.exit_code == 0, result.error
    corrections = rig.recorder.of("correction")
    assert corrections[0].data["mismatch"] == D(2)
    assert ("sell", D(2)) in rig.taker_orders("correction")  # reduce-only: exempt from the notional minimum
    assert _flat(rig)


async def test_stop_while_the_maker_order_rests_cancels_it_and_exits_130_flat(rig: Rig) -> None:
    rig.stop_on("order", action="placed")
    result = await rig.run(cycles=None, requote_after_s=30)
    assert result.exit_code == 130
    assert result.interrupted
    assert not rig.maker.resting()
    assert rig.taker_orders() == []
    assert _flat(rig)


async def test_stop_after_a_partial_fill_hedges_it_then_flattens(rig: Rig) -> None:
    rig.maker.autofill = [D("0.5")]
    rig.stop_on("hedge")
    result = await rig.run(cycles=None, requote_after_s=30)
    assert result.exit_code == 130
    assert rig.taker_orders("hedge") == [("buy", D(5))]
    assert result.final is not None
    assert result.final.flat
    assert {o.intent for r in rig.journal.runs() for o in rig.journal.orders(r.id)} >= {"maker", "hedge", "flatten"}
    assert _flat(rig)


async def test_a_residual_the_taker_cannot_take_is_closed_on_the_maker(rig: Rig) -> None:
    rig.maker.autofill = [D("0.3")]  # 3 ASTER: below the taker's 5 ASTER minimum notional
    rig.stop_on("fill")
    result = await rig.run(cycles=None, requote_after_s=30, on_exit=OnExit.KEEP_HEDGED)
    assert result.exit_code == 130
    closes = rig.recorder.of("residual_close")
    assert closes
    assert closes[0].data["qty"] == D(3)
    assert closes[0].data["side"].value == "buy"
    assert rig.taker_orders() == []
    assert _flat(rig)


async def test_keep_hedged_leaves_both_legs_open_and_hedged(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    rig.stop_on("leg", action="end")
    result = await rig.run(cycles=None, on_exit=OnExit.KEEP_HEDGED)
    assert result.exit_code == 130
    assert rig.maker.position == D(-10)
    assert rig.taker.position == D(10)
    assert result.positions_after == (D(-10), D(10))
    assert "flatten" not in {o.intent for r in rig.journal.runs() for o in rig.journal.orders(r.id)}


async def test_a_maker_that_keeps_refusing_stops_the_loop_with_exit_1(rig: Rig) -> None:
    rig.maker.fail("place_order", OrderRejected("backpack", "Invalid price"), count=10)
    result = await rig.run()
    assert result.exit_code == 1
    assert len(rig.recorder.of("order", action="rejected")) == 5
    assert _flat(rig)


async def test_no_leg_starts_inside_the_funding_window(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(funding_gate, "POST_FUNDING_GRACE", timedelta(0))
    rig.taker.next_funding_at = datetime.now(UTC) + timedelta(seconds=0.3)
    rig.taker.funding_interval = timedelta(hours=8)
    rig.maker.autofill_default = D(1)
    result = await rig.run(stop_before_funding_min=5)
    assert result.exit_code == 0, result.error
    pause = rig.recorder.of("pause")[0]
    assert pause.data["venue"] == "aster"
    assert pause.data["funding_time_source"] == "venue"
    order_at = rig.recorder.of("order", action="placed")[0].at
    assert order_at >= pause.data["funding_at"]
    assert rig.recorder.countdowns[-1] is None
    assert _flat(rig)


async def test_a_stop_during_a_funding_pause_exits_130_without_trading(rig: Rig) -> None:
    rig.maker.next_funding_at = datetime.now(UTC) + timedelta(minutes=3)
    rig.stop_on("pause")
    result = await rig.run(stop_before_funding_min=5)
    assert result.exit_code == 130
    assert not rig.maker.orders
    assert not rig.taker.orders


async def test_qty_below_the_takers_minimum_is_refused_before_trading(rig: Rig) -> None:
    with pytest.raises(UsageError, match="aster"):
        await rig.run(qty=D(2))  # 2 x 1.2 = 2.4 < 5 min notional
    with pytest.raises(UsageError, match="step 1"):
        await rig.run(qty=D("10.5"))
    assert not rig.maker.orders


async def test_an_unhedged_pair_at_start_is_refused(rig: Rig) -> None:
    rig.taker.position = D(3)
    with pytest.raises(UnhedgedAtStart, match="not hedged"):
        await rig.run()
    assert not rig.maker.orders


async def test_exposure_that_cannot_be_closed_exits_3_naming_it(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)

    def halt_taker_then_stop(event: LoopEvent) -> None:
        if event.kind == "leg" and event.data.get("action") == "end":
            rig.taker.fail("place_order", OrderRejected("aster", "trading halted"), count=100)
            rig.interrupts.stop.set()

    rig.recorder.on_event = halt_taker_then_stop
    result = await rig.run(cycles=None)
    assert result.exit_code == 3
    assert result.exposure is not None
    assert "aster: ASTER +10" in result.exposure
    assert rig.maker.position == 0  # the maker side was still closed


async def test_the_stats_shown_with_each_event_already_include_it(rig: Rig) -> None:
    def fill_later(venue: FakeVenue, _order_id: str) -> None:
        venue.autofill_default = D(1)  # the first order is re-quoted, the next ones fill at the first look

    rig.maker.on_cancel = fill_later
    result = await rig.run(cycles=1)
    assert result.exit_code == 0, result.error
    first, second = rig.recorder.of("order", action="placed")[:2]
    assert rig.recorder.shown_with(first).maker_orders == 1
    shown = rig.recorder.shown_with(second)
    assert (shown.maker_orders, shown.requotes) == (2, 1)
    hedge = rig.recorder.of("hedge")[0]
    assert rig.recorder.shown_with(hedge).hedges == 1
    leg_one = rig.recorder.of("leg", action="end")[0]
    shown = rig.recorder.shown_with(leg_one)
    assert (shown.legs, shown.cycles, shown.maker_position) == (1, 0, D(-10))
    assert shown.avg_fill_s is not None
    assert rig.recorder.shown_with(rig.recorder.of("cycle")[0]).cycles == 1


async def test_every_wait_is_reported_with_its_reason_and_length_and_counted_down(rig: Rig) -> None:
    rig.maker.autofill_default = D(1)
    result = await rig.run(cycles=2, requote_after_s=5, between_legs_s=0.01, cycle_sleep_s=0.02)
    assert result.exit_code == 0, result.error
    waits = [(e.data["reason"], e.data["seconds"]) for e in rig.recorder.of("wait")]
    assert waits.count(("requote", 5.0)) == len(rig.recorder.of("order", action="placed")) == 4
    assert waits.count(("between_legs", 0.01)) == 2
    assert waits.count(("cycle_sleep", 0.02)) == 1  # none after the last cycle
    shown = [c for c in rig.recorder.countdowns if c is not None]
    requote = [c for c in shown if c.startswith("leg 1: backpack sell 10 @ ")]
    assert requote
    assert requote[0].endswith("resting, re-quoting in 0:05 unless filled")
    assert "between legs: leg 2 starts in 0:01" in shown
    assert "cycle 1 done: next cycle in 0:01" in shown
    assert rig.recorder.countdowns[-1] is None


async def test_a_countdown_ticks_each_second_of_the_injected_clock() -> None:
    from types import SimpleNamespace

    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.engine.maker_taker.context import LoopContext
    from hedgectl.engine.maker_taker.stats import LoopStats
    from tests.engine.conftest import FAST, Recorder
    from tests.waiting import loop_turns

    class SteppedClock:
        """Time moves only when the countdown sleeps."""

        def __init__(self) -> None:
            self.t = 1000.0

        def now(self) -> datetime:
            return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self.t)

        def monotonic(self) -> float:
            return self.t

        async def sleep(self, seconds: float) -> None:
            self.t += seconds
            await loop_turns()

    recorder = Recorder()
    unused: Any = SimpleNamespace()
    ctx = LoopContext(
        maker=unused, taker=unused, maker_market=unused, taker_market=unused, dispatcher=unused, config=FAST,
        reporter=recorder, interrupts=Interrupts(lambda _t: None), clock=SteppedClock(), feed=unused,
        stats=LoopStats(maker_venue="backpack", taker_venue="aster"),
    )  # fmt: skip

    async def until_zero() -> None:
        while "left 0:00" not in recorder.countdowns:
            await loop_turns()

    async with ctx.waiting("between_legs", 2.5, lambda left: f"left {left}"):
        await asyncio.wait_for(until_zero(), timeout=5)
    assert recorder.countdowns == ["left 0:03", "left 0:02", "left 0:01", "left 0:00", None]
    assert [(e.kind, e.data) for e in recorder.events] == [("wait", {"reason": "between_legs", "seconds": 2.5})]


def _payment(venue: str, pid: str, at: datetime, amount: str) -> FundingPayment:
    return FundingPayment(venue, "ASTER", pid, at, "USDC" if venue == "backpack" else "USDT", D(amount))


class _JumpingClock(SystemClock):
    """The wall clock, moved forward by `jump` on demand (the loop's waits stay real and short)."""

    jump = timedelta(0)

    def now(self) -> datetime:
        return super().now() + self.jump


async def test_funding_is_read_once_a_venues_settlement_time_passes_and_at_the_end(rig: Rig) -> None:
    clock = _JumpingClock()
    start = datetime.now(UTC)
    settles_at = start + timedelta(minutes=30)  # the taker's next settlement; the maker's is hours away
    rig.taker.next_funding_at = settles_at
    rig.maker.next_funding_at = start + timedelta(hours=3)
    rig.taker.funding = [_payment("aster", "t1", settles_at, "-0.25")]
    rig.maker.funding = [_payment("backpack", "m0", start - timedelta(hours=1), "9")]  # before the run: not its

    def after_leg_1(event: LoopEvent) -> None:
        if event.kind == "leg" and event.data.get("action") == "end" and event.leg == 1 and event.cycle == 1:
            clock.jump = timedelta(hours=1)  # the taker's settlement time passes while the pair is held

    rig.recorder.on_event = after_leg_1
    rig.maker.autofill_default = D(1)
    result = await rig.run(cycles=2, clock=clock)
    assert result.exit_code == 0, result.error
    assert result.stats is not None
    assert result.stats.funding_by_venue == {"backpack": D(0), "aster": D("-0.25")}
    assert result.stats.funding == D("-0.25")
    assert result.stats.funding_known is True
    [event] = rig.recorder.of("funding")  # read live, before leg 2 of cycle 1
    assert (event.cycle, event.data["venue"], event.data["net"], event.data["payments"]) == (1, "aster", D("-0.25"), 1)
    assert rig.taker.calls.count("funding_payments") == 2  # when its time passed, and at the end
    assert rig.maker.calls.count("funding_payments") == 1  # at the end only
    [run] = rig.journal.runs(1)
    assert [p.payment_id for p in rig.journal.run_funding(run.id)] == ["t1"]


async def test_unreadable_funding_is_unknown_not_zero(rig: Rig) -> None:
    rig.taker.fail("funding_payments", Unavailable("aster", "HTTP 503"), count=5)
    rig.maker.autofill_default = D(1)
    result = await rig.run(cycles=1)
    assert result.exit_code == 0, result.error
    assert result.stats is not None
    assert result.stats.funding_known is False
    assert result.stats.funding_by_venue["aster"] is None
    assert any("funding payments unreadable" in w.data["message"] for w in rig.recorder.of("warning"))
