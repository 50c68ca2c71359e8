"""The server-time offset from the cache: the first signature of a command does not wait for the venue's clock.

The last measured offset is kept beside the market rules; the next seam signs with it at once and measures
again in the background (a stale one costs at most one clock refusal, which re-measures: test_kit_http.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from hedgectl.domain.types import Mode
from hedgectl.errors import Unavailable
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit import time_offset
from hedgectl.venues.kit.http import HttpSeam
from tests.waiting import eventually_async

BASE = "https://venue.test"
FAR = 4_000_000_000_000  # the venue's clock, far from ours: the offset is large and unmistakable
STEP_S = 5.0  # bound on any single wait in these tests


class VenueClock:
    """A server-time source that answers `FAR + shift` once `release` is set (set by default)."""

    def __init__(self, shift_ms: int = 0) -> None:
        self.shift_ms = shift_ms
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.wait_for(self.release.wait(), STEP_S)
        if self.fail:
            raise Unavailable("testvenue", "connection refused")
        return FAR + self.shift_ms


def _seam(cache_dir: Path | None, clock: VenueClock) -> HttpSeam:
    config = VenueConfig(name="testvenue", mode=Mode.LIVE, base_url=BASE, cache_dir=cache_dir)
    return HttpSeam(config, rate_per_s=100, burst=10, server_time_ms=clock)


def _close_to(now_ms: int, expected_ms: int) -> bool:
    return abs(now_ms - expected_ms) < 60_000  # the offsets differ by hours; a minute is slack for a slow machine


async def test_a_measured_offset_is_cached_and_the_next_seam_signs_with_it_before_measuring(tmp_path: Path) -> None:
    first = _seam(tmp_path, VenueClock())
    assert _close_to(await first.now_ms(), FAR)
    await first.close()

    later = VenueClock(shift_ms=3_600_000)  # the venue's clock has moved by an hour since (an NTP step, say)
    later.release.clear()  # and its time endpoint does not answer yet
    second = _seam(tmp_path, later)
    signed_at = await asyncio.wait_for(second.now_ms(), STEP_S)  # returns without the venue's answer
    assert _close_to(signed_at, FAR)  # the cached offset
    assert later.calls == 1  # the background measurement is on its way
    later.release.set()
    await eventually_async(
        lambda: _close_to(second.offset.now_ms(), FAR + 3_600_000),
        STEP_S,
        what="the background measurement replacing the cached offset",
    )
    await second.close()
    assert time_offset.load_cached_offset(tmp_path, "testvenue", BASE) == second.offset.offset_ms


async def test_without_a_cache_dir_the_first_signature_waits_for_the_measurement() -> None:
    clock = VenueClock()
    seam = _seam(None, clock)
    assert _close_to(await seam.now_ms(), FAR)
    assert clock.calls == 1
    await seam.now_ms()
    assert clock.calls == 1
    await seam.close()


async def test_a_stale_or_unreadable_cache_is_measured_first(tmp_path: Path) -> None:
    time_offset.save_cached_offset(tmp_path, "testvenue", BASE, 123)
    [path] = tmp_path.glob("clock-*.json")
    old = time.time() - time_offset.OFFSET_CACHE_TTL_S - 60
    os.utime(path, (old, old))
    assert time_offset.load_cached_offset(tmp_path, "testvenue", BASE) is None
    clock = VenueClock()
    seam = _seam(tmp_path, clock)
    assert _close_to(await seam.now_ms(), FAR)  # measured, not the stale 123 ms
    await seam.close()
    for garbage in ("not json", '{"offset_ms": "12"}', '{"offset_ms": true}', "[]"):
        path.write_text(garbage)
        assert time_offset.load_cached_offset(tmp_path, "testvenue", BASE) is None


async def test_a_failed_background_measurement_keeps_the_cached_offset(tmp_path: Path) -> None:
    time_offset.save_cached_offset(tmp_path, "testvenue", BASE, 7_000)
    clock = VenueClock()
    clock.fail = True
    seam = _seam(tmp_path, clock)
    await seam.now_ms()
    await eventually_async(lambda: clock.calls > 0 and (seam._background is None or seam._background.done()), STEP_S)
    assert seam.offset.offset_ms == 7_000
    await seam.close()


async def test_closing_the_seam_stops_a_measurement_still_waiting(tmp_path: Path) -> None:
    time_offset.save_cached_offset(tmp_path, "testvenue", BASE, 7_000)
    clock = VenueClock()
    clock.release.clear()
    seam = _seam(tmp_path, clock)
    await seam.now_ms()
    background = seam._background
    assert background is not None
    await asyncio.wait_for(seam.close(), STEP_S)
    assert background.cancelled()


@pytest.mark.parametrize("venue", ["binance", "okx"])
def test_the_cache_file_is_per_venue_and_base_url(tmp_path: Path, venue: str) -> None:
    time_offset.save_cached_offset(tmp_path, venue, "http://127.0.0.1:1/" + venue, 5)
    assert time_offset.load_cached_offset(tmp_path, venue, "http://127.0.0.1:2/" + venue) is None
    assert time_offset.load_cached_offset(tmp_path, "aster", "http://127.0.0.1:1/" + venue) is None
    assert time_offset.load_cached_offset(tmp_path, venue, "http://127.0.0.1:1/" + venue) == 5
