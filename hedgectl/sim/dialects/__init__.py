"""Venue wire dialects of the simulator; see DIALECTS.md for how to add one."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hedgectl.sim.core import Simulator
    from hedgectl.sim.dialects.base import Dialect

log = logging.getLogger("hedgectl.sim")

# venue -> "module:class"; imported lazily so one broken or missing dialect never stops the others.
DIALECTS: dict[str, str] = {
    "binance": "hedgectl.sim.dialects.binance:BinanceDialect",
    "okx": "hedgectl.sim.dialects.okx:OkxDialect",
    "backpack": "hedgectl.sim.dialects.backpack:BackpackDialect",
    "aster": "hedgectl.sim.dialects.aster:AsterDialect",
}


def load_dialects(sim: Simulator) -> list[Dialect]:
    """Instantiate every registered dialect whose module exists."""
    dialects: list[Dialect] = []
    for venue, target in DIALECTS.items():
        module_name, _, class_name = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            log.warning("simulator: no %s dialect yet (%s missing)", venue, module_name)
            continue
        dialects.append(getattr(module, class_name)(sim))
    return dialects
