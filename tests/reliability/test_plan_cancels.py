"""A failed pre-trade read cancels its siblings: nothing keeps running after the command closed its venues.

Found by the testnet secret-hygiene run: with one venue refusing the keys, the other venue's book and quote
reads were still in flight when the session closed its connections (unclosed sockets, requests after close).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hedgectl.engine.hedge_plan import HedgeConfig, plan_hedge
from hedgectl.errors import AuthError


class _Venue:
    def __init__(self, name: str, *, refuse: bool) -> None:
        self.name = name
        self.refuse = refuse
        self.cancelled: list[str] = []

    async def _hang(self, what: str) -> Any:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(what)
            raise

    async def market(self, symbol: str) -> Any:
        return await self._hang("market")

    async def fetch_quote(self, symbol: str) -> Any:
        return await self._hang("quote")

    async def fetch_book(self, symbol: str, depth: int) -> Any:
        return await self._hang("book")

    async def fetch_candles(self, symbol: str, interval: Any, limit: int) -> Any:
        return await self._hang("candles")

    async def fetch_balances(self) -> Any:
        if self.refuse:
            raise AuthError(self.name, "invalid API key")
        return await self._hang("balances")


async def test_a_refused_read_cancels_every_other_read_before_the_error_is_raised() -> None:
    long, short = _Venue("binance", refuse=True), _Venue("okx", refuse=False)
    with pytest.raises(AuthError):
        await plan_hedge(long, short, HedgeConfig())  # type: ignore[arg-type]
    assert sorted(short.cancelled) == ["balances", "book", "candles", "market", "quote"]
    assert sorted(long.cancelled) == ["book", "candles", "market", "quote"]
