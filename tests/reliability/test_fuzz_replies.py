"""Every adapter's reads fed broken replies on the wire: truncated, HTML, empty, wrong-shaped, a field garbled.

A proxy stands between the real adapters and the simulator and rewrites the body of one reply (drawn by
hypothesis) of one read. The read must then fail with a venue error - or, if the broken part did not
matter, return what it returned from the intact reply: never a different number. This is the one place the
ccxt adapters see broken bodies (ccxt decodes them); Backpack's and Aster's decoders are also covered by
their own tests in tests/venues.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.cli.output import to_jsonable
from hedgectl.cli.paper import paper_credentials
from hedgectl.clock import SystemClock
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import Mode, OrderRequest, OrderType, Side
from hedgectl.errors import HedgectlError, VenueError
from hedgectl.sim.embedded import EmbeddedSimulator
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.registry import ADAPTERS
from tests.waiting import loop_turns

pytestmark = pytest.mark.e2e
T = TypeVar("T")
VENUES = ("binance", "okx", "backpack", "aster")


class _InstantClock(SystemClock):
    async def sleep(self, seconds: float) -> None:  # retries of a broken read need not wait here
        await loop_turns()


async def _no_wait(seconds: float) -> None:
    await loop_turns()


@dataclass
class Proxy:
    """Forwards everything to the simulator; rewrites the reply to `target` (a path) with `mutate`."""

    sim_url: str
    target: str | None = None
    mutate: Callable[[bytes], bytes] | None = None
    seen: list[str] = field(default_factory=list)
    url: str = ""

    async def start(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.sim_url, timeout=10)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self._http.aclose()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        reply = await self._http.request(request.method, request.path_qs, headers=headers, content=await request.read())
        self.seen.append(request.path)
        body = reply.content
        if request.path == self.target and self.mutate is not None:
            body = self.mutate(body)
        content_type = reply.headers.get("content-type", "application/json").split(";")[0]
        return web.Response(body=body, status=reply.status_code, content_type=content_type)


class _Loop:
    """One event loop in a thread: the proxy and the adapters live on it across hypothesis examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, aw: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await aw

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class World:
    """The proxy and the adapters on their loop, a resting order per venue, each read's intact answer.

    (A plain class: hypothesis prints dataclasses field by field in every falsifying example.)
    """

    def __init__(self, loop: _Loop, proxy: Proxy, venues: dict[str, Venue], resting: dict[str, str]) -> None:
        self.loop, self.proxy, self.venues, self.resting = loop, proxy, venues, resting
        self.reads: dict[tuple[str, str], tuple[list[str], Any]] = {}  # (venue, read) -> (paths, intact answer)

    def __repr__(self) -> str:
        return f"World({', '.join(self.venues)})"


def _adapter(venue: str, base_url: str) -> Venue:
    import importlib

    module_name, class_name = ADAPTERS[venue]
    config = VenueConfig(
        name=venue, mode=Mode.PAPER, base_url=f"{base_url}/{venue}", credentials=paper_credentials(venue), timeout_s=5
    )
    cls = getattr(importlib.import_module(module_name), class_name)
    if venue == "backpack":
        return cls(config, clock=_InstantClock())  # type: ignore[no-any-return]
    return cls(config, sleep=_no_wait)  # type: ignore[no-any-return]


async def _scene(venues: dict[str, Venue]) -> dict[str, str]:
    """A position, a fill and a resting order on every venue."""
    resting = {}
    for name, venue in venues.items():
        await venue.place_order(
            OrderRequest(
                symbol="BTC",
                side=Side.BUY,
                type=OrderType.MARKET,
                qty=Decimal("0.002"),
                client_order_id=new_client_order_id(),
            )
        )
        quote, market = await venue.fetch_quote("BTC"), await venue.market("BTC")
        cid = new_client_order_id()
        await venue.place_order(
            OrderRequest(
                symbol="BTC",
                side=Side.BUY,
                type=OrderType.LIMIT,
                qty=Decimal("0.002"),
                price=floor_to_step(quote.bid * Decimal("0.99"), market.tick_size),
                client_order_id=cid,
            )
        )
        resting[name] = cid
    return resting


