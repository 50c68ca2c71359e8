"""The dialect plug-in API: a venue's wire dialect declares routes; this module runs the pipeline.

Pipeline for every request of a dialect route (see DIALECTS.md):

    log request (venue, method, path, op, received_ns)
    -> Dialect.read_call        parse query + body (size limit, malformed JSON/form -> Problem)
    -> Dialect.authenticate     venue signature/timestamp rules (raise Reply with the venue's error)
    -> Dialect.client_order_id  recorded in the request log (even if a fault swallows the request)
    -> faults                   reject/http_500/rate_limit -> Dialect.render_fault;
                                timeout/disconnect -> no effect, no reply;
                                accept_then_timeout -> run the handler, drop the reply;
                                partial_fill -> Call.place_order fills `fill_ratio`
    -> Route.handler(call)      returns a web response; may raise Reply, BadInput or SimError
    -> latency                  `POST /_sim/latency` delay before the reply is sent

Errors never escape as stack traces: SimError -> Dialect.render_sim_error, BadInput ->
Dialect.render_problem, anything else -> logged, then Dialect.render_problem(Problem.INTERNAL).
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar, Literal, overload
from urllib.parse import parse_qsl

from aiohttp import web

from hedgectl.sim.core import RequestRecord, Simulator
from hedgectl.sim.engine import Engine
from hedgectl.sim.faults import RENDERED_KINDS, Fault, FaultKind
from hedgectl.sim.model import Order, OrderRequest, SimError

log = logging.getLogger("hedgectl.sim")

HOLD_MAX_S = 300.0  # a held (timed-out) request is dropped after this long at the latest
HOLD_POLL_S = 0.02

Handler = Callable[["Call"], "Awaitable[web.StreamResponse] | web.StreamResponse"]


class Problem(StrEnum):
    """Request problems that are not engine decisions; each dialect renders them its own way."""

    MALFORMED_BODY = "malformed_body"
    BODY_TOO_LARGE = "body_too_large"
    MISSING_PARAMETER = "missing_parameter"
    BAD_PARAMETER = "bad_parameter"
    UNKNOWN_ROUTE = "unknown_route"
    INTERNAL = "internal"


class BadInput(Exception):
    """Raise from a handler (or the Call helpers raise it) for a malformed or missing parameter."""

    def __init__(self, problem: Problem, detail: str = "", name: str | None = None) -> None:
        super().__init__(detail or problem.value)
        self.problem = problem
        self.detail = detail
        self.name = name


class Reply(Exception):
    """Raise anywhere in the pipeline to answer at once with `response` (e.g. a signature error)."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("reply")
        self.response = response


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint below the dialect's prefix (aiohttp path syntax)."""

    method: str
    path: str
    op: str  # ccxt-style operation name: create_order, cancel_order, fetch_order, fetch_positions, ...
    handler: Handler
    auth: str = "none"  # a label the dialect's authenticate() interprets ("none", "signed", "key", ...)


