"""The host guard on the native Binance and OKX adapters: a request outside the mode's base URL is refused
before anything is sent (ported from the ccxt adapter's tests when it was deleted; the seam itself is tested
in test_kit_http.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.host_guard import within_base_path
from hedgectl.venues.kit.http import HttpSeam
from hedgectl.venues.kit.transport import Kind
from hedgectl.venues.okx import OkxVenue

SIM = "http://127.0.0.1:9"
CREDS = {"api_key": "key-123", "api_secret": "secret-456", "passphrase": "pass-789"}
PRODUCTION = {"binance": "https://fapi.binance.com/fapi/v1/time", "okx": "https://www.okx.com/api/v5/public/time"}
OTHER_VENUE_ON_THE_SIM = {"binance": f"{SIM}/okx/api/v5/public/time", "okx": f"{SIM}/binance/fapi/v1/time"}


def _venue(name: str, mode: Mode, base: str) -> BinanceVenue | OkxVenue:
    creds = {k: SecretStr(v) for k, v in CREDS.items() if name == "okx" or k != "passphrase"}
    config = VenueConfig(name, mode, base, credentials=creds, timeout_s=1.0)
    return BinanceVenue(config) if name == "binance" else OkxVenue(config)


def _seam(venue: BinanceVenue | OkxVenue) -> HttpSeam:
    seam: HttpSeam = venue._client._seam
    return seam


@pytest.fixture(params=["binance", "okx"])
async def paper(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, HttpSeam]]:
    name: str = request.param
    venue = _venue(name, Mode.PAPER, f"{SIM}/{name}")
    try:
        yield name, _seam(venue)
    finally:
        await venue.close()


async def test_paper_mode_refuses_a_production_url_before_it_is_sent(paper: tuple[str, HttpSeam]) -> None:
    name, seam = paper
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(ConfigError, match="refusing a request"):
        await seam.exchange(httpx.Request("GET", PRODUCTION[name]), Kind.READ)
    assert not mock.calls


async def test_paper_mode_refuses_another_venue_path_on_the_same_simulator(paper: tuple[str, HttpSeam]) -> None:
    name, seam = paper
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(ConfigError, match="refusing a request"):
        await seam.exchange(httpx.Request("GET", OTHER_VENUE_ON_THE_SIM[name]), Kind.READ)
    assert not mock.calls
    with pytest.raises(ConfigError):
        seam.build("GET", "/../okx/api/v5/public/time" if name == "binance" else "/../binance/fapi/v1/time")


@pytest.mark.parametrize("name", ["binance", "okx"])
async def test_live_mode_refuses_the_simulator(name: str) -> None:
    venue = _venue(name, Mode.LIVE, PRODUCTION[name].split("/api")[0].split("/fapi")[0])
    try:
        with respx.mock(assert_all_mocked=True) as mock, pytest.raises(ConfigError, match="refusing a request"):
            await _seam(venue).exchange(httpx.Request("POST", f"{SIM}/{name}/order"), Kind.WRITE)
        assert not mock.calls
    finally:
        await venue.close()


@pytest.mark.parametrize(
    "path",
    [
        "{name}evil/fapi/v1/time",  # the base's name as a prefix of another segment
        "{name}/../elsewhere/time",  # a dot segment climbing out of the base
        "{name}/%2e%2e/elsewhere/time",  # the same, percent-encoded
        "",  # the simulator's root, above every venue
    ],
)
async def test_paper_mode_allows_only_paths_under_the_base_segment_by_segment(
    paper: tuple[str, HttpSeam], path: str
) -> None:
    name, seam = paper
    request = httpx.Request("GET", httpx.URL(f"{SIM}/" + path.format(name=name)))
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(ConfigError, match="refusing a request"):
        await seam.exchange(request, Kind.READ)
    assert not mock.calls


@pytest.mark.parametrize(
    ("path", "base_path", "allowed"),
    [
        ("/binance/fapi/v1/time", "/binance", True),
        ("/binance", "/binance/", True),
        ("/binance//fapi", "/binance", True),
        ("/anything", "", True),
        ("/binanceevil/fapi", "/binance", False),
        ("/api/v1evil", "/api/v1", False),
        ("/bin", "/binance", False),
        ("/binance/./fapi", "/binance", False),
        ("/binance/%2E%2E/okx", "/binance", False),
    ],
)
def test_the_base_path_is_matched_by_whole_segments(path: str, base_path: str, allowed: bool) -> None:
    assert within_base_path(path, base_path) is allowed
