"""Binance USDⓈ-M futures under /binance: /fapi/v1|v2|v3, HMAC-SHA256 with X-MBX-APIKEY."""

from __future__ import annotations

from typing import ClassVar

from hedgectl.sim import credentials
from hedgectl.sim.dialects.base import Call
from hedgectl.sim.dialects.binance_auth import check_hmac
from hedgectl.sim.dialects.binance_family import BinanceFamily


class BinanceDialect(BinanceFamily):
    venue = "binance"
    prefix = "/binance"
    stream_split_path: ClassVar[bool] = True
    # Recorded replies: bookTicker `time`, positionRisk `updateTime`, premiumIndex times as strings or numbers.
    varying_numbers: ClassVar[dict[str, frozenset[str]]] = {
        "book_ticker": frozenset({"time"}),
        "position_risk": frozenset({"updateTime"}),
        "premium_index": frozenset({"nextFundingTime", "time"}),
    }
    versions: ClassVar[dict[str, tuple[int, ...]]] = {
        "positionRisk": (2, 3),
        "account": (2, 3),
        "balance": (2, 3),
    }

    def authenticate(self, call: Call) -> None:
        check_hmac(call, credentials.BINANCE_API_KEY, credentials.BINANCE_API_SECRET)

