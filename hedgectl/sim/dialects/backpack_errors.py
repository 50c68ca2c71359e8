"""Backpack's ApiErrorCode replies for what the simulator refuses: (HTTP status, code, message)."""

from __future__ import annotations

from hedgectl.sim.model import Reason, SimError

BackpackError = tuple[int, str, str]

NOT_FOUND: BackpackError = (404, "RESOURCE_NOT_FOUND", "Not found")
ORDER_NOT_FOUND: BackpackError = (404, "RESOURCE_NOT_FOUND", "Order not found")
RATE_LIMITED: BackpackError = (429, "TOO_MANY_REQUESTS", "Too many requests")
SERVER_ERROR: BackpackError = (500, "SERVER_ERROR", "Internal server error")
INSUFFICIENT_MARGIN: BackpackError = (400, "INSUFFICIENT_MARGIN", "Insufficient margin")
FORBIDDEN: BackpackError = (403, "FORBIDDEN", "Forbidden")
INVALID_SYMBOL: BackpackError = (400, "INVALID_SYMBOL", "Invalid symbol")
INVALID_MARKET: BackpackError = (400, "INVALID_MARKET", "Invalid market")
PAYLOAD_TOO_LARGE: BackpackError = (413, "INVALID_CLIENT_REQUEST", "Payload too large")
MALFORMED: BackpackError = (
    400,
    "INVALID_CLIENT_REQUEST",
    "Bad Request parse request payload error: failed to parse request body as JSON",
)


def client_request(message: str) -> BackpackError:
    """400 INVALID_CLIENT_REQUEST: a request Backpack cannot parse or that breaks its rules."""
    return 400, "INVALID_CLIENT_REQUEST", message


def invalid_order(message: str) -> BackpackError:
    return 400, "INVALID_ORDER", message


def for_sim_error(err: SimError, *, placing: bool) -> BackpackError:
    """Backpack's reply to an engine refusal; `placing` picks INVALID_MARKET over INVALID_SYMBOL."""
    reason = err.reason
    if reason is Reason.UNKNOWN_SYMBOL:
        return INVALID_MARKET if placing else INVALID_SYMBOL
    if reason in (Reason.ORDER_NOT_FOUND, Reason.ORDER_NOT_OPEN):
        return ORDER_NOT_FOUND
    if reason is Reason.QTY_BELOW_MIN:
        return 400, "INVALID_QUANTITY", "Quantity is below the minimum allowed value"
    if reason is Reason.QTY_ABOVE_MAX:
        return 400, "INVALID_QUANTITY", "Quantity is above the maximum allowed value"
    if reason is Reason.QTY_STEP:
        return 400, "INVALID_QUANTITY", "Quantity decimal too long"
    if reason is Reason.QTY_NOT_POSITIVE:
        return 400, "INVALID_QUANTITY", "Quantity must be positive"
    if reason is Reason.PRICE_TICK:
        return 400, "INVALID_PRICE", "Price decimal too long"
    if reason is Reason.PRICE_NOT_POSITIVE:
        return 400, "INVALID_PRICE", "Price must be positive"
    if reason is Reason.INSUFFICIENT_MARGIN:
        return INSUFFICIENT_MARGIN
    if reason is Reason.REDUCE_ONLY_REJECTED:
        return invalid_order("Reduce only order not reduced")
    if reason is Reason.DUPLICATE_CLIENT_ID:
        return invalid_order("Duplicate client id")
    if reason is Reason.FOK_UNFILLABLE:
        return invalid_order("Fill or kill order would not be filled in full")
    if reason is Reason.MIN_NOTIONAL:
        return invalid_order("Order value is below the minimum allowed value")
    return invalid_order("Invalid order")
