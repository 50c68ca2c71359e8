"""Refuse any request that would leave the environment the mode allows (no surprise trip to real money)."""

from __future__ import annotations

from urllib.parse import urlsplit

from hedgectl.errors import ConfigError


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def ensure_allowed(url: str, allowed_base: str, *, venue: str) -> None:
    """Raise ConfigError unless `url` goes to the same origin (and path prefix) as `allowed_base`."""
    if origin(url) != origin(allowed_base) or not urlsplit(url).path.startswith(urlsplit(allowed_base).path):
        raise ConfigError(f"{venue}: refusing a request to {origin(url)}; this mode only allows {allowed_base}")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")
