"""Checks before entry: each shows its figure and threshold; funding refuses above --max-funding-cost-bps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hedgectl.engine.bootstrap.plan import HedgeConfig, HedgePlan, PlanCheck, PlanRefused, plan_hedge
from tests.engine.fakes import FakeVenue
from tests.waiting import loop_turns

NOW = datetime(2026, 12, 7, 7, 59, tzinfo=UTC)
D = Decimal


class FrozenClock:
    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await loop_turns()


def _venues(
    long_rate: str | None, short_rate: str | None, *, long_in: timedelta, short_in: timedelta
) -> tuple[FakeVenue, FakeVenue]:
    long = FakeVenue("aster", price=D(1), funding_rate=None if long_rate is None else D(long_rate))
    long.next_funding_at, long.funding_interval = NOW + long_in, timedelta(hours=8)
    short = FakeVenue("backpack", price=D(1), funding_rate=None if short_rate is None else D(short_rate))
    short.next_funding_at, short.funding_interval = NOW + short_in, timedelta(hours=1)
    return long, short


async def _plan(long: FakeVenue, short: FakeVenue, hold_s: float, limit: str | None = None) -> HedgePlan:
    config = HedgeConfig(
        symbol="ASTER",
        notional_usdt=D(100),
        max_slippage_bps=D(500),
        max_position_duration_seconds=hold_s,
        max_funding_cost_bps=None if limit is None else D(limit),
    )
    plan, _ = await plan_hedge(long, short, config, clock=FrozenClock())  # type: ignore[arg-type]
    return plan


def _funding(checks: tuple[PlanCheck, ...]) -> PlanCheck:
    return next(c for c in checks if c.name == "funding")


async def test_a_hold_across_a_settlement_where_the_long_pays_is_shown_and_warned_by_default() -> None:
    # Aster settles at 08:00 (in 60 s) at 0.1 %: the long pays 0.1 % of the notional; Backpack settles at 09:00.
    long, short = _venues("0.001", "0.0005", long_in=timedelta(seconds=60), short_in=timedelta(hours=1))
    plan = await _plan(long, short, hold_s=120)
    paid = D("0.001") * plan.notional  # the plan's notional: the quantity on the lot step, at its price
    funding = _funding(plan.checks)
    assert funding.figure == D(10)  # 0.1 % paid: 10 bps of notional
    assert funding.threshold is None
    assert funding.passed
    assert f"aster settles 1x from 08:00:00 UTC at 0.1% every 8h: the buy leg pays {paid:.4f}" in funding.detail
    assert "backpack: no settlement within the hold" in funding.detail
    assert plan.warnings == [
        f"the hold crosses funding at which the pair pays {paid:.4f} on net (10.00 bps of notional): warn only; "
        "--max-funding-cost-bps refuses above a limit"
    ]


async def test_funding_above_the_limit_refuses_and_at_the_limit_passes() -> None:
    long, short = _venues("0.001", "0.0005", long_in=timedelta(seconds=60), short_in=timedelta(hours=1))
    with pytest.raises(PlanRefused, match=r"cost 10\.00 bps of notional, above --max-funding-cost-bps 9\.99") as info:
        await _plan(long, short, hold_s=120, limit="9.99")
    refused = _funding(info.value.checks)
    assert (refused.figure, refused.threshold, refused.passed) == (D(10), D("9.99"), False)
    assert all(c.passed for c in info.value.checks if c.name != "funding")  # every other check shown too
    plan = await _plan(long, short, hold_s=120, limit="10")
    assert _funding(plan.checks).passed
    assert plan.warnings == []  # a limit was set and met: nothing to warn about


async def test_both_legs_settling_net_out() -> None:
    # Both settle within 2 h: aster once (long pays 0.1 %), backpack twice (short receives 0.04 % each).
    long, short = _venues("0.001", "0.0004", long_in=timedelta(seconds=60), short_in=timedelta(minutes=30))
    plan = await _plan(long, short, hold_s=2 * 3600, limit="2.5")
    funding = _funding(plan.checks)
    assert funding.figure == D("2.0")  # 0.1 paid - 2 x 0.04 received = 0.02 on 100: 2 bps
    assert funding.passed


async def test_a_hold_that_receives_or_crosses_nothing_is_not_warned() -> None:
    long, short = _venues("-0.001", "0.0005", long_in=timedelta(seconds=60), short_in=timedelta(hours=1))
    receives = await _plan(long, short, hold_s=120, limit="0")
    assert _funding(receives.checks).figure == D(-10)
    assert receives.warnings == []
    nothing = await _plan(long, short, hold_s=30, limit="0")
    assert _funding(nothing.checks).figure == 0
    assert nothing.warnings == []


async def test_a_venue_without_a_rate_is_unknown_and_said_so() -> None:
    long, short = _venues(None, "0.0005", long_in=timedelta(seconds=60), short_in=timedelta(hours=1))
    plan = await _plan(long, short, hold_s=120, limit="1")
    funding = _funding(plan.checks)
    assert funding.figure is None
    assert funding.passed
    assert plan.warnings == ["funding over the hold unknown: aster did not report its funding rate and interval"]


async def test_every_check_has_its_figure_and_threshold() -> None:
    long, short = _venues("0", "0", long_in=timedelta(hours=1), short_in=timedelta(hours=1))
    plan = await _plan(long, short, hold_s=10)
    names = [(c.name, c.venue) for c in plan.checks]
    assert names == [
        ("cross_spread", None),
        ("slippage", "aster"),
        ("margin", "aster"),
        ("slippage", "backpack"),
        ("margin", "backpack"),
        ("funding", None),
        ("volatility", "aster"),
        ("volatility", "backpack"),
    ]
    assert all(c.figure is not None for c in plan.checks)
    assert all(c.threshold is not None for c in plan.checks if c.name not in ("funding", "volatility"))
    assert "limit 500.00 bps (--max-slippage-bps): ok" in plan.checks[0].describe()
