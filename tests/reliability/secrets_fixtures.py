"""Sentinel credentials: distinctive values that must never show up in output, logs, files or the journal.

Formats are valid where an adapter checks them (Aster's API-wallet key must derive the signer's address).
"""

from __future__ import annotations

import base64
from pathlib import Path

from nacl.signing import SigningKey

from hedgectl.venues.aster.auth import address_of

ASTER_PRIVATE_KEY = "0x" + "5e" * 32
_BACKPACK_SEED = b"SNTLbackpackSEEDSNTLbackpackSEED"
SENTINELS: dict[str, str] = {
    "BINANCE_API_KEY": "SNTLbinanceKEYq7w8e9r0t1y2u3i4o5p6",
    "BINANCE_API_SECRET": "SNTLbinanceSECRETa1s2d3f4g5h6j7k8l9",
    "OKX_API_KEY": "SNTLokxKEY-4f1e-9c2b-77aa-5d3e",
    "OKX_API_SECRET": "SNTLokxSECRET0A1B2C3D4E5F6A7B8C9D",
    "OKX_PASSPHRASE": "SNTLokxPASSPHRASE-xyzzy",
    "BACKPACK_API_KEY": base64.b64encode(bytes(SigningKey(_BACKPACK_SEED).verify_key)).decode(),
    "BACKPACK_API_SECRET": base64.b64encode(_BACKPACK_SEED).decode(),
    "ASTER_API_KEY": "SNTLasterKEYmnbvcxzlkjhgfdsapoiu",
    "ASTER_API_SECRET": "SNTLasterSECRETpoiuytrewqlkjhgfd",
    "ASTER_PRIVATE_KEY": ASTER_PRIVATE_KEY,
}
# Public addresses, not secrets (they travel in every Aster request), but needed for API-wallet auth.
ADDRESSES: dict[str, str] = {
    "ASTER_USER": "0x" + "a1" * 20,
    "ASTER_SIGNER": address_of(ASTER_PRIVATE_KEY),
}
YAML_SENTINELS: dict[str, str] = {
    "api_public_key_b64": "SNTLyamlBPpublicKEYb64zzzzzzzzzz=",
    "api_secret_key_b64": "SNTLyamlBPsecretKEYb64yyyyyyyyyy=",
    "api_key": "SNTLyamlASTERkeyxxxxxxxxxxxxxxx",
    "api_secret": "SNTLyamlASTERsecretwwwwwwwwwwwww",
}


def needles() -> list[str]:
    """Every secret, and the forms it could leak in (the Aster key without its 0x)."""
    values = [*SENTINELS.values(), *YAML_SENTINELS.values(), ASTER_PRIVATE_KEY.removeprefix("0x")]
    return [v for v in values if v]


def leaks(text: str | bytes) -> list[str]:
    """The sentinels found in `text` (bytes are searched as UTF-8 and as UTF-16, SQLite's other encoding)."""
    if isinstance(text, bytes):
        found = [n for n in needles() if n.encode() in text or n.encode("utf-16-le") in text]
        return found
    return [n for n in needles() if n in text]


def leaks_in_files(*roots: Path, skip: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """Sentinels found in any file under `roots` (journal, its WAL, caches, paper state, logs)."""
    out: dict[str, list[str]] = {}
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in skip:
                found = leaks(path.read_bytes())
                if found:
                    out[str(path)] = found
    return out


def seed_yaml() -> str:
    return (
        "bp:\n"
        f"  api_public_key_b64: \"{YAML_SENTINELS['api_public_key_b64']}\"\n"
        f"  api_secret_key_b64: \"{YAML_SENTINELS['api_secret_key_b64']}\"\n"
        "  symbol: ASTER_USDC_PERP\n"
        "aster:\n"
        f"  api_key: \"{YAML_SENTINELS['api_key']}\"\n"
        f"  api_secret: \"{YAML_SENTINELS['api_secret']}\"\n"
        "  symbol: ASTERUSDT\n"
        "trade:\n"
        "  quantity: 10\n"
        "  offset_percent: 0.2\n"
        "  first_wait_seconds: 0.3\n"
        "  between_legs_sleep: 0\n"
        "  stop_before_funding_minutes: 0\n"
        "  cycle_sleep: 0\n"
    )
