"""Aster futures under /aster: a Binance clone with two auth generations.

- /fapi/v1, /fapi/v2: legacy V1 — Binance HMAC-SHA256 with X-MBX-APIKEY, timestamp + recvWindow.
- /fapi/v3, /fapi/v4: V3 API-wallet auth — EIP-712 typed data (domain AsterSignTransaction v1,
  chainId of the venue it stands in for: 1666 mainnet (default, paper mode) or 714 testnet via
  `Simulator(aster_chain_id=714)`; Message{msg: string}) over the url-encoded params before `signature`; `nonce` in µs
  within 10 s of server time, never reused; `user` + `signer` params; the recovered address must be
  the known signer. (/fapi/v4 also takes a V1 HMAC request, told apart by its X-MBX-APIKEY header.)
- /api/v1, /api/v3: the spot (sapi) stubs ccxt touches while loading markets.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim import credentials
from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects.base import Call, Problem, Reply, Route, json_response
from hedgectl.sim.dialects.binance_account import version_of
from hedgectl.sim.dialects.binance_auth import check_hmac, strip_signature
from hedgectl.sim.dialects.binance_family import BinanceFamily

MAINNET_CHAIN_ID = 1666
TESTNET_CHAIN_ID = 714  # fapi.asterdex-testnet.com, per Aster's V3 testnet docs
DOMAIN: dict[str, Any] = {
    "name": "AsterSignTransaction",
    "version": "1",
    "chainId": MAINNET_CHAIN_ID,
    "verifyingContract": "0x0000000000000000000000000000000000000000",
}
MESSAGE_TYPES: dict[str, Any] = {"Message": [{"name": "msg", "type": "string"}]}
NONCE_WINDOW_US = 10_000_000
NONCE_MEMORY = 100


def recover_signer(msg: str, signature: str, chain_id: int = MAINNET_CHAIN_ID) -> str | None:
    """The address that signed `msg` as Aster's EIP-712 Message on `chain_id`, or None if unusable."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    domain = {**DOMAIN, "chainId": chain_id}
    try:
        signable = encode_typed_data(domain_data=domain, message_types=MESSAGE_TYPES, message_data={"msg": msg})
        return str(Account.recover_message(signable, signature=signature))
    except Exception:  # noqa: BLE001 - eth_account raises many types for malformed input; all mean "not valid"
        return None


class AsterDialect(BinanceFamily):
    venue = "aster"
    prefix = "/aster"
    default_versions: ClassVar[tuple[int, ...]] = (1, 3)
    versions: ClassVar[dict[str, tuple[int, ...]]] = {
        "positionRisk": (2, 3),
        "balance": (2, 3),
        "account": (3, 4),
    }
    time_in_force: ClassVar[list[str]] = ["GTC", "IOC", "FOK", "GTX", "HIDDEN"]
    cancel_all_code: ClassVar[int | str] = "200"
    auto_asset_exchange: ClassVar[int | str] = "-10000"
    # Recorded 2026 replies: ids and times as strings in the order POST, the balance, exchangeInfo (other
    # order replies were recorded with numbers only, so they keep numbers).
    varying_numbers: ClassVar[dict[str, frozenset[str]]] = {
        "create_order": frozenset({"orderId", "time", "updateTime"}),
        "balance": frozenset({"updateTime"}),
        "exchange_info": frozenset({"serverTime"}),
    }
    position_risk_v3_from: ClassVar[int] = 99  # never: Aster's v3 positionRisk has v2's shape

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self._nonces: dict[str, deque[int]] = {}

    def routes(self) -> list[Route]:
        spot = [
            Route("GET", f"/api/v{v}/{name}", op, handler)
            for v in (1, 3)
            for name, op, handler in (
                ("exchangeInfo", "load_markets", self.spot_exchange_info),
                ("ping", "ping", self.ping),
                ("time", "fetch_time", self.server_time),
            )
        ]
        return super().routes() + spot

    def spot_exchange_info(self, call: Call) -> web.StreamResponse:
        assets = sorted({i.base for i in self.engine.instruments[self.venue].values()} | {"USDT"})
        return json_response(
            {
                "timezone": "UTC",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [],
                "exchangeFilters": [],
                "assets": [{"asset": a} for a in assets],
                "symbols": [],
            }
        )

    def parse_tif(self, raw: str) -> Any:
        return super().parse_tif("GTC" if raw == "HIDDEN" else raw)

    def conditional_order_error(self) -> web.Response:
        return errors.error(-1116, "Invalid orderType.")

    def funding_info(self, call: Call) -> web.StreamResponse:
        now = int(time.time() * 1000)
        return json_response(
            [
                {
                    "symbol": inst.symbol,
                    "interestRate": "0.00010000",
                    "time": now,
                    "fundingIntervalHours": inst.funding_interval_ms // 3_600_000,
                    "fundingFeeCap": 0.02,
                    "fundingFeeFloor": -0.02,
                }
                for inst in self.engine.instruments[self.venue].values()
            ]
        )

    # ---- authentication ------------------------------------------------------------------------

    def authenticate(self, call: Call) -> None:
        if call.route.auth == "none":
            return
        version = version_of(call.request.path)
        if version in (1, 2) or (version == 4 and "X-MBX-APIKEY" in call.request.headers):
            check_hmac(call, credentials.ASTER_API_KEY, credentials.ASTER_API_SECRET)
        else:
            self._check_eip712(call)

    def _check_eip712(self, call: Call) -> None:
        for name in ("nonce", "user", "signer", "signature"):
            if call.get(name) is None:
                raise Reply(errors.problem(Problem.MISSING_PARAMETER, name, "", ""))
        nonce_raw = call.require("nonce")
        if not nonce_raw.isdigit():
            raise Reply(errors.problem(Problem.BAD_PARAMETER, "nonce", "", ""))
        user = (call.get("user") or "").lower()
        signer = (call.get("signer") or "").lower()
        if signer != credentials.ASTER_SIGNER.lower() or user not in (
            credentials.ASTER_USER.lower(),
            credentials.ASTER_SIGNER.lower(),
        ):
            raise Reply(errors.error(-2015, "Invalid API-key, IP, or permissions for action.", status=401))
        nonce = int(nonce_raw)
        now_us = time.time_ns() // 1_000
        if abs(now_us - nonce) > NONCE_WINDOW_US:
            raise Reply(errors.error(-1021, "Timestamp for this request is outside of the recvWindow."))
        raw = call.query_string if call.request.method == "GET" else call.raw_body.decode("utf-8", "replace")
        if not raw:
            raw = call.query_string
        msg = strip_signature(raw)
        recovered = recover_signer(msg, call.get("signature") or "", self.sim.aster_chain_id)
        if recovered is None or recovered.lower() != signer:
            raise Reply(errors.error(-1022, "Signature for this request is not valid."))
        seen = self._nonces.setdefault(user, deque(maxlen=NONCE_MEMORY))
        if nonce in seen or (len(seen) == NONCE_MEMORY and nonce < min(seen)):
            raise Reply(errors.error(-4225, "Nonce Expired"))
        seen.append(nonce)
