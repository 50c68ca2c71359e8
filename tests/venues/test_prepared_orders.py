"""prepare_order / PreparedOrder.send on every adapter, end to end against the simulator (the referee checks every
signature): preparing signs the exact request the venue accepts and sends no order; sending places it exactly once;
a send whose reply never comes is reconciled by client order id, never resent. Then Dispatcher.send_journaled_many
across two real adapters: all legs or none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id, uint32_client_id
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.dispatch import Dispatcher, Sent
from hedgectl.errors import OrderRejected, SymbolNotListed, Unavailable
from hedgectl.journal import Journal
from hedgectl.journal.repository import ACKED, FAILED
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.server import Running
from hedgectl.venues.aster import AsterVenue
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.base import AccountConfigured, PreparedOrder, Venue, WireRequest
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.okx import OkxVenue

pytestmark = pytest.mark.e2e

QTY = Decimal("0.01")  # a whole step (OKX: whole lots) of BTC on every venue
ADAPTERS = ["binance", "okx", "backpack", "aster-v3", "aster-v1"]
ORDER_PATH = {
    "binance": "/binance/fapi/v1/order",
    "okx": "/okx/api/v5/trade/order",
    "backpack": "/backpack/api/v1/order",
    "aster-v3": "/aster/fapi/v3/order",
    "aster-v1": "/aster/fapi/v1/order",
}


def make_venue(sim: Running, adapter: str) -> Venue:
    name, _, scheme = adapter.partition("-")
    creds = all_credentials()[name]
    if scheme == "v1":
        creds = {k: creds[k] for k in ("api_key", "api_secret")}
    config = VenueConfig(
        name,
        Mode.PAPER,
        f"{sim.url}/{name}",
        credentials={k: SecretStr(v) for k, v in creds.items()},
        timeout_s=0.5,  # the timeout faults hold the connection until we give up
        recv_window_ms=1000,
    )
    if name == "okx":
        return OkxVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))
    if name == "binance":
        return BinanceVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))
    if name == "backpack":
        return BackpackVenue(config)
    return AsterVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def venue(sim_server: Running, adapter: str) -> AsyncIterator[Venue]:
    v = make_venue(sim_server, adapter)
    try:
        yield v
    finally:
        await v.close()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()


def market_buy(qty: Decimal = QTY, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest("BTC", side, OrderType.MARKET, qty, new_client_order_id())


async def requests_of(control: httpx.AsyncClient, venue: str) -> list[dict[str, Any]]:
    reply = await control.get("/_sim/requests", params={"venue": venue})
    return list(reply.json())


async def creates_of(control: httpx.AsyncClient, venue: str) -> list[dict[str, Any]]:
    return [r for r in await requests_of(control, venue) if r["op"] == "create_order"]


async def sim_position(control: httpx.AsyncClient, venue: str) -> Decimal:
    positions = (await control.get("/_sim/state")).json()["venues"][venue]["positions"]
    return sum((Decimal(p["qty"]) for p in positions if p["base"] == "BTC"), Decimal(0))


async def fault(control: httpx.AsyncClient, venue: str, op: str, kind: str) -> None:
    reply = await control.post("/_sim/faults", json={"venue": venue, "op": op, "kind": kind})
    assert reply.status_code == 200, reply.text


def wire_id(venue: str, client_order_id: str) -> str:
    """The client id as the venue's wire (and the simulator's log) carries it."""
    return str(uint32_client_id(client_order_id)) if venue == "backpack" else client_order_id


def signed_fields(adapter: str, wire: WireRequest) -> tuple[str, set[str]]:
    """(the client id the request carries, the names of its signature fields and headers)."""
    assert wire.body is not None
    headers = {k.lower() for k in wire.headers}
    if adapter in ("okx", "backpack"):
        body = json.loads(wire.body)
        cid = str(body["clOrdId" if adapter == "okx" else "clientId"])
        return cid, headers
    form = {k: v[0] for k, v in parse_qs(wire.body.decode(), strict_parsing=True).items()}
    return form["newClientOrderId"], headers | set(form)


async def test_prepare_signs_the_exact_request_sends_nothing_and_send_places_it_once(
    venue: Venue, adapter: str, control: httpx.AsyncClient
) -> None:
    await venue.fetch_balances()  # warm: markets, clock offset, connection
    await venue.market("BTC")
    if isinstance(venue, AccountConfigured):
        await venue.position_mode()  # read once per session, before the first order
    before = await requests_of(control, venue.name)
    request = market_buy()

    prepared = await venue.prepare_order(request)

    assert await requests_of(control, venue.name) == before  # not one request left, let alone the order
    wire = prepared.wire
    assert (wire.method, urlsplit(wire.url).path) == ("POST", ORDER_PATH[adapter])
    assert wire.url.startswith(venue.host)
    cid, fields = signed_fields(adapter, wire)
    assert cid == wire_id(venue.name, request.client_order_id)
    signature = {
        "binance": {"x-mbx-apikey", "timestamp", "recvwindow", "signature"},
        "okx": {"ok-access-key", "ok-access-sign", "ok-access-timestamp", "ok-access-passphrase"},
        "backpack": {"x-api-key", "x-signature", "x-timestamp", "x-window"},
        "aster-v3": {"nonce", "user", "signer", "signature"},
        "aster-v1": {"x-mbx-apikey", "timestamp", "recvwindow", "signature"},
    }[adapter]
    assert signature <= {f.lower() for f in fields}
    secrets = all_credentials()[venue.name].values()
    assert not [s for s in secrets if s in repr(prepared) or s.removeprefix("0x") in repr(prepared)]

    order = await prepared.send()

    assert order.client_order_id == request.client_order_id
    assert order.status is OrderStatus.FILLED or (adapter == "okx" and order.status is OrderStatus.NEW)
    created = await creates_of(control, venue.name)
    assert [(c["client_order_id"], c["method"], c["path"], c["status"]) for c in created] == [
        (wire_id(venue.name, request.client_order_id), "POST", urlsplit(wire.url).path, 200)
    ]
    assert await sim_position(control, venue.name) == QTY


async def test_preparing_from_cold_only_reads(venue: Venue, control: httpx.AsyncClient) -> None:
    prepared = await venue.prepare_order(market_buy())
    assert isinstance(prepared, PreparedOrder)
    sent = await requests_of(control, venue.name)
    assert sent  # markets and the server clock were read ...
    assert {r["method"] for r in sent} == {"GET"}  # ... and nothing else
    assert await sim_position(control, venue.name) == 0


async def test_a_prepared_order_is_sent_once_only(venue: Venue, control: httpx.AsyncClient) -> None:
    prepared = await venue.prepare_order(market_buy())
    await prepared.send()
    with pytest.raises(RuntimeError, match="never sent twice"):
        await prepared.send()
    assert len(await creates_of(control, venue.name)) == 1
    assert await sim_position(control, venue.name) == QTY


async def test_an_order_that_cannot_be_prepared_sends_nothing(venue: Venue, control: httpx.AsyncClient) -> None:
    with pytest.raises(SymbolNotListed):
        await venue.prepare_order(OrderRequest("NOPE", Side.BUY, OrderType.MARKET, QTY, new_client_order_id()))
    assert {r["method"] for r in await requests_of(control, venue.name)} <= {"GET"}


async def test_a_send_whose_reply_never_comes_is_found_by_client_id_and_never_resent(
    venue: Venue, control: httpx.AsyncClient
) -> None:
    request = market_buy()
    prepared = await venue.prepare_order(request)
    await fault(control, venue.name, "create_order", "accept_then_timeout")  # it takes effect; no reply comes

    order = await prepared.send()

    assert order.client_order_id == request.client_order_id
    created = await creates_of(control, venue.name)
    assert [c["client_order_id"] for c in created] == [wire_id(venue.name, request.client_order_id)]
    assert await sim_position(control, venue.name) == QTY


# ---- Dispatcher.send_journaled_many across two real adapters ---------------------------------------------


def journaled(dispatcher: Dispatcher, pairs: list[tuple[Venue, OrderRequest]]) -> list[tuple[Venue, OrderRequest]]:
    for venue, request in pairs:
        dispatcher.journal.record_intent(dispatcher.run_id, venue.name, request, "open")
    return pairs


@pytest.mark.parametrize(("long", "short"), [("binance", "okx"), ("backpack", "aster-v3")])
async def test_both_legs_go_out_and_are_journaled(
    sim_server: Running, control: httpx.AsyncClient, journal: Journal, long: str, short: str
) -> None:
    a, b = make_venue(sim_server, long), make_venue(sim_server, short)
    dispatcher = Dispatcher(journal, journal.start_run("test", "paper"))
    try:
        pairs = journaled(dispatcher, [(a, market_buy()), (b, market_buy(side=Side.SELL))])
        outcomes = await dispatcher.send_journaled_many(pairs)
    finally:
        await a.close()
        await b.close()
    for (venue, request), outcome in zip(pairs, outcomes, strict=True):
        assert isinstance(outcome, Sent), outcome
        assert outcome.order.client_order_id == request.client_order_id
        row = journal.order(request.client_order_id)
        assert row is not None
        assert row.state == ACKED
        assert [c["client_order_id"] for c in await creates_of(control, venue.name)] == [
            wire_id(venue.name, request.client_order_id)
        ]
    assert await sim_position(control, a.name) == QTY
    assert await sim_position(control, b.name) == -QTY


async def test_a_leg_that_cannot_be_prepared_keeps_the_other_from_being_sent(
    sim_server: Running, control: httpx.AsyncClient, journal: Journal
) -> None:
    a, b = make_venue(sim_server, "binance"), make_venue(sim_server, "backpack")
    dispatcher = Dispatcher(journal, journal.start_run("test", "paper"))
    try:
        pairs = journaled(dispatcher, [(a, market_buy()), (b, market_buy(Decimal("0.0000001"), Side.SELL))])
        held_back, refused = await dispatcher.send_journaled_many(pairs)
    finally:
        await a.close()
        await b.close()
    assert isinstance(refused, OrderRejected)
    assert isinstance(held_back, Unavailable)
    assert "backpack leg could not be prepared" in str(held_back)
    for venue, request in pairs:
        assert await creates_of(control, venue.name) == []
        assert await sim_position(control, venue.name) == 0
        row = journal.order(request.client_order_id)
        assert row is not None
        assert row.state == FAILED
