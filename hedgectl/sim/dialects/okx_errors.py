"""OKX's error codes and messages for what the simulator refuses (messages as OKX words them)."""

from __future__ import annotations

from hedgectl.sim.model import OrderStatus, Reason, SimError

# Per-order (`sCode`) verdicts of place/cancel requests, and the envelope codes around them.
OPERATION_FAILED = ("1", "Operation failed.")
ALL_FAILED = ("1", "All operations failed.")
PARTIALLY_SUCCEEDED = ("2", "Bulk operation partially succeeded.")

# Request-level failures.
JSON_FORMAT = ("50002", "Json data format error")
BODY_EMPTY = ("50000", "Body can not be empty.")
RATE_LIMITED = ("50011", "Too Many Requests")
SYSTEM_ERROR = ("50026", "System error. Try again later.")
SYSTEM_BUSY = ("50013", "Systems are busy. Please try again later.")
UNKNOWN_INSTRUMENT = ("51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.")
ORDER_NOT_EXIST = ("51603", "Order does not exist")
INSUFFICIENT_MARGIN = ("51008", "Order failed. Insufficient USDT margin in account")
CANCEL_NOT_EXIST = ("51400", "Order cancellation failed as the order has been filled, canceled or does not exist.")
TOO_MANY_IN_BATCH = ("51111", "Maximum 20 orders can be placed in bulk.")
ID_REQUIRED = ("51003", "Either client order ID or order ID is required.")


def param_error(name: str) -> tuple[str, str]:
    """51000: a parameter OKX could not accept."""
    return "51000", f"Parameter {name} error"


def param_empty(name: str) -> tuple[str, str]:
    """50014: a required parameter is missing."""
    return "50014", f"Parameter {name} can not be empty."


def place_error(exc: SimError) -> tuple[str, str]:
    """The `sCode`/`sMsg` OKX gives when it refuses to place an order for this reason."""
    reason = exc.reason
    if reason is Reason.UNKNOWN_SYMBOL:
        return UNKNOWN_INSTRUMENT
    if reason is Reason.QTY_BELOW_MIN or reason is Reason.MIN_NOTIONAL:
        return "51020", "Your order should meet or exceed the minimum order amount."
    if reason is Reason.QTY_STEP:
        return "51121", "Order quantity must be a multiple of the lot size."
    if reason is Reason.QTY_ABOVE_MAX:
        return "51202", "Market order amount exceeds the maximum amount."
    if reason is Reason.QTY_NOT_POSITIVE:
        return param_error("sz")
    if reason is Reason.PRICE_NOT_POSITIVE or reason is Reason.PRICE_TICK:
        return param_error("px")
    if reason is Reason.INSUFFICIENT_MARGIN:
        return INSUFFICIENT_MARGIN
    if reason is Reason.REDUCE_ONLY_REJECTED:
        return "51205", "Reduce Only is not available."
    if reason is Reason.POSITION_SIDE_MISMATCH:
        return "51000", "Parameter posSide error"
    if reason is Reason.DUPLICATE_CLIENT_ID:
        return "51016", "Duplicated clOrdId"
    if reason is Reason.FOK_UNFILLABLE:
        # OKX itself accepts then cancels such an order; the engine refuses it, so a generic failure.
        return "1", "Order failed. FOK order could not be filled in full."
    return OPERATION_FAILED


def cancel_error(exc: SimError) -> tuple[str, str]:
    """The `sCode`/`sMsg` of a refused cancel: gone, already cancelled or already filled."""
    if exc.reason is Reason.UNKNOWN_SYMBOL:
        return UNKNOWN_INSTRUMENT
    if exc.reason is Reason.ORDER_NOT_OPEN:
        status = exc.values.get("status")
        if status == OrderStatus.FILLED.value:
            return "51402", "Order cancellation failed as the order has been completed."
        return "51401", "Order cancellation failed as the order has been canceled."
    return CANCEL_NOT_EXIST