@dataclass(slots=True)
class Call:
    """One parsed request, handed to authenticate() and the route handler."""

    sim: Simulator
    venue: str
    route: Route
    request: web.Request
    params: dict[str, str]
    body: Any = None  # the decoded JSON body, when the request had one
    raw_body: bytes = b""
    query_string: str = ""
    client_order_id: str | None = None
    fault: Fault | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    record: RequestRecord | None = None

    @property
    def engine(self) -> Engine:
        return self.sim.engine

    def note_order(self, req: OrderRequest) -> None:
        """Record the parsed order in the request log (side, qty, reduce-only, position side, client id)."""
        if self.record is None:
            return
        self.record.side = req.side.value
        self.record.qty = str(req.qty)
        self.record.reduce_only = req.reduce_only
        self.record.position_side = req.position_side.value
        if req.client_order_id is not None and self.record.client_order_id is None:
            self.record.client_order_id = req.client_order_id

    def place_order(self, req: OrderRequest) -> Order:
        """Place `req` on this venue (noted in the request log), applying an armed partial_fill fault."""
        self.note_order(req)
        ratio = None
        if self.fault is not None and self.fault.kind is FaultKind.PARTIAL_FILL:
            ratio = self.fault.fill_ratio
        return self.sim.engine.place_order(self.venue, req, fill_ratio=ratio)

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return default if value is None or value == "" else value

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise BadInput(Problem.MISSING_PARAMETER, name, name)
        return value

    @overload
    def decimal(self, name: str) -> Decimal: ...
    @overload
    def decimal(self, name: str, *, required: Literal[True]) -> Decimal: ...
    @overload
    def decimal(self, name: str, *, required: Literal[False]) -> Decimal | None: ...

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        """A decimal parameter (missing -> MISSING_PARAMETER when required, malformed -> BAD_PARAMETER)."""
        raw = self.require(name) if required else self.get(name)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise BadInput(Problem.BAD_PARAMETER, name, name) from None
        if not value.is_finite():
            raise BadInput(Problem.BAD_PARAMETER, name, name)
        return value

    @overload
    def integer(self, name: str) -> int: ...
    @overload
    def integer(self, name: str, *, required: Literal[True]) -> int: ...
    @overload
    def integer(self, name: str, *, required: Literal[False]) -> int | None: ...

    def integer(self, name: str, *, required: bool = True) -> int | None:
        """An integer parameter (missing -> MISSING_PARAMETER when required, malformed -> BAD_PARAMETER)."""
        raw = self.require(name) if required else self.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise BadInput(Problem.BAD_PARAMETER, name, name) from None

    def flag(self, name: str) -> bool:
        """A boolean parameter; accepts true/True/1 (Python ccxt sends `True`)."""
        raw = self.get(name)
        if raw is None:
            return False
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise BadInput(Problem.BAD_PARAMETER, name, name)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A compact JSON reply; Decimals become strings."""
    text = json.dumps(data, separators=(",", ":"), default=_json_default)
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


class Dialect(abc.ABC):
    """Base class of a venue dialect. Subclass, set `venue`/`prefix`, implement the abstract methods."""

    venue: ClassVar[str]
    prefix: ClassVar[str]
    max_body_bytes: ClassVar[int] = 64 * 1024

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def engine(self) -> Engine:
        return self.sim.engine

    # ---- what a dialect implements -------------------------------------------------------------

    @abc.abstractmethod
    def routes(self) -> list[Route]:
        """Every endpoint of this venue, paths below `prefix`."""

    @abc.abstractmethod
    def authenticate(self, call: Call) -> None:
        """Check `call.route.auth` requirements; raise Reply(<venue error>) when they fail."""

    @abc.abstractmethod
    def render_sim_error(self, err: SimError, call: Call) -> web.StreamResponse:
        """The venue's reply to an engine refusal (unknown symbol, min notional, order not found, ...)."""

    @abc.abstractmethod
    def render_problem(self, problem: Problem, detail: str, call: Call | None) -> web.StreamResponse:
        """The venue's reply to a malformed request, an unknown route or an internal error."""

    @abc.abstractmethod
    def render_fault(self, kind: FaultKind, fault: Fault, call: Call) -> web.StreamResponse:
        """The venue's reply for an injected reject, http_500 or rate_limit fault."""

    # ---- hooks with defaults -------------------------------------------------------------------

    def client_order_id(self, call: Call) -> str | None:
        """The client order id a request carries (create, cancel or query by client id)."""
        return None

    def extra_routes(self) -> list[web.RouteDef]:
        """Raw aiohttp routes outside the pipeline (e.g. private WebSocket streams), full paths."""
        return []

    async def read_call(self, request: web.Request, route: Route) -> Call:
        """Parse query and body: form bodies merge into params (query wins), JSON objects too."""
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            raise BadInput(Problem.BODY_TOO_LARGE, f"{request.content_length} bytes")
        raw = await request.content.read(self.max_body_bytes + 1)
        if len(raw) > self.max_body_bytes:
            raise BadInput(Problem.BODY_TOO_LARGE, f"more than {self.max_body_bytes} bytes")
        query_string = request.rel_url.raw_query_string  # as sent: signatures cover these bytes
        params: dict[str, str] = {}
        body: Any = None
        if raw:
            ctype = request.content_type
            try:
                text = raw.decode("utf-8")
                if ctype == "application/json" or text.lstrip()[:1] in ("{", "["):
                    body = json.loads(text, parse_float=Decimal)
                    if isinstance(body, dict):
                        params.update({k: _scalar(v) for k, v in body.items()})
                else:
                    params.update(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                raise BadInput(Problem.MALFORMED_BODY, "body is not valid JSON or form data") from None
        params.update(request.query)
        return Call(
            sim=self.sim,
            venue=self.venue,
            route=route,
            request=request,
            params=params,
            body=body,
            raw_body=raw,
            query_string=query_string,
        )

    # ---- the pipeline --------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Register every route under `prefix`, then a catch-all answering the venue's 404."""
        for route in self.routes():
            app.router.add_route(route.method, self.prefix + route.path, self._endpoint(route))
        app.router.add_routes(self.extra_routes())
        unknown = Route("*", "/{tail:.*}", "unknown", self._unknown_route)
        app.router.add_route("*", self.prefix + "/{tail:.*}", self._endpoint(unknown))

    def _unknown_route(self, call: Call) -> web.StreamResponse:
        return self.render_problem(Problem.UNKNOWN_ROUTE, f"{call.request.method} {call.request.path}", call)

    def _endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._dispatch(route, request)

        return endpoint

    async def _dispatch(self, route: Route, request: web.Request) -> web.StreamResponse:
        record = RequestRecord(self.venue, request.method, request.path, route.op, time.time_ns())
        self.sim.requests.add(record)
        call: Call | None = None
        try:
            call = await self.read_call(request, route)
            call.record = record
            call.client_order_id = record.client_order_id = self.client_order_id(call)
            self.authenticate(call)
            fault = self.sim.faults.take(self.venue, route.op)
            if fault is not None:
                record.fault = fault.kind.value
                call.fault = fault
                if fault.kind in RENDERED_KINDS:
                    return await self._reply(record, self.render_fault(fault.kind, fault, call))
                if fault.kind in (FaultKind.TIMEOUT, FaultKind.DISCONNECT):
                    return await self._drop(request, hold=fault.kind is FaultKind.TIMEOUT)
                if fault.kind is FaultKind.ACCEPT_THEN_TIMEOUT:
                    await self._run(route, call)
                    return await self._drop(request, hold=True)
            response = await self._run(route, call)
        except Reply as reply:
            response = reply.response
        except BadInput as exc:
            response = self.render_problem(exc.problem, exc.detail, call)
        except SimError as err:
            response = self._render_sim_error(err, call)
        except asyncio.CancelledError:
            raise
        except Exception:  # the referee must not fall over: log it, answer the venue's 500
            log.exception("simulator %s: internal error on %s %s", self.venue, request.method, request.path)
            response = self.render_problem(Problem.INTERNAL, "internal error", call)
        return await self._reply(record, response)

    async def _run(self, route: Route, call: Call) -> web.StreamResponse:
        try:
            result = route.handler(call)
            if inspect.isawaitable(result):
                result = await result
        except SimError as err:
            return self._render_sim_error(err, call)
        except BadInput as exc:
            return self.render_problem(exc.problem, exc.detail, call)
        except Reply as reply:
            return reply.response
        finally:
            self.sim.commit()  # saved before a latency delay or a held reply, while stream events may leave
        return result

    def _render_sim_error(self, err: SimError, call: Call | None) -> web.StreamResponse:
        if call is None:
            return self.render_problem(Problem.BAD_PARAMETER, str(err), None)
        return self.render_sim_error(err, call)

    async def _reply(self, record: RequestRecord, response: web.StreamResponse) -> web.StreamResponse:
        record.status = response.status
        delay_ms = self.sim.op_latency_ms.get((self.venue, record.op), self.sim.latency_ms.get(self.venue, 0))
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        return response

    async def _drop(self, request: web.Request, *, hold: bool) -> web.StreamResponse:
        """Never answer: hold the connection until the client gives up (or drop it at once)."""
        transport = request.transport
        if hold:
            deadline = time.monotonic() + HOLD_MAX_S
            # aiohttp offers no "client went away" event to wait on, so poll the transport.
            while transport is not None and not transport.is_closing() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(HOLD_POLL_S)
        if transport is not None:
            transport.abort()
        # The connection is gone: aiohttp discards whatever is returned here.
        return web.Response(status=499)


def _scalar(value: Any) -> str:
    """A JSON body value as the string a form parameter would carry (true/false, numbers as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)):
        return str(value)
    return json.dumps(value, default=_json_default)
