"""Binance USDⓈ-M futures under /binance: /fapi/v1|v2|v3, HMAC-SHA256 with X-MBX-APIKEY."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim import credentials
from hedgectl.sim.dialects.base import Call
from hedgectl.sim.dialects.binance_auth import check_hmac
from hedgectl.sim.dialects.binance_family import BinanceFamily
from hedgectl.sim.dialects.binance_stream import UserDataStreams


class BinanceDialect(BinanceFamily):
    venue = "binance"
    prefix = "/binance"
    versions: ClassVar[dict[str, tuple[int, ...]]] = {
        "positionRisk": (2, 3),
        "account": (2, 3),
        "balance": (2, 3),
    }

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.streams = UserDataStreams(self, split_path=True)

    def authenticate(self, call: Call) -> None:
        check_hmac(call, credentials.BINANCE_API_KEY, credentials.BINANCE_API_SECRET)

    # ---- user data stream (binance_stream.py) ---------------------------------------------------

    def extra_routes(self) -> list[web.RouteDef]:
        return self.streams.routes()

    def listen_key_new(self, call: Call) -> web.StreamResponse:
        return self.streams.new_key(call)

    def listen_key_keepalive(self, call: Call) -> web.StreamResponse:
        return self.streams.keepalive(call)

    def listen_key_close(self, call: Call) -> web.StreamResponse:
        return self.streams.close_key(call)
