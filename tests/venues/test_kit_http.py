"""The httpx seam: build then send, host guard, rate limits, clock offset, exception map, Decimal JSON."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import httpx
import pytest
import respx

from hedgectl.domain.types import Mode
from hedgectl.errors import AmbiguousOrderState, BadResponse, ConfigError, Unavailable
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.http import HttpSeam, json_body
from hedgectl.venues.kit.transport import Kind

BASE = "https://venue.test"


def _seam(**kw: object) -> HttpSeam:
    config = VenueConfig(name="backpack", mode=Mode.LIVE, base_url=BASE, headers={"X-Demo": "1"})
    return HttpSeam(config, rate_per_s=100, burst=10, **kw)  # type: ignore[arg-type]


async def test_a_built_request_is_sent_as_built_with_the_config_headers() -> None:
    seam = _seam()
    request = seam.build(
        "POST", "/api/v1/order", query={"b": 2, "a": "x"}, body=json_body({"z": 1, "a": 2}), headers={"X-Sig": "s"}
    )
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.post(f"{BASE}/api/v1/order").respond(200, json={"ok": True})
        response = await seam.exchange(request, Kind.WRITE)
    sent = route.calls.last.request
    assert response.status_code == 200
    assert sent.url.params["b"] == "2"
    assert sent.content == b'{"a":2,"z":1}'
    assert sent.headers["X-Sig"] == "s"
    assert sent.headers["X-Demo"] == "1"
    assert sent.headers["User-Agent"] == "hedgectl"
    await seam.close()


async def test_a_pre_encoded_query_is_kept_byte_for_byte() -> None:
    seam = _seam()
    request = seam.build("GET", "/fapi/v1/order", query="symbol=BTCUSDT&timestamp=1&signature=ab%2F")
    assert str(request.url) == f"{BASE}/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=ab%2F"
    await seam.close()


async def test_any_status_comes_back_for_the_venue_to_read() -> None:
    seam = _seam()
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(f"{BASE}/api/v1/order").respond(404, json={"code": "RESOURCE_NOT_FOUND"})
        response = await seam.exchange(seam.build("GET", "/api/v1/order"), Kind.READ)
    assert response.status_code == 404
    await seam.close()


@pytest.mark.parametrize("url", ["https://evil.test/api", "http://venue.test/api"])
async def test_the_host_guard_refuses_any_other_origin_before_sending(url: str) -> None:
    seam = _seam()
    with respx.mock(assert_all_mocked=True) as mock, pytest.raises(ConfigError, match="refusing a request"):
        await seam.exchange(httpx.Request("GET", url), Kind.READ)
    assert not mock.calls
    await seam.close()


async def test_a_path_that_escapes_the_base_is_refused_when_built() -> None:
    seam = _seam()
    with pytest.raises(ConfigError, match=r"refusing a request to https://venue\.test@evil\.test"):
        seam.build("GET", "@evil.test/api")
    await seam.close()


@pytest.mark.parametrize(
    ("error", "kind", "expected"),
    [
        (httpx.ConnectError("refused"), Kind.WRITE, Unavailable),
        (httpx.ReadTimeout("slow"), Kind.WRITE, AmbiguousOrderState),
        (httpx.ReadTimeout("slow"), Kind.READ, Unavailable),
        (httpx.RemoteProtocolError("dropped"), Kind.WRITE, AmbiguousOrderState),
        (httpx.DecodingError("gzip"), Kind.READ, BadResponse),
    ],
    ids=lambda v: getattr(v, "name", type(v).__name__),
)
async def test_an_httpx_failure_is_mapped_once_at_the_seam(error: Exception, kind: Kind, expected: type) -> None:
    seam = _seam()
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.post(f"{BASE}/api/v1/order").mock(side_effect=error)
        with pytest.raises(expected) as caught:
            await seam.exchange(seam.build("POST", "/api/v1/order"), kind)
    assert caught.value.__cause__ is error
    await seam.close()


async def test_the_offset_is_measured_once_lazily_and_again_on_demand() -> None:
    calls: list[int] = []

    async def server_time_ms() -> int:
        calls.append(1)
        return 4_000_000_000_000  # far in the future: the offset is large and positive

    seam = _seam(server_time_ms=server_time_ms)
    assert calls == []
    first = await seam.now_ms()
    await seam.now_ms()
    assert len(calls) == 1
    assert first >= 4_000_000_000_000 - 60_000
    await seam.measure_offset()
    assert len(calls) == 2
    await seam.close()


async def test_without_a_server_time_source_signing_is_a_clear_config_error() -> None:
    seam = _seam()
    with pytest.raises(ConfigError, match="no server-time source"):
        await seam.now_ms()
    await seam.close()


async def test_json_floats_are_decimals_and_garbage_is_a_bad_response() -> None:
    seam = _seam()
    assert seam.decode_json(b'{"price": 0.1}') == {"price": Decimal("0.1")}
    with pytest.raises(BadResponse, match="backpack: reply is not JSON"):
        seam.decode_json(b"<html>502</html>")
    await seam.close()


async def test_an_order_takes_an_order_token_too() -> None:
    seam = _seam(order_rate_per_s=1, order_burst=1)
    assert seam.order_rate is not None
    await seam.acquire(order=True)
    assert seam.order_rate._tokens < 1  # the one order token is spent
    await seam.acquire()  # a read does not touch the order bucket
    await seam.close()


@pytest.mark.parametrize("module", ["hedgectl.venues.kit.http", "hedgectl.venues.backpack.venue"])
def test_the_seam_and_a_native_adapter_load_neither_aiohttp_nor_ccxt(module: str) -> None:
    code = (
        "import sys, importlib\n"
        f"importlib.import_module({module!r})\n"
        "print('HEAVY:' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'ccxt'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


async def test_a_clock_refusal_re_measures_the_offset_and_resends_once_signed_anew() -> None:
    measured: list[int] = []

    async def server_time_ms() -> int:
        measured.append(1)
        return 1_700_000_000_000

    seam = _seam(server_time_ms=server_time_ms)
    signatures: list[int] = []

    async def build() -> httpx.Request:
        signatures.append(await seam.now_ms())
        return seam.build("POST", "/fapi/v1/order", query=f"timestamp={signatures[-1]}")

    def refused(response: httpx.Response) -> bool:
        return response.status_code == 400 and response.json().get("code") == -1021

    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.post(f"{BASE}/fapi/v1/order").mock(
            side_effect=[httpx.Response(400, json={"code": -1021}), httpx.Response(200, json={"orderId": 1})]
        )
        response = await seam.exchange_signed(await build(), Kind.WRITE, rebuild=build, clock_refused=refused)
    assert response.json() == {"orderId": 1}
    assert route.call_count == 2
    assert len(measured) == 2  # the lazy first measure, then the forced one after the refusal
    assert len(signatures) == 2
    await seam.close()


async def test_a_second_clock_refusal_comes_back_for_the_venue_to_map() -> None:
    async def server_time_ms() -> int:
        return 1_700_000_000_000

    seam = _seam(server_time_ms=server_time_ms)

    async def build() -> httpx.Request:
        return seam.build("POST", "/fapi/v1/order", query=f"timestamp={await seam.now_ms()}")

    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.post(f"{BASE}/fapi/v1/order").respond(400, json={"code": -1021})
        response = await seam.exchange_signed(
            await build(), Kind.WRITE, rebuild=build, clock_refused=lambda r: r.status_code == 400
        )
    assert response.status_code == 400
    assert route.call_count == 2  # never a third send
    await seam.close()
