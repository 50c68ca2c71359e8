"""Refuse any request that would leave the environment the mode allows (no surprise trip to real money)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from hedgectl.errors import ConfigError


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def within_base_path(path: str, base_path: str) -> bool:
    """True if `path` lies under `base_path`, whole segment by whole segment.

    A plain prefix test would let base `/binance` admit `/binanceevil/...`; a dot segment (`..`, also
    percent-encoded) could climb out of the base after the prefix matched, so any is refused.
    """
    segments = _segments(path)
    if any(unquote(s) in {".", ".."} for s in segments):
        return False
    base = _segments(base_path)
    return segments[: len(base)] == base


def ensure_allowed(url: str, allowed_base: str, *, venue: str) -> None:
    """Raise ConfigError unless `url` goes to the same origin (and under the base path) as `allowed_base`."""
    if origin(url) != origin(allowed_base) or not within_base_path(urlsplit(url).path, urlsplit(allowed_base).path):
        raise ConfigError(f"{venue}: refusing a request to {origin(url)}; this mode only allows {allowed_base}")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")
