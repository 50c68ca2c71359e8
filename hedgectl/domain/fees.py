"""Each traded venue's published default taker fee rate (base tier, USDT-/USDC-margined perpetuals).

Used where the account's own tier is not known (no keys, or an adapter that does not read it), and said so.
Published schedules as of 2026-12; the simulator charges the same rates (hedgectl/sim/instruments.py).
"""

from __future__ import annotations

from decimal import Decimal

PUBLISHED_TAKER_FEE_RATE: dict[str, Decimal] = {
    "binance": Decimal("0.0005"),  # USDⓈ-M futures, regular user (VIP 0): 0.0500 %
    "okx": Decimal("0.0005"),  # perpetual swaps, regular Lv1: 0.050 %
    "backpack": Decimal("0.0005"),  # perpetuals, base tier: 0.05 %
    "aster": Decimal("0.00035"),  # perpetuals, base tier: 0.035 %
}
