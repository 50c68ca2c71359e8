"""OKX v5 account endpoints of the /okx dialect (signed): funding bills, positions, balance, account config,
trading fee and leverage; route handlers of one `Call` each.
"""

from __future__ import annotations

from aiohttp import web

from hedgectl.sim.dialects import okx_errors, okx_market, okx_trade_wire
from hedgectl.sim.dialects.base import Call
from hedgectl.sim.dialects.okx_market import INST_TYPES, fail, now_ms, ok
from hedgectl.sim.model import PositionMode

BILLS_RECENT_MS = 7 * 24 * 3_600_000  # /account/bills: the last 7 days; bills-archive: 3 months
BILLS_ARCHIVE_MS = 92 * 24 * 3_600_000


def bills(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/bills: the last 7 days, newest first."""
    return _bills(call, now_ms() - BILLS_RECENT_MS)


def bills_archive(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/bills-archive: the last 3 months, newest first."""
    return _bills(call, now_ms() - BILLS_ARCHIVE_MS)


def _bills(call: Call, oldest_ms: int) -> web.StreamResponse:
    # Only funding bills (type 8) are kept: a query for another type reads an empty list, not a wrong one.
    inst_type = call.get("instType")
    bill_type = call.get("type")
    if (inst_type is not None and inst_type not in INST_TYPES) or bill_type not in (None, "8"):
        return ok([])
    inst_id = call.get("instId")
    if inst_id is not None:
        okx_market.instrument(call)
    after = call.integer("after", required=False)
    before = call.integer("before", required=False)
    begin = call.integer("begin", required=False)
    end = call.integer("end", required=False)
    limit = min(call.integer("limit", required=False) or 100, 100)
    acct = call.engine.account(call.venue)
    rows = [
        okx_trade_wire.render_funding_bill(pay, call.engine.instruments[call.venue][pay.symbol], acct.asset)
        for pay in sorted(acct.funding, key=lambda p: p.payment_id, reverse=True)
        if (inst_id is None or pay.symbol == inst_id)
        and pay.time_ms >= oldest_ms
        and (after is None or pay.payment_id < after)
        and (before is None or pay.payment_id > before)
        and (begin is None or pay.time_ms >= begin)
        and (end is None or pay.time_ms <= end)
    ]
    # With only `before`, OKX returns the page just newer than it: the oldest rows of what is newer.
    page = rows[-limit:] if before is not None and after is None else rows[:limit]
    return ok(page)


def positions(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/positions: open positions, optionally of the instIds listed."""
    inst_type = call.get("instType")
    if inst_type is not None and inst_type not in INST_TYPES:
        return ok([])
    wanted = None
    if call.get("instId"):
        wanted = set(call.require("instId").split(","))
        unknown = wanted - set(call.engine.instruments[call.venue])
        if unknown:
            return fail(*okx_errors.UNKNOWN_INSTRUMENT, status=400)
    lever = call.engine.account(call.venue).leverage
    now = now_ms()
    rows = [
        okx_trade_wire.render_position(
            pos,
            call.engine.instruments[call.venue][pos.symbol],
            call.engine.mark_price(call.venue, pos.symbol),
            lever,
            now,
            call.engine.liquidation_price(call.venue, pos),
        )
        for pos in call.engine.positions(call.venue)
        if wanted is None or pos.symbol in wanted
    ]
    return ok(rows)


def balance(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/balance: the account's one asset (no details for another `ccy`)."""
    acct = call.engine.account(call.venue)
    view = call.engine.margin(call.venue)
    data = okx_trade_wire.render_balance(
        acct.asset, view.balance, view.unrealized_pnl, view.position_margin, view.order_margin, now_ms()
    )
    wanted = call.get("ccy")
    if wanted is not None and acct.asset not in wanted.split(","):
        data["details"] = []
    return ok([data])


def config(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/config: the position mode ccxt reads."""
    return ok([okx_trade_wire.render_account_config(call.engine.account(call.venue).position_mode)])


def trade_fee(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/trade-fee: SWAP only (the simulator lists nothing else); `instFamily` (or the older
    `uly`) picks the family's instrument, else the account's tier is the first instrument's."""
    if call.require("instType") != "SWAP":
        return fail(*okx_errors.param_error("instType"))
    family = call.get("instFamily") or call.get("uly")
    instruments = list(call.engine.instruments[call.venue].values())
    if family is not None:
        instruments = [i for i in instruments if f"{i.base}-{i.quote}" == family]
    if not instruments:
        return fail(*okx_errors.UNKNOWN_INSTRUMENT)
    return ok([okx_trade_wire.render_trade_fee(instruments[0], now_ms())])


def set_leverage(call: Call) -> web.StreamResponse:
    """POST /api/v5/account/set-leverage."""
    lever = call.integer("lever")
    mgn_mode = call.require("mgnMode")
    if lever is None or not 1 <= lever <= 125 or mgn_mode not in ("cross", "isolated"):
        return fail(*okx_errors.param_error("lever" if mgn_mode in ("cross", "isolated") else "mgnMode"))
    inst_id = call.get("instId")
    if inst_id is not None:
        okx_market.instrument(call)
    # The simulated account has one leverage for all instruments (what its margin maths uses).
    call.engine.account(call.venue).leverage = lever
    return ok([{"instId": inst_id or "", "lever": str(lever), "mgnMode": mgn_mode, "posSide": ""}])


def leverage_info(call: Call) -> web.StreamResponse:
    """GET /api/v5/account/leverage-info: one row per position side the mode has (the account's one leverage)."""
    inst = okx_market.instrument(call)
    mgn_mode = call.require("mgnMode")
    if mgn_mode not in ("cross", "isolated"):
        return fail(*okx_errors.param_error("mgnMode"))
    acct = call.engine.account(call.venue)
    sides = ("long", "short") if acct.position_mode is PositionMode.HEDGE else ("net",)
    lever = str(acct.leverage)
    return ok([{"instId": inst.symbol, "mgnMode": mgn_mode, "posSide": s, "lever": lever} for s in sides])


def currencies(call: Call) -> web.StreamResponse:
    """GET /api/v5/asset/currencies."""
    # ccxt calls this from load_markets when keys are set; an empty list is a valid answer.
    return ok([])
