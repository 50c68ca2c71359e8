"""The fixed credentials the simulator accepts (paper mode uses them; they guard nothing real).

They are public on purpose (hence the S105 waivers). Import-light on purpose: the client registry
imports this in paper mode. The Backpack key is the base64 ED25519 public key of the base64 seed
secret; the Aster private key belongs to `signer`. tests/sim/test_credentials.py re-derives both.
"""

from __future__ import annotations

from typing import Final

BINANCE_API_KEY: Final = "bff0212c99c7f611740744196bb07545062bbc3f8e476bef903923af1d8d297a"
BINANCE_API_SECRET: Final = "da7789cf52ed5d4cbbc9849872be220399632508cde4c9a2945a8d204a9cf5a9"  # noqa: S105

OKX_API_KEY: Final = "2afa83b0-59fd-a6a6-9583-b6cf049a380f"
OKX_API_SECRET: Final = "8ADB21F7B18A582DB27B612412AC6169"  # noqa: S105
OKX_PASSPHRASE: Final = "Hedgectl-Sim-1"  # noqa: S105

BACKPACK_API_KEY: Final = "IkNrY4sLxaTkg8tFkmcssNf0e5fPDuocAPmLdNOU6Ro="
BACKPACK_API_SECRET: Final = "s1klBaVu9bU0cyn7Dxo5s0D58HE8nmNbn0eyG8vQxd0="  # noqa: S105

ASTER_API_KEY: Final = "fe1cbd51fba41280fad3dd601b06e9f1daa29a6bf38ce775b524c35a32294d67"
ASTER_API_SECRET: Final = "9d6e4579209cb24af934a0d00c9df8f882051c9884b0ffc6e85dca00f3b17b53"  # noqa: S105
ASTER_USER: Final = "0x231B11A4C4F457B73506c16E07A59d5105A8ABe1"
ASTER_SIGNER: Final = "0x15a42405cb954489B459B4c5A4d0c03327d65B98"
ASTER_PRIVATE_KEY: Final = "0x72b62df4ad5c85c21eecdf8fcee61f77947ad8139303426b2f25769cde2aea0b"


def all_credentials() -> dict[str, dict[str, str]]:
    """The shape `hedgectl sim creds --json` prints."""
    return {
        "binance": {"api_key": BINANCE_API_KEY, "api_secret": BINANCE_API_SECRET},
        "okx": {"api_key": OKX_API_KEY, "api_secret": OKX_API_SECRET, "passphrase": OKX_PASSPHRASE},
        "backpack": {"api_key": BACKPACK_API_KEY, "api_secret": BACKPACK_API_SECRET},
        "aster": {
            "api_key": ASTER_API_KEY,
            "api_secret": ASTER_API_SECRET,
            "user": ASTER_USER,
            "signer": ASTER_SIGNER,
            "private_key": ASTER_PRIVATE_KEY,
        },
    }
