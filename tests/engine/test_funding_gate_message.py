"""The loop's funding gate says which venue pauses it, at its own time, with its rate per hour and APR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedgectl.cli import loop_view
from hedgectl.domain.types import Quote
from hedgectl.engine.maker_taker.events import LoopEvent
from hedgectl.engine.maker_taker.funding_gate import funding_pause, next_funding

NOW = datetime(2026, 12, 7, 7, 57, tzinfo=UTC)


def _quote(venue: str, rate: str, interval_h: int, next_at: datetime | None) -> Quote:
    return Quote(
        venue=venue,
        symbol="ASTER",
        bid=Decimal("1.1"),
        ask=Decimal("1.2"),
        funding_rate=Decimal(rate),
        funding_interval=timedelta(hours=interval_h),
        next_funding_at=next_at,
    )


def test_the_pause_names_the_venue_its_own_time_and_its_comparable_rate() -> None:
    backpack = _quote("backpack", "0.0000125", 1, NOW + timedelta(minutes=3))
    aster = _quote("aster", "0.0002", 4, NOW + timedelta(hours=3))
    times = [next_funding("backpack", backpack, NOW), next_funding("aster", aster, NOW)]
    pause = funding_pause(times, NOW, timedelta(minutes=5))
    assert pause is not None
    assert pause.venue == "backpack"
    assert pause.rate is not None
    assert pause.rate.per_hour == Decimal("0.0000125")
    assert pause.describe() == ("backpack funding at 08:00:00 UTC, rate 0.00125% every 1h = 0.00125%/h, 10.95% APR")


def test_a_venue_without_a_next_time_is_said_to_be_assumed() -> None:
    quote = _quote("aster", "0.0002", 4, None)
    pause = funding_pause([next_funding("aster", quote, NOW)], NOW, timedelta(minutes=5))
    assert pause is not None
    assert "assumed 00/08/16 UTC" in pause.describe()
    assert "0.00500%/h, 43.80% APR" in pause.describe()


def test_the_pause_event_line_carries_interval_per_hour_and_apr() -> None:
    data = {
        "reason": "funding",
        "venue": "aster",
        "funding_at": NOW,
        "resume_at": NOW,
        "seconds": 120.0,
        "funding_time_source": "venue",
        "funding_rate": Decimal("0.0002"),
        "funding_interval_s": timedelta(hours=4),
        "funding_rate_per_hour": Decimal("0.00005"),
        "funding_apr_pct": Decimal("43.80"),
    }
    line = loop_view.describe(LoopEvent(kind="pause", at=NOW, cycle=1, leg=1, data=data))
    assert line is not None
    assert "aster funding at 07:57:00 UTC (venue), rate 0.02% every 4h = 0.00500%/h, 43.80% APR" in line
