"""Binance's HMAC-SHA256 request authentication (also Aster's legacy V1 keys)."""

from __future__ import annotations

import hashlib
import hmac
import time

from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects.base import Call, Problem, Reply

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000
AHEAD_TOLERANCE_MS = 1_000


def strip_signature(part: str) -> str:
    """Remove the `signature=` parameter from a raw query or form string, keeping the other bytes."""
    if "signature=" not in part:
        return part
    return "&".join(p for p in part.split("&") if not p.startswith("signature="))


def check_hmac(call: Call, api_key: str, api_secret: str) -> None:
    """Binance's API-key, timestamp/recvWindow and HMAC-SHA256 rules."""
    auth = call.route.auth
    if auth == "none":
        return
    key = call.request.headers.get("X-MBX-APIKEY")
    if not key:
        raise Reply(errors.error(-2014, "API-key format invalid.", status=401))
    if not hmac.compare_digest(key.encode(), api_key.encode()):
        raise Reply(errors.error(-2015, "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1", 401))
    if auth != "signed":
        return
    ts_raw = call.get("timestamp")
    if ts_raw is None or not ts_raw.isdigit():
        raise Reply(errors.problem(Problem.MISSING_PARAMETER, "timestamp", "", ""))
    recv_raw = call.get("recvWindow") or str(DEFAULT_RECV_WINDOW_MS)
    if not recv_raw.isdigit():
        raise Reply(errors.problem(Problem.MISSING_PARAMETER, "recvWindow", "", ""))
    if int(recv_raw) > MAX_RECV_WINDOW_MS:
        raise Reply(errors.error(-1131, "recvWindow must be less than 60000"))
    now = int(time.time() * 1000)
    stamp = int(ts_raw)
    if stamp >= now + AHEAD_TOLERANCE_MS:
        raise Reply(errors.error(-1021, "Timestamp for this request was 1000ms ahead of the server's time."))
    if now - stamp > int(recv_raw):
        raise Reply(errors.error(-1021, "Timestamp for this request is outside of the recvWindow."))
    signature = call.get("signature")
    if signature is None:
        raise Reply(errors.problem(Problem.MISSING_PARAMETER, "signature", "", ""))
    payload = strip_signature(call.query_string) + strip_signature(call.raw_body.decode("utf-8", "replace"))
    expected = hmac.new(api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise Reply(errors.error(-1022, "Signature for this request is not valid."))
