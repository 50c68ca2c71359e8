"""The recording format (hedgectl-market v1): every event survives a write and a read unchanged; junk is refused."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.sim.instruments import BASES, VENUES
from hedgectl.sim.market_source import recording
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade

positive = st.decimals(min_value=Decimal("1e-8"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=Decimal("-0.1"), max_value=Decimal("0.1"), allow_nan=False, allow_infinity=False)
times = st.integers(0, 2**53)
levels = st.lists(st.tuples(positive, positive), min_size=1, max_size=5).map(tuple)
venue, base = st.sampled_from(VENUES), st.sampled_from(BASES)

events = st.one_of(
    st.builds(Snapshot, venue, base, levels, levels, times),
    st.builds(Trade, venue, base, st.text(max_size=12), positive, positive, st.sampled_from(["buy", "sell"]), times),
    st.builds(FundingQuote, venue, base, rates, st.none() | positive, st.none() | positive, times),
)


@given(events)
def test_every_event_reads_back_as_written(event: Any) -> None:
    line = json.dumps(recording.event_to_json(event))
    assert recording.parse_event(json.loads(line)) == event


@given(
    st.dictionaries(
        st.sampled_from(["t", "kind", "venue", "symbol", "price", "qty", "bids", "rate"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
    )
)
def test_junk_events_are_refused_with_a_reason_never_a_crash(obj: dict[str, Any]) -> None:
    with contextlib.suppress(recording.BadEvent):  # refused with a reason: fine; anything else raised: a bug
        assert isinstance(recording.parse_event(obj), Snapshot | Trade | FundingQuote)


def test_the_header_is_required_first() -> None:
    with pytest.raises(recording.BadEvent, match="header"):
        recording.parse_header({"t": 1})
