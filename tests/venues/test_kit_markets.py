"""The one market loader every native adapter uses (kit/markets.py): cache file, freshness, reload, errors.

The venue's own fetch is a fake that counts its calls; the adapters' tests cover each fetch against its wire.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgectl.domain.types import Market, Mode
from hedgectl.errors import BadResponse, SymbolNotListed, UsageError
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.markets import MarketRules, cache_path, load_cache, save_cache

BASE = "http://127.0.0.1:9/testvenue"


def _market(base: str, tick: str = "0.1", **extra: Decimal | None) -> Market:
    return Market(
        venue="testvenue",
        symbol=base,
        venue_symbol=f"{base}-PERP",
        base=base,
        quote="USDT",
        tick_size=Decimal(tick),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        **extra,  # type: ignore[arg-type]
    )


class FakeVenue:
    """A markets endpoint whose listing can change between calls."""

    def __init__(self, *bases: str, broken: dict[str, str] | None = None) -> None:
        self.listing = {b: _market(b) for b in bases}
        self.broken = dict(broken or {})
        self.calls = 0
        self.reply = asyncio.Event()  # a real fetch waits for the venue: set when the reply may arrive
        self.reply.set()

    async def fetch(self) -> tuple[dict[str, Market], dict[str, str]]:
        self.calls += 1
        await self.reply.wait()
        return dict(self.listing), dict(self.broken)


def _rules(venue: FakeVenue, cache_dir: Path | None, *, base_url: str = BASE, ttl_s: float = 3600.0) -> MarketRules:
    config = VenueConfig("testvenue", Mode.PAPER, base_url, cache_dir=cache_dir, market_cache_ttl_s=ttl_s)
    return MarketRules(config, venue.fetch, not_listed=lambda base: f"no perpetual for {base}")


async def test_rules_are_fetched_once_per_session_and_then_served_from_the_cache_file(tmp_path: Path) -> None:
    venue = FakeVenue("BTC", "ETH")
    first = _rules(venue, tmp_path)
    assert (await first.get("btc/usdt")).venue_symbol == "BTC-PERP"
    await first.load()
    assert venue.calls == 1
    assert cache_path(tmp_path, "testvenue", BASE).is_file()

    second = _rules(venue, tmp_path)
    assert await second.load() == venue.listing
    assert venue.calls == 1, "the second session read the cache file"
    assert second.canonical("ETH-PERP") == "ETH"
    assert second.canonical("DOGE-PERP") is None


async def test_concurrent_first_loads_fetch_once(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    venue.reply.clear()  # every caller is waiting while the first fetch is out
    rules = _rules(venue, tmp_path)

    async def reply() -> None:
        venue.reply.set()

    *markets, _ = await asyncio.gather(*(rules.get("BTC") for _ in range(5)), reply())
    assert {m.venue_symbol for m in markets} == {"BTC-PERP"}
    assert venue.calls == 1


async def test_a_stale_cache_file_is_fetched_anew(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    await _rules(venue, tmp_path).load()
    path = cache_path(tmp_path, "testvenue", BASE)
    an_hour_ago = path.stat().st_mtime - 3601
    os.utime(path, (an_hour_ago, an_hour_ago))
    await _rules(venue, tmp_path).load()
    assert venue.calls == 2


async def test_a_miss_in_cached_rules_reloads_once_and_finds_a_new_listing(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    await _rules(venue, tmp_path).load()
    venue.listing["SOL"] = _market("SOL")  # listed after the cache file was written
    rules = _rules(venue, tmp_path)
    assert (await rules.get("SOL")).symbol == "SOL"
    assert venue.calls == 2
    with pytest.raises(SymbolNotListed, match="no perpetual for DOGE"):
        await rules.get("DOGE")
    assert venue.calls == 2, "fetched rules are not fetched again on a miss"


async def test_a_symbol_missing_from_cache_and_venue_is_not_listed_in_the_venues_words(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    await _rules(venue, tmp_path).load()
    with pytest.raises(SymbolNotListed, match="no perpetual for DOGE") as caught:
        await _rules(venue, tmp_path).get("doge")
    assert caught.value.venue == "testvenue"
    assert venue.calls == 2  # the one reload


async def test_an_unreadable_row_refuses_its_symbol_only(tmp_path: Path) -> None:
    venue = FakeVenue("BTC", broken={"ETH": "tickSize is not a number"})
    rules = _rules(venue, None)
    with pytest.raises(BadResponse, match="ETH: market rules unreadable: tickSize is not a number"):
        await rules.get("ETH")
    assert (await rules.get("BTC")).symbol == "BTC"


async def test_bad_input_is_a_usage_error_before_any_fetch() -> None:
    venue = FakeVenue("BTC")
    with pytest.raises(UsageError):
        await _rules(venue, None).get("BTC!")
    assert venue.calls == 0


async def test_without_a_cache_dir_every_session_fetches(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    await _rules(venue, None).load()
    await _rules(venue, None).load()
    assert venue.calls == 2
    assert not list(tmp_path.iterdir())


async def test_an_explicit_reload_fetches_even_when_the_cache_is_fresh(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    rules = _rules(venue, tmp_path)
    await rules.load()
    venue.listing["ETH"] = _market("ETH")
    assert "ETH" in await rules.load(reload=True)
    assert rules.loaded is not None
    assert "ETH" in rules.loaded
    assert venue.calls == 2


async def test_the_cache_is_per_venue_and_base_url(tmp_path: Path) -> None:
    venue = FakeVenue("BTC")
    await _rules(venue, tmp_path).load()
    await _rules(venue, tmp_path, base_url="https://live.test").load()
    assert venue.calls == 2, "paper and live rules never share a file"
    assert load_cache(tmp_path, "othervenue", BASE, 3600.0) is None


@pytest.mark.parametrize("content", ["not json", "[{}]", '[{"symbol": "BTC", "tick_size": "x"}]', "{}"])
async def test_a_garbled_cache_file_is_ignored_and_rewritten(tmp_path: Path, content: str) -> None:
    path = cache_path(tmp_path, "testvenue", BASE)
    path.write_text(content)
    venue = FakeVenue("BTC")
    assert "BTC" in await _rules(venue, tmp_path).load()
    assert venue.calls == 1
    assert load_cache(tmp_path, "testvenue", BASE, 3600.0) == venue.listing


async def test_a_cache_dir_that_cannot_be_written_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    venue = FakeVenue("BTC")
    assert "BTC" in await _rules(venue, blocker / "cache").load()


_DECIMALS = st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False, places=12)


@settings(max_examples=50, deadline=None)
@given(tick=_DECIMALS, max_qty=st.none() | _DECIMALS, fee=st.none() | _DECIMALS)
def test_every_decimal_survives_the_cache_file_exactly(
    tmp_path_factory: pytest.TempPathFactory, tick: Decimal, max_qty: Decimal | None, fee: Decimal | None
) -> None:
    cache_dir = tmp_path_factory.mktemp("markets")
    market = _market("BTC", str(tick), max_qty=max_qty, taker_fee_rate=fee)
    save_cache(cache_dir, "testvenue", BASE, {"BTC": market})
    loaded = load_cache(cache_dir, "testvenue", BASE, 3600.0)
    assert loaded == {"BTC": market}
    assert str(loaded["BTC"].tick_size) == str(tick)
