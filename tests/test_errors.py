"""Errors attributed to a venue name it once, whichever layer adds the attribution."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.errors import OrderRejected, Unavailable, venue_said

venues = st.sampled_from(["binance", "okx", "backpack", "aster"])
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(venues, texts)
def test_a_venue_error_of_that_venue_keeps_its_own_single_prefix(venue: str, text: str) -> None:
    said = venue_said(venue, OrderRejected(venue, text, code="51008"))
    assert said == f"{venue}: {text} (code 51008)"


@given(venues, texts)
def test_said_twice_is_said_once(venue: str, text: str) -> None:
    once = venue_said(venue, text)
    assert once.startswith(f"{venue}: ")
    assert venue_said(venue, once) == once


def test_another_venues_error_is_attributed_to_both() -> None:
    assert venue_said("binance", Unavailable("okx", "down")) == "binance: okx: down"


def test_the_detail_leaves_the_venue_out() -> None:
    assert OrderRejected("okx", "Insufficient margin", code="51008").detail == "Insufficient margin (code 51008)"
