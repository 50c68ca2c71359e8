"""Binance USDⓈ-M error replies ({"code": -XXXX, "msg": ...}); Aster's codes are a copy."""

from __future__ import annotations

from aiohttp import web

from hedgectl.sim.dialects.base import Problem, json_response
from hedgectl.sim.model import ZERO, Reason, SimError


def error(code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"code": code, "msg": msg}, status=status, headers=headers)


_SIM_ERRORS: dict[Reason, tuple[int, str]] = {
    Reason.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    Reason.BAD_PARAMETER: (-1100, "Illegal characters found in a parameter."),
    Reason.QTY_NOT_POSITIVE: (-4003, "Quantity less than or equal to zero."),
    Reason.QTY_BELOW_MIN: (-4004, "Quantity less than min quantity."),
    Reason.QTY_ABOVE_MAX: (-4005, "Quantity greater than max quantity."),
    Reason.QTY_STEP: (-4023, "Quantity not increased by step size."),
    Reason.PRICE_NOT_POSITIVE: (-4001, "Price less than 0."),
    Reason.PRICE_TICK: (-4014, "Price not increased by tick size."),
    Reason.PRICE_ABOVE_MAX: (-4016, "Price higher than max price."),
    Reason.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    Reason.REDUCE_ONLY_REJECTED: (-2022, "ReduceOnly Order is rejected."),
    Reason.POST_ONLY_WOULD_TAKE: (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history",
    ),
    Reason.FOK_UNFILLABLE: (
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected. "
        "The order will not be recorded in the order history",
    ),
    Reason.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
    Reason.ORDER_NOT_FOUND: (-2013, "Order does not exist."),
    Reason.ORDER_NOT_OPEN: (-2011, "Unknown order sent."),
    Reason.POSITION_SIDE_MISMATCH: (-4061, "Order's position side does not match user's setting."),
}


def sim_error(err: SimError, op: str) -> web.Response:
    """The Binance reply to an engine refusal during `op`."""
    if err.reason is Reason.MIN_NOTIONAL:
        floor = err.values.get("min_notional", ZERO)
        return error(
            -4164, f"Order's notional must be no smaller than {floor.normalize():f} (unless you choose reduce only)."
        )
    if op == "cancel_order" and err.reason in (Reason.ORDER_NOT_FOUND, Reason.ORDER_NOT_OPEN):
        return error(-2011, "Unknown order sent.")
    code, msg = _SIM_ERRORS.get(err.reason, (-1000, "An unknown error occured while processing the request."))
    return error(code, msg)


def problem(kind: Problem, detail: str, method: str, path: str) -> web.Response:
    if kind is Problem.MISSING_PARAMETER:
        return error(-1102, f"Mandatory parameter '{detail}' was not sent, was empty/null, or malformed.")
    if kind is Problem.BAD_PARAMETER:
        return error(-1100, f"Illegal characters found in parameter '{detail}'; legal range is '^[.A-Z:/a-z0-9_-]+$'.")
    if kind is Problem.MALFORMED_BODY:
        return error(-1100, "Illegal characters found in a parameter.")
    if kind is Problem.BODY_TOO_LARGE:
        return error(-1000, "Request body too large.", status=413)
    if kind is Problem.UNKNOWN_ROUTE:
        return error(-5000, f"Path {path}, Method {method} is invalid", status=404)
    return error(-1000, "An unknown error occured while processing the request.", status=500)


def rate_limited() -> web.Response:
    return error(
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
        status=429,
        headers={"Retry-After": "1"},
    )


def internal_error() -> web.Response:
    return error(-1001, "Internal error; unable to process your request. Please try again.", status=500)


def rejected(op: str) -> web.Response:
    if op == "create_order":
        return error(-2010, "NEW_ORDER_REJECTED")
    if op == "cancel_order":
        return error(-2011, "Unknown order sent.")
    if op == "fetch_order":
        return error(-2013, "Order does not exist.")
    return error(-1000, "An unknown error occured while processing the request.")
