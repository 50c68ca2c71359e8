"""The live source's public-data client on each venue's wire (respx): sides, units, ordering, gaps, bad replies."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import respx

from hedgectl.sim.market_source import client as client_module
from hedgectl.sim.market_source.client import PublicClient
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade

D = Decimal
URL = "http://venues.test"


def make(pairs: list[tuple[str, str]]) -> PublicClient:
    return PublicClient(pairs, base_url=URL, timeout_s=2, clock_ms=lambda: 42)


def by_kind(events: list[object]) -> tuple[list[Snapshot], list[Trade], list[FundingQuote]]:
    return (
        [e for e in events if isinstance(e, Snapshot)],
        [e for e in events if isinstance(e, Trade)],
        [e for e in events if isinstance(e, FundingQuote)],
    )


async def test_backpack_books_are_sorted_best_first_and_buyer_maker_trades_are_sell_takers() -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        trades = mock.get(f"{URL}/backpack/api/v1/trades", params={"symbol": "SOL_USDC_PERP", "limit": "1000"})
        trades.side_effect = [
            httpx.Response(200, json=[]),
            httpx.Response(
                200,
                json=[
                    {
                        "id": 7,
                        "price": "150.10",
                        "quantity": "2",
                        "quoteQuantity": "300.2",
                        "timestamp": 1,
                        "isBuyerMaker": True,
                    },
                    {
                        "id": 8,
                        "price": "150.20",
                        "quantity": "1.5",
                        "quoteQuantity": "225.3",
                        "timestamp": 2,
                        "isBuyerMaker": False,
                    },
                ],
            ),
        ]
        # Backpack sends both sides ascending: the best bid is the last one.
        mock.get(f"{URL}/backpack/api/v1/depth").respond(
            200,
            json={
                "asks": [["150.3", "4"], ["150.4", "9"]],
                "bids": [["149.9", "8"], ["150.0", "3"]],
                "lastUpdateId": "991",
                "timestamp": 1_765_000_000_000_000,
            },
        )
        mock.get(f"{URL}/backpack/api/v1/markPrices").respond(
            200,
            json=[
                {
                    "fundingRate": "0.0000125",
                    "indexPrice": "150.01",
                    "markPrice": "150.02",
                    "nextFundingTimestamp": 1,
                    "symbol": "SOL_USDC_PERP",
                }
            ],
        )
        public = make([("backpack", "SOL")])
        assert await public.prime() == [("backpack", "SOL")]
        books, fills, funding = by_kind(await public.poll(funding=True))
        await public.aclose()
    assert books[0].bids == ((D("150.0"), D("3")), (D("149.9"), D("8")))
    assert books[0].asks == ((D("150.3"), D("4")), (D("150.4"), D("9")))
    assert [(t.trade_id, t.taker, t.price, t.qty) for t in fills] == [
        ("7", "sell", D("150.10"), D("2")),
        ("8", "buy", D("150.20"), D("1.5")),
    ]
    assert (funding[0].rate, funding[0].mark, funding[0].index) == (D("0.0000125"), D("150.02"), D("150.01"))


async def test_okx_contracts_become_base_units_and_seen_trades_are_not_repeated() -> None:
    row = {"instId": "ETH-USDT-SWAP", "tradeId": "55", "px": "3500.1", "sz": "3", "side": "sell", "ts": "10"}
    newer = {**row, "tradeId": "56", "sz": "2", "side": "buy", "ts": "11"}
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(f"{URL}/okx/api/v5/public/instruments").respond(
            200, json={"code": "0", "msg": "", "data": [{"instId": "ETH-USDT-SWAP", "ctVal": "0.1"}]}
        )
        mock.get(f"{URL}/okx/api/v5/market/trades").side_effect = [
            httpx.Response(200, json={"code": "0", "msg": "", "data": [row]}),
            httpx.Response(200, json={"code": "0", "msg": "", "data": [newer, row]}),  # newest first
        ]
        mock.get(f"{URL}/okx/api/v5/market/books").respond(
            200,
            json={
                "code": "0",
                "msg": "",
                "data": [{"asks": [["3500.2", "40", "0", "2"]], "bids": [["3500.0", "15", "0", "1"]], "ts": "12"}],
            },
        )
        public = make([("okx", "ETH")])
        await public.prime()
        books, fills, _ = by_kind(await public.poll(funding=False))
        await public.aclose()
    assert books[0].asks == ((D("3500.2"), D("4.0")),)
    assert books[0].bids == ((D("3500.0"), D("1.5")),)
    assert [(t.trade_id, t.taker, t.qty) for t in fills] == [("56", "buy", D("0.2"))]


async def test_a_whole_page_of_new_trades_counts_as_a_possible_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(client_module.TRADES_LIMIT, "aster", 2)

    def page(*ids: int) -> httpx.Response:
        return httpx.Response(
            200,
            json=[
                {"id": i, "price": "1.2", "qty": "10", "quoteQty": "12", "time": i, "isBuyerMaker": False} for i in ids
            ],
        )

    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(f"{URL}/aster/fapi/v1/trades").side_effect = [page(1, 2), page(2, 3), page(4, 5)]
        mock.get(f"{URL}/aster/fapi/v1/depth").respond(200, json={"bids": [["1.1", "5"]], "asks": [["1.3", "5"]]})
        public = make([("aster", "ASTER")])
        await public.prime()
        first = by_kind(await public.poll(funding=False))[1]
        assert public.gaps == 0  # 2 was seen: nothing can be missing between the pages
        second = by_kind(await public.poll(funding=False))[1]
        await public.aclose()
    assert [t.trade_id for t in first + second] == ["3", "4", "5"]
    assert public.gaps == 1  # 4 and 5 both new on a full page: 3's successors may have been missed


async def test_a_pair_that_answers_badly_is_left_out_and_a_bad_poll_is_skipped() -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(f"{URL}/binance/fapi/v1/trades", params={"symbol": "BTCUSDT"}).respond(200, json=[])
        mock.get(f"{URL}/binance/fapi/v1/trades", params={"symbol": "SOLUSDT"}).respond(
            400, json={"code": -1121, "msg": "Invalid symbol."}
        )
        mock.get(f"{URL}/binance/fapi/v1/depth").respond(200, json={"bids": [["1", "x"]], "asks": []})
        public = make([("binance", "BTC"), ("binance", "SOL")])
        assert await public.prime() == [("binance", "BTC")]
        assert public.pairs == [("binance", "BTC")]
        assert await public.poll(funding=False) == []  # an unreadable book: the round is skipped, no exception
        await public.aclose()


async def test_a_failed_funding_read_loses_neither_the_book_nor_the_trades() -> None:
    def page(*ids: int) -> httpx.Response:
        return httpx.Response(
            200,
            json=[
                {"id": i, "price": "1.2", "qty": "10", "quoteQty": "12", "time": i, "isBuyerMaker": True} for i in ids
            ],
        )

    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(f"{URL}/aster/fapi/v1/trades").side_effect = [page(1), page(1, 2)]
        mock.get(f"{URL}/aster/fapi/v1/depth").respond(200, json={"bids": [["1.1", "5"]], "asks": [["1.3", "5"]]})
        mock.get(f"{URL}/aster/fapi/v1/premiumIndex").respond(503)
        public = make([("aster", "ASTER")])
        await public.prime()
        books, fills, funding = by_kind(await public.poll(funding=True))
        await public.aclose()
    assert len(books) == 1
    assert [t.trade_id for t in fills] == ["2"]
    assert funding == []