READS: dict[str, Callable[[Venue, str], Awaitable[Any]]] = {
    "positions": lambda v, cid: v.fetch_positions("BTC"),
    "open_orders": lambda v, cid: v.fetch_open_orders("BTC"),
    "fills": lambda v, cid: v.fetch_fills("BTC"),
    "balances": lambda v, cid: v.fetch_balances(),
    "quote": lambda v, cid: v.fetch_quote("BTC"),
    "order": lambda v, cid: v.fetch_order("BTC", client_order_id=cid),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sim = EmbeddedSimulator(None, seed=5, frozen=True)  # frozen prices: the same read gives the same answer
    url = sim.start().rstrip("/")
    loop = _Loop()
    proxy = Proxy(url)
    loop.run(proxy.start())
    venues = {v: _adapter(v, proxy.url) for v in VENUES}
    try:
        w = World(loop, proxy, venues, loop.run(_scene(venues)))
        for name in VENUES:
            for read, call in READS.items():
                proxy.seen.clear()
                baseline: Any = loop.run(call(venues[name], w.resting[name]))
                w.reads[(name, read)] = (sorted(set(proxy.seen)), to_jsonable(baseline))
        yield w
    finally:
        for adapter in venues.values():
            loop.run(adapter.close())
        loop.run(proxy.stop())
        loop.close()
        sim.stop()


# -- broken replies --------------------------------------------------------------------------------

# ("[]" is left out: for a list endpoint it is a true reply, "nothing".)
JUNK_BODIES = [
    b"",
    b" ",
    b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
    b"Service Unavailable",
    b"null",
    b"{}",
    b'"ok"',
    b"0",
    b"true",
    b"[null]",
    b"\xff\xfe\x00",
    b'{"data": null}',
]
# (No JSON number: 1.5 for "95001.0" is a different true-looking reply, not a broken one.)
JUNK_VALUES = [None, True, [], {}, "abc", "", "NaN", "1e999999", "-1e30", [None], {"x": 1}]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    out: list[tuple[Any, ...]] = []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


_NAME_KEYS = re.compile(r"(?i)(id|symbol|asset|ccy|coin|currency|side|status|state|type|timeinforce|name)$")
# Optional fields whose absence makes the adapter read another one instead (a different, true, number).
# OKX: single-currency accounts send availBal only; Binance: walletBalance when marginBalance is absent.
FALLBACKS = frozenset({"availEq", "marginBalance", "initialMargin"})
# Ids a real venue sends as null: Backpack's system fills (liquidations, ADL) have `tradeId: null`, which the
# adapter reads as a synthesized id - a different true reply, not a broken one.
NULLABLE_IDS = frozenset({"tradeId"})


@dataclass(repr=False)
class Mutation:
    label: str
    rewrite: Callable[[bytes], bytes]
    key: Any = None  # the field garbled, once a body was rewritten
    was: Any = None  # its value in the intact reply

    value: Any = None
    dropped: bool = False  # the field was removed rather than replaced

    def __repr__(self) -> str:
        return f"Mutation({self.label})"

    @property
    def plausible(self) -> bool:
        """A different true-looking reply rather than a broken one: an id, name or enum replaced by another
        string ("USDC" -> "abc"), or a flag by the other flag, or an id the venue really sends as null."""
        if self.key in NULLABLE_IDS and (self.value is None or self.dropped):  # absent reads as null
            return True
        if isinstance(self.value, bool) and (
            isinstance(self.was, bool) or (isinstance(self.was, str) and self.was.lower() in ("true", "false"))
        ):
            return True  # OKX sends its flags as "true"/"false": a JSON boolean there is the other flag, not junk
        return isinstance(self.value, str) and isinstance(self.key, str) and bool(_NAME_KEYS.search(self.key))


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(["truncate", "junk", "field", "field", "drop"]))
    if kind == "junk":
        body = draw(st.sampled_from(JUNK_BODIES))
        return Mutation(f"body {body[:20]!r}", lambda _: body)
    if kind == "truncate":
        fraction = draw(st.floats(min_value=0, max_value=0.999))
        return Mutation(f"truncated at {fraction:.3f}", lambda b: b[: int(len(b) * fraction)])
    value = draw(st.sampled_from(JUNK_VALUES))
    pick = draw(st.integers(min_value=0, max_value=10**6))
    mutation = Mutation(f"{kind} {value!r} at pick {pick}", lambda b: b, value=value)

    def garble(body: bytes) -> bytes:
        doc = json.loads(body)
        paths = _paths(doc)
        if not paths:
            return b"{}"
        path = paths[pick % len(paths)]
        mutation.key = path[-1]
        broken = copy.deepcopy(doc)
        node = broken
        for key in path[:-1]:
            node = node[key]
        mutation.was = node[path[-1]]
        if kind == "drop" and isinstance(node, dict):
            del node[path[-1]]
            mutation.dropped = True
        elif type(node[path[-1]]) is type(value) and not value:
            node[path[-1]] = None  # an empty list for a list of rows is a true reply ("none"), not a broken one
        else:
            node[path[-1]] = value
        return json.dumps(broken).encode()

    mutation.rewrite = garble
    return mutation


