"""Alerts: a small JSON message POSTed to each `--notify` URL on open, close, breaker trip, exit 3, re-hedge.

Sent in the background: `send` only queues (a bounded queue per URL; when it is full the message is dropped and
counted), one task per URL POSTs with a per-request timeout (a hanging endpoint holds up only its own alerts),
and closing waits at most CLOSE_GRACE_S for what is queued. An alert
endpoint that hangs or fails can never slow or break trading; a failure is one warning, never an exception.

Telegram bot URLs (`https://api.telegram.org/bot<TOKEN>/sendMessage?chat_id=<CHAT>`) get Telegram's body
(`chat_id`, `text`); any other URL is a generic webhook and gets the event itself. A URL is shown only as
`scheme://host/…` (`display_url`): its path and query carry the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from hedgectl.errors import UsageError

log = logging.getLogger(__name__)
QUEUE_MAX = 100
TIMEOUT_S = 5.0
CLOSE_GRACE_S = 2.0
TELEGRAM_HOST = "api.telegram.org"


def split_urls(text: str | None) -> list[str]:
    """URLs from a setting: separated by spaces or commas."""
    return [u for u in (text or "").replace(",", " ").split() if u]


def check_url(url: str) -> str:
    """An http(s) URL with a host, else a UsageError that does not repeat the URL (it may carry a token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if not parts.scheme:
            got = "does not start with http:// or https://"
        elif parts.scheme in ("http", "https"):
            got = f"has no host after {parts.scheme}://"
        else:
            got = f"starts with {parts.scheme}: instead"
        raise UsageError(
            "--notify needs an http(s) URL with a host, such as https://hooks.example.com/services/T0/B0/x or "
            f"http://127.0.0.1:8080/hook; this one {got}"
        )
    return url


def display_url(url: str) -> str:
    """The URL as it may be shown: scheme and host only."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def secret_parts(url: str) -> list[str]:
    """What of a URL must never be printed: the URL, its path segments and query values (for the log scrubber)."""
    parts = urlsplit(url)
    out = [url]
    out += [seg for seg in parts.path.split("/") if len(seg) >= 8]
    out += [v for values in parse_qs(parts.query).values() for v in values if len(v) >= 8]
    return out


def _is_telegram(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname == TELEGRAM_HOST and "/bot" in parts.path


def message_text(event: dict[str, Any]) -> str:
    """One line for a chat: `hedgectl carry <kind>: <text>`."""
    text = event.get("text") or json.dumps({k: v for k, v in event.items() if k != "kind"}, default=str)
    return f"hedgectl carry {event.get('kind', 'event')}: {text}"


def request_body(url: str, event: dict[str, Any]) -> dict[str, Any]:
    if _is_telegram(url):
        chat = parse_qs(urlsplit(url).query).get("chat_id", [""])[0]
        return {"chat_id": chat, "text": message_text(event)}
    return event


class Notifier:
    """Queues events and POSTs them to every URL from one background task."""

    def __init__(
        self,
        urls: Iterable[str],
        *,
        warn: Callable[[str], None] = log.warning,
        timeout_s: float = TIMEOUT_S,
        queue_max: int = QUEUE_MAX,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = [check_url(u) for u in urls]
        self._warn = warn
        self._timeout_s = timeout_s
        # One queue and one sender per URL: an endpoint that hangs holds up only its own alerts.
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
            u: asyncio.Queue(maxsize=queue_max) for u in self.urls
        }
        self._transport = transport
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._pending = dict.fromkeys(self.urls, 0)  # queued or being sent, per URL
        self._warned: set[str] = set()
        self.dropped = 0
        self.sent = 0

    def __bool__(self) -> bool:
        return bool(self.urls)

    def start(self) -> None:
        if self.urls and not self._tasks:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport)
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._run(url), name="hedgectl-notify") for url in self.urls]

    def send(self, kind: str, text: str, **data: Any) -> None:
        """Queue one alert for every URL; never blocks, never raises (a full queue drops it)."""
        event = {"kind": kind, "text": text, **{k: _plain(v) for k, v in data.items()}}
        for url, queue in self._queues.items():
            try:
                queue.put_nowait(event)
                self._pending[url] += 1
            except asyncio.QueueFull:
                self.dropped += 1

    async def _run(self, url: str) -> None:
        queue = self._queues[url]
        while True:
            event = await queue.get()
            try:
                await self._post(url, event)
            finally:
                self._pending[url] -= 1
                queue.task_done()

    async def _post(self, url: str, event: dict[str, Any]) -> None:
        assert self._client is not None  # noqa: S101 - started
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(url, json=request_body(url, event))
            if response.status_code >= 400:
                self._warn_once(url, f"HTTP {response.status_code}")
            else:
                self.sent += 1
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            self._warn_once(url, type(exc).__name__)

    def _warn_once(self, url: str, why: str) -> None:
        if url not in self._warned:
            self._warned.add(url)
            self._warn(f"alert to {display_url(url)} failed ({why}); trading goes on, further failures not shown")

    async def aclose(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """Give what is queued up to `grace_s` (in all) to go out, then stop; what is left is said, not sent."""
        if not self._tasks:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s):
                await asyncio.gather(*(q.join() for q in self._queues.values()))
        for url in self._queues:
            if self._pending[url]:
                self._warn_once(url, f"still pending after {grace_s:g} s at exit")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _plain(value: Any) -> Any:
    """Decimals and datetimes as strings (JSON-ready)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
