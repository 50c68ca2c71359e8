"""The Binance family's account replies -> domain: positions, balances, position mode, margin and leverage,
the account's taker fee, funding payments (Binance USDⓈ-M and Aster read the same way).

Strict as every family parser (reader.py): a missing or garbled figure is BadResponse, never a default.
`positionAmt` is signed (short < 0); funding `income` is signed from the account's side, as the venue sends it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedgectl.domain.types import AccountConfig, Balance, FundingPayment, Position, PositionMode, PositionSide
from hedgectl.errors import BadResponse
from hedgectl.venues.binance_family.reader import FUNDING_FEE, FamilyReader, SymbolOf, Wire
from hedgectl.venues.kit.fees import check_fee_rate
from hedgectl.venues.order_rules import checked_position

_MARGIN = {"cross": "cross", "crossed": "cross", "isolated": "isolated"}


class AccountParser(FamilyReader):
    """The family's account parsers, bound to one venue."""

    __slots__ = ()

    def positions(self, wire: Any, symbol_of: SymbolOf) -> list[Position]:
        """`GET positionRisk` -> non-zero positions (`positionAmt` is signed: short < 0, hedge-mode SHORT rows too)."""
        positions = []
        what = "positionRisk[]"
        for entry in self.r.rows(wire, "positionRisk"):
            qty = self.r.dec(entry, "positionAmt", what)
            if qty == 0:
                continue
            side = str(entry.get("positionSide") or "BOTH").lower()
            position = Position(
                venue=self.venue,
                symbol=symbol_of(self.name(entry, "symbol", what)),
                qty=qty,
                position_side=PositionSide(side) if side in ("long", "short") else None,
                entry_price=self.r.opt_dec(entry, "entryPrice", what) or None,
                mark_price=self.r.opt_dec(entry, "markPrice", what),
                unrealized_pnl=self.r.opt_dec(entry, "unRealizedProfit", what),
                liquidation_price=self.r.opt_dec(entry, "liquidationPrice", what) or None,
                leverage=self.r.opt_dec(entry, "leverage", what),  # Binance v2, Aster v2/v3
                margin_mode=self._margin_mode(entry, what),
            )
            positions.append(checked_position(position))
        return positions

    def _margin_mode(self, entry: Wire, what: str) -> str | None:
        """positionRisk `marginType`: "cross" or "isolated" (some replies say "CROSSED"/"ISOLATED")."""
        if entry.get("marginType") is None:
            return None
        return self.r.enum({"m": self.r.text(entry, "marginType", what).lower()}, "m", _MARGIN, f"{what}.marginType")

    def balances(self, wire: Any) -> list[Balance]:
        """`GET balance` (v2, Aster) -> balances with anything in them (total = wallet balance, free = available)."""
        balances = []
        what = "balance[]"
        for entry in self.r.rows(wire, "balance"):
            total = self.r.dec(entry, "balance", what)
            free = self.r.dec(entry, "availableBalance", what)
            if total or free:
                asset = self.name(entry, "asset", what)
                balances.append(Balance(asset, total, free, max(total - free, Decimal(0))))
        return balances

    def account_balances(self, wire: Any) -> list[Balance]:
        """`GET account` (v3, Binance) `assets[]` -> balances (total = margin balance, used = initial margin)."""
        account = self.r.obj(wire, "account")
        balances = []
        what = "account.assets[]"
        for row in self.r.rows(self.r.field(account, "assets", "account"), "account.assets"):
            total = self.r.opt_dec(row, "marginBalance", what)
            total = self.r.dec(row, "walletBalance", what) if total is None else total
            free = self.r.dec(row, "availableBalance", what)
            if total or free:
                used = self.r.opt_dec(row, "initialMargin", what)
                balances.append(
                    Balance(self.name(row, "asset", what), total, free, total - free if used is None else used)
                )
        return balances

    def position_mode(self, wire: Any) -> PositionMode:
        """`GET positionSide/dual` -> hedge mode when `dualSidePosition` is true (or "true")."""
        reply = self.r.obj(wire, "positionSide/dual")
        if reply.get("dualSidePosition") is None:
            raise BadResponse(self.venue, "positionSide/dual: dualSidePosition is None")
        return (
            PositionMode.HEDGE if self.r.flag(reply, "dualSidePosition", "positionSide/dual") else PositionMode.ONE_WAY
        )

    def account_config(self, mode: PositionMode, wire: Any, venue_symbol: str) -> AccountConfig:
        """`GET positionRisk?symbol=` rows -> the symbol's margin type and leverage (None when not reported)."""
        margin: str | None = None
        levers: list[Decimal] = []
        for entry in self.r.rows(wire, "positionRisk"):
            if entry.get("symbol") != venue_symbol:
                continue
            kind = str(entry.get("marginType") or "").lower()
            margin = "isolated" if kind == "isolated" or margin == "isolated" else ("cross" if kind else margin)
            lever = self.r.opt_dec(entry, "leverage", "positionRisk[]")
            if lever:
                levers.append(lever)
        return AccountConfig(self.venue, mode, margin, max(levers) if levers else None)

    def taker_fee_rate(self, wire: Any, venue_symbol: str) -> Decimal:
        """`GET commissionRate?symbol=` -> the account's taker rate, a fraction (`"0.000500"` is 0.05 %)."""
        what = "commissionRate"
        reply = self.r.obj(wire, what)
        if reply.get("symbol") not in (None, venue_symbol):
            raise BadResponse(self.venue, f"{what}: asked for {venue_symbol}, got {reply.get('symbol')!r}")
        return check_fee_rate(self.venue, self.r.dec(reply, "takerCommissionRate", what), what)

    def funding_payments(self, wire: Any, symbol_of: SymbolOf) -> list[FundingPayment]:
        """`GET income?incomeType=FUNDING_FEE` -> payments (`income` + received, - paid; `tranId` the id)."""
        what = "income[]"
        payments = []
        for row in self.r.rows(wire, "income"):
            if row.get("incomeType") != FUNDING_FEE:
                continue
            payments.append(
                FundingPayment(
                    venue=self.venue,
                    symbol=symbol_of(self.name(row, "symbol", what)),
                    payment_id=self.numeric_id(row, "tranId", what),
                    at=self.r.ms(row, "time", what),
                    asset=self.name(row, "asset", what),
                    amount=self.r.dec(row, "income", what),
                )
            )
        return payments