def _never_wronger(got: Any, baseline: Any, where: str = "") -> None:
    """`got` may lack what the baseline had (None), never hold a different value. Times (`*_at`) may differ:
    an adapter stamps a reply without the venue's time with its own clock."""
    key = where.rsplit(".", 1)[-1]
    if got is None or key == "at" or key.endswith("_at"):
        return
    if isinstance(baseline, dict):
        assert isinstance(got, dict), where
        for key in baseline:
            _never_wronger(got.get(key), baseline[key], f"{where}.{key}")
        return
    if isinstance(baseline, list):
        assert isinstance(got, list), where
        assert len(got) == len(baseline), f"{where}: {len(got)} rows instead of {len(baseline)}"
        for i, (g, b) in enumerate(zip(got, baseline, strict=True)):
            _never_wronger(g, b, f"{where}[{i}]")
        return
    assert got == baseline, f"{where}: {str(got)[:60]!r} instead of {str(baseline)[:60]!r}"


@settings(
    max_examples=int(os.environ.get("HEDGECTL_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(venue=st.sampled_from(VENUES), read=st.sampled_from(sorted(READS)), data=st.data(), mutation=mutations())
def test_a_broken_reply_is_a_venue_error_never_a_different_number(
    world: World, venue: str, read: str, data: st.DataObject, mutation: Mutation
) -> None:
    paths, baseline = world.reads[(venue, read)]
    target = data.draw(st.sampled_from(paths))
    world.proxy.target, world.proxy.mutate = target, mutation.rewrite
    try:
        got: Any = world.loop.run(READS[read](world.venues[venue], world.resting[venue]))
    except HedgectlError as exc:
        failure: HedgectlError | None = exc
    else:
        failure = None
    finally:
        world.proxy.target = world.proxy.mutate = None
    where = f"{venue} {read} {target} {mutation.label} (field {mutation.key!r})"
    if failure is not None:
        assert isinstance(failure, VenueError), f"{where}: {type(failure).__name__}: {failure}"
        return
    if mutation.key in FALLBACKS or mutation.plausible:
        return
    _never_wronger(to_jsonable(got), baseline, where)


def test_the_scene_gives_every_read_something_to_parse(world: World) -> None:
    for (venue, read), (paths, baseline) in world.reads.items():
        assert paths, (venue, read)
        assert baseline, (venue, read)
