"""The peer: the seed's flow written as a user would write it in plain ccxt async, against the simulator.

`open`: load both venues' markets, read both prices, size the order, send the market buy on Binance and the
market sell on OKX at once. `flatten`: load markets, read both venues' positions, close each with a reduce-only
market order, all at once. Used by bench/venue_kit.py as the yardstick for hedgectl's start-to-orders time.

Run: python -m bench.peer_ccxt --url http://127.0.0.1:PORT open|flatten [--notional 300]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import ccxt.async_support as ccxt

from hedgectl.sim import credentials

SYMBOL = "BTC/USDT:USDT"


def exchanges(url: str) -> tuple[Any, Any]:
    binance = ccxt.binanceusdm(
        {
            "apiKey": credentials.BINANCE_API_KEY,
            "secret": credentials.BINANCE_API_SECRET,
            "options": {"fetchCurrencies": False, "fetchMargins": False},
        }
    )
    for key, version in (
        ("fapiPublic", "v1"),
        ("fapiPublicV2", "v2"),
        ("fapiPublicV3", "v3"),
        ("fapiPrivate", "v1"),
        ("fapiPrivateV2", "v2"),
        ("fapiPrivateV3", "v3"),
    ):
        binance.urls["api"][key] = f"{url}/binance/fapi/{version}"
    okx = ccxt.okx(
        {
            "apiKey": credentials.OKX_API_KEY,
            "secret": credentials.OKX_API_SECRET,
            "password": credentials.OKX_PASSPHRASE,
            "options": {"fetchCurrencies": False},
        }
    )
    okx.urls["api"]["rest"] = f"{url}/okx"
    okx.has["fetchCurrencies"] = False
    return binance, okx


async def open_pair(url: str, notional: float) -> None:
    binance, okx = exchanges(url)
    try:
        await asyncio.gather(binance.load_markets(), okx.load_markets())
        ticker_b, ticker_o = await asyncio.gather(binance.fetch_ticker(SYMBOL), okx.fetch_ticker(SYMBOL))
        price = max(ticker_b["last"], ticker_o["last"])
        amount = float(binance.amount_to_precision(SYMBOL, notional / price))
        contracts = float(okx.amount_to_precision(SYMBOL, amount / okx.market(SYMBOL)["contractSize"]))
        await asyncio.gather(
            binance.create_order(SYMBOL, "market", "buy", amount),
            okx.create_order(SYMBOL, "market", "sell", contracts),
        )
    finally:
        await asyncio.gather(binance.close(), okx.close())


async def flatten(url: str) -> None:
    binance, okx = exchanges(url)
    try:
        await asyncio.gather(binance.load_markets(), okx.load_markets())
        held = await asyncio.gather(binance.fetch_positions(), okx.fetch_positions())
        closes = []
        for ex, positions in zip((binance, okx), held, strict=True):
            for p in positions:
                if p["contracts"]:
                    side = "sell" if p["side"] == "long" else "buy"
                    closes.append(
                        ex.create_order(p["symbol"], "market", side, p["contracts"], None, {"reduceOnly": True})
                    )
        await asyncio.gather(*closes)
    finally:
        await asyncio.gather(binance.close(), okx.close())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_ccxt")
    parser.add_argument("--url", required=True)
    parser.add_argument("--notional", type=float, default=300.0)
    parser.add_argument("what", choices=("open", "flatten"))
    args = parser.parse_args()
    url = args.url.rstrip("/")
    asyncio.run(open_pair(url, args.notional) if args.what == "open" else flatten(url))


if __name__ == "__main__":
    main()
