"""The one httpx exception map: every class httpx exports maps to a deliberate error, for a read and a write."""

from __future__ import annotations

import inspect

import httpx
import pytest

from hedgectl.errors import AmbiguousOrderState, BadResponse, Unavailable
from hedgectl.venues.kit.transport import OUTCOMES, Kind, Outcome, map_transport_error, outcome_of

EXPECTED = {
    Outcome.NEVER_LEFT: {Kind.READ: Unavailable, Kind.WRITE: Unavailable},
    Outcome.MAY_HAVE_LEFT: {Kind.READ: Unavailable, Kind.WRITE: AmbiguousOrderState},
    Outcome.UNUSABLE: {Kind.READ: BadResponse, Kind.WRITE: BadResponse},
}


def _httpx_exception_classes() -> set[type[BaseException]]:
    """Every exception class httpx exports, and every subclass of those that httpx defines anywhere."""
    found: set[type[BaseException]] = set()
    roots = [getattr(httpx, name) for name in httpx.__all__]
    pending = [c for c in roots if inspect.isclass(c) and issubclass(c, BaseException)]
    while pending:
        cls = pending.pop()
        if cls in found or not cls.__module__.startswith("httpx"):
            continue
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def _instance(cls: type[BaseException]) -> BaseException:
    request = httpx.Request("POST", "https://venue.test/api/v1/order")
    if issubclass(cls, httpx.HTTPStatusError):
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=request)
    if cls in (httpx.StreamConsumed, httpx.StreamClosed, httpx.ResponseNotRead, httpx.RequestNotRead):
        return cls()
    return cls("boom")


def test_the_walk_finds_the_classes_httpx_is_known_for() -> None:
    classes = _httpx_exception_classes()
    assert {httpx.ConnectError, httpx.ReadTimeout, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError} <= classes
    assert len(classes) >= 25


@pytest.mark.parametrize("cls", sorted(_httpx_exception_classes(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_httpx_exception_class_is_listed_with_a_deliberate_outcome(cls: type[BaseException]) -> None:
    assert cls in OUTCOMES, f"httpx.{cls.__name__} is not in kit.transport.OUTCOMES: decide what it means for an order"


@pytest.mark.parametrize("cls", sorted(_httpx_exception_classes(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
@pytest.mark.parametrize("kind", list(Kind))
def test_every_httpx_exception_maps_to_the_error_its_outcome_calls_for(cls: type[BaseException], kind: Kind) -> None:
    exc = _instance(cls)
    error = map_transport_error(exc, venue="backpack", kind=kind, what="POST /api/v1/order", base_url="https://x")
    assert type(error) is EXPECTED[OUTCOMES[cls]][kind]
    assert error.venue == "backpack"
    assert "boom" not in error.message  # the wording is ours, never the foreign text (which may hold a URL)


def test_a_request_that_never_left_is_unavailable_even_for_an_order() -> None:
    exc = httpx.ConnectError("refused", request=httpx.Request("POST", "https://x/o"))
    error = map_transport_error(exc, venue="aster", kind=Kind.WRITE, what="POST /o", base_url="https://x")
    assert isinstance(error, Unavailable)
    assert "cannot reach https://x" in error.message


def test_a_timeout_after_sending_an_order_is_ambiguous_and_says_so() -> None:
    exc = httpx.ReadTimeout("slow", request=httpx.Request("POST", "https://x/o"))
    error = map_transport_error(exc, venue="aster", kind=Kind.WRITE, what="POST /o", base_url="https://x")
    assert isinstance(error, AmbiguousOrderState)
    assert "POST /o sent but no reply (timed out waiting for the reply)" in error.message


def test_an_unknown_subclass_takes_its_nearest_listed_ancestor() -> None:
    class NewReadError(httpx.ReadError):
        pass

    assert outcome_of(NewReadError("x")) is Outcome.MAY_HAVE_LEFT
    assert outcome_of(ValueError("not httpx")) is Outcome.UNUSABLE
