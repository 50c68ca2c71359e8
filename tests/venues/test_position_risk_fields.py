"""Liquidation price, leverage and margin mode, parsed from the rows each venue really sends
(shapes from /work/shared/real_fixtures/*/position*: recorded rows and the venues' documented examples)."""

from __future__ import annotations

from decimal import Decimal as D

from hedgectl.domain.types import Position
from hedgectl.venues.aster import parse as aster_parse
from hedgectl.venues.backpack import parse as backpack_parse
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.okx import parse as okx_parse
from tests.venues.okx_samples import BTC as OKX_BTC

BINANCE = FamilyParser("binance")


def _binance_position(row: dict[str, object]) -> Position:
    (position,) = BINANCE.positions([row], lambda s: s.removesuffix("USDT"))
    return position


BINANCE_V3_DOCS_ROW = {  # GET /fapi/v3/positionRisk, docs example: no leverage, no margin type in v3
    "symbol": "BTCUSDT",
    "positionSide": "BOTH",
    "positionAmt": "0.001",
    "entryPrice": "22185.2",
    "breakEvenPrice": "0.0",
    "markPrice": "21123.05052574",
    "unRealizedProfit": "-1.06214947",
    "liquidationPrice": "19731.45529116",
    "isolatedMargin": "0.00000000",
    "notional": "21.12305052",
    "isolatedWallet": "0",
    "updateTime": 1655217461579,
}
BINANCE_V2_DOCS_ROW = {  # GET /fapi/v2/positionRisk (what Aster V1 serves too): leverage and marginType
    "entryPrice": "6679.5",
    "breakEvenPrice": "0.0",
    "marginType": "isolated",
    "isAutoAddMargin": "false",
    "isolatedMargin": "0.00000000",
    "leverage": "10",
    "liquidationPrice": "0",
    "markPrice": "6679.50671178",
    "maxNotionalValue": "20000000",
    "positionAmt": "-0.010",
    "notional": "0",
    "isolatedWallet": "0",
    "symbol": "BTCUSDT",
    "unRealizedProfit": "0.00000000",
    "positionSide": "BOTH",
    "updateTime": 0,
}
OKX_ROW = {  # GET /api/v5/account/positions, ccxt's recorded BTC-USDT-SWAP long (long/short mode)
    "adl": "3",
    "availPos": "1",
    "avgPx": "34131.1",
    "ccy": "USDT",
    "imr": "170.66093041794787",
    "instId": "BTC-USDT-SWAP",
    "instType": "SWAP",
    "lever": "2",
    "liqPx": "12608.959083877446",
    "markPx": "4786.459271773621",
    "mgnMode": "cross",
    "pos": "1",
    "posSide": "long",
    "upl": "0.0108608358957281",
}
BACKPACK_ROW = {  # GET /api/v1/position, ccxt's recorded ETH_USDC_PERP long (a Backpack position has no leverage)
    "breakEvenPrice": "3831.3630555555555555555555556", "cumulativeFundingPayment": "-0.009218",
    "cumulativeInterest": "0", "entryPrice": "3826.8888888888888888888888889", "estLiquidationPrice": "0",
    "imf": "0.02", "markPrice": "3787.46813304", "mmf": "0.0125", "netCost": "13.7768",
    "netExposureNotional": "13.634885278944", "netExposureQuantity": "0.0036", "netQuantity": "0.0036",
    "pnlRealized": "0", "pnlUnrealized": "-0.141914", "positionId": "4238420454", "subaccountId": None,
    "symbol": "ETH_USDC_PERP", "userId": 1813870,
}  # fmt: skip


def test_binance_v3_row_has_a_liquidation_price_but_no_leverage_or_margin_mode() -> None:
    position = _binance_position(BINANCE_V3_DOCS_ROW)
    assert position.liquidation_price == D("19731.45529116")
    assert position.leverage is None
    assert position.margin_mode is None


def test_binance_v2_row_has_leverage_and_margin_mode_and_a_zero_liquidation_price_means_none() -> None:
    position = _binance_position(BINANCE_V2_DOCS_ROW)
    assert (position.leverage, position.margin_mode, position.liquidation_price) == (D(10), "isolated", None)


def test_okx_row_has_liquidation_price_leverage_and_margin_mode() -> None:
    position = okx_parse.parse_position(OKX_ROW, OKX_BTC)
    assert position.liquidation_price == D("12608.959083877446")
    assert (position.leverage, position.margin_mode) == (D(2), "cross")


def test_okx_empty_liquidation_price_is_none() -> None:
    assert okx_parse.parse_position(dict(OKX_ROW, liqPx=""), OKX_BTC).liquidation_price is None


def test_aster_row_has_liquidation_price_leverage_and_margin_mode() -> None:
    row = dict(BINANCE_V2_DOCS_ROW, liquidationPrice="7300.5", marginType="cross")
    [position] = aster_parse.parse_positions([row], lambda s: s.removesuffix("USDT"))
    assert (position.liquidation_price, position.leverage, position.margin_mode) == (D("7300.5"), D(10), "cross")


def test_backpack_row_has_an_estimated_liquidation_price_zero_meaning_none() -> None:
    assert backpack_parse.parse_position(BACKPACK_ROW, "ETH").liquidation_price is None
    row = dict(BACKPACK_ROW, estLiquidationPrice="1912.37")
    position = backpack_parse.parse_position(row, "ETH")
    assert position.liquidation_price == D("1912.37")
    assert position.leverage is None
