"""The volatility check through the CLI: each venue's realised volatility from its own candles, shown in the plan
and --json, and --max-volatility-pct refusing above it and passing at it.

The expected figure is computed here from the simulator's raw kline replies (floats, not hedgectl's code).
The simulator's clock is frozen so that the candles the test reads are the ones the command reads."""

from __future__ import annotations

import itertools
import json
import math
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest

from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e
WINDOW = 30  # minutes


def _freeze(sim: Sim) -> None:
    sim.post("/_sim/clock", {"frozen": True})


def _vol_pct(closes: list[float]) -> float:
    return math.sqrt(sum(math.log(b / a) ** 2 for a, b in itertools.pairwise(closes))) * 100


def _okx_closes(sim: Sim) -> list[float]:
    reply = sim.http.get(
        "/okx/api/v5/market/candles", params={"instId": "BTC-USDT-SWAP", "bar": "1m", "limit": WINDOW + 1}
    ).json()
    return [float(row[4]) for row in reversed(reply["data"])]


def _backpack_closes(sim: Sim) -> list[float]:
    start = int(time.time()) - (WINDOW + 2) * 60
    reply = sim.http.get(
        "/backpack/api/v1/klines", params={"symbol": "BTC_USDC_PERP", "interval": "1m", "startTime": start}
    ).json()
    return [float(row["close"]) for row in reply][-(WINDOW + 1) :]


def _bootstrap(limit: Decimal | None) -> tuple[int, dict, str]:
    args = ["bootstrap", "--long", "okx", "--short", "backpack", "--symbol", "BTC", "--notional", "300"]
    args += ["--hold", "0", "--volatility-minutes", str(WINDOW), "--yes", "--json"]
    if limit is not None:
        args += ["--max-volatility-pct", str(limit)]
    proc = hedgectl(*args)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def _volatility(doc: dict) -> dict[str, dict]:
    return {c["venue"]: c for c in doc["checks"] if c["name"] == "volatility"}


def test_the_figure_is_each_venues_realised_volatility_and_refuses_above_the_limit(sim: Sim) -> None:
    _freeze(sim)
    expected = {"okx": _vol_pct(_okx_closes(sim)), "backpack": _vol_pct(_backpack_closes(sim))}
    assert all(v > 0 for v in expected.values())
    highest = max(expected.values())
    below = Decimal(repr(highest)).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)

    code, doc, err = _bootstrap(below)
    assert code == 1, err
    shown = _volatility(doc)
    for venue, figure in expected.items():
        assert float(shown[venue]["figure"]) == pytest.approx(figure, abs=1e-4)
        assert (shown[venue]["threshold"], shown[venue]["unit"], shown[venue]["set_by"]) == (
            str(below),
            "%",
            "--max-volatility-pct",
        )
        assert f"{WINDOW} one-minute returns" in shown[venue]["detail"]
    assert not all(c["passed"] for c in shown.values())
    assert "exceeds --max-volatility-pct" in doc["error"]
    assert sim.requests("create_order") == []  # refused before any order


def test_at_its_threshold_the_plan_passes_and_trades(sim: Sim) -> None:
    _freeze(sim)
    highest = max(_vol_pct(_okx_closes(sim)), _vol_pct(_backpack_closes(sim)))
    at = Decimal(repr(highest)).quantize(Decimal("0.0001"), rounding=ROUND_CEILING)
    code, doc, err = _bootstrap(at)
    assert code == 0, err
    assert all(c["passed"] for c in _volatility(doc).values())
    assert sim.all_flat()


def test_without_a_limit_the_figure_is_shown_and_never_refuses(sim: Sim) -> None:
    _freeze(sim)
    code, doc, err = _bootstrap(None)
    assert code == 0, err
    shown = _volatility(doc)
    assert set(shown) == {"okx", "backpack"}
    assert all(c["threshold"] is None and c["passed"] and c["figure"] is not None for c in shown.values())


def test_unreadable_candles_make_the_figure_unknown_with_a_warning(sim: Sim) -> None:
    _freeze(sim)
    sim.fault(venue="backpack", op="fetch_ohlcv", kind="http_500", count=20)
    code, doc, err = _bootstrap(Decimal(50))  # okx is read and far below it; backpack is unknown
    assert code == 0, err
    backpack = _volatility(doc)["backpack"]
    assert backpack["figure"] is None
    assert backpack["passed"] is True
    assert any("volatility unknown: backpack: candles unreadable" in w for w in doc["warnings"])
