"""Binance USDⓈ-M's private order stream: the family's listen-key user data stream (binance_family/stream.py).

WebSocket hosts (reference §2.1): live `wss://fstream.binance.com`, demo trading `wss://fstream.binancefuture.com`,
user data at `/private/ws?listenKey=K` (the form ccxt 4.5.90 builds). The demo host was checked in 2026-12:
ccxt's `binanceusdm` (urls.demo.ws.linear) and Binance's demo-trading announcement (UM futures: REST
demo-fapi.binance.com, streams fstream.binancefuture.com) agree; `demo-fstream.binance.com` appears only in
third-party clients, so it is not used. Paper mode: the simulator beside the REST base.
"""

from __future__ import annotations

from hedgectl.domain.types import Mode

BINANCE_WS: dict[Mode, str] = {Mode.LIVE: "wss://fstream.binance.com", Mode.TESTNET: "wss://fstream.binancefuture.com"}


def stream_url(ws_base: str, listen_key: str) -> str:
    """`<ws>/private/ws?listenKey=K`"""
    return f"{ws_base}/private/ws?listenKey={listen_key}"
