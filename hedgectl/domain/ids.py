"""Client order ids: one format we journal, and the forms each venue accepts."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import OrderedDict

_CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


def new_client_order_id(prefix: str = "hc") -> str:
    """A fresh id valid on every venue that takes strings: <=32 letters and digits (OKX's rule is the tightest)."""
    return (prefix + uuid.uuid4().hex)[:32]


def is_valid_client_order_id(cid: str) -> bool:
    return bool(_CLIENT_ID.match(cid))


def uint32_client_id(cid: str) -> int:
    """Backpack's clientId is a uint32: a stable, non-zero hash of our string id (no mapping table needed)."""
    value = int.from_bytes(hashlib.sha256(cid.encode()).digest()[:4], "big")
    return value or 1


class RecentClientIds(OrderedDict[int, str]):
    """uint32 -> our string id, for the most recent `limit` orders only (memory stays flat over days)."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: int, value: str) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)
