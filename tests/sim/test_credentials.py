"""The fixed simulator credentials are internally consistent and import-light."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from eth_account import Account
from nacl.signing import SigningKey

from hedgectl.sim import credentials


def test_backpack_key_is_the_public_key_of_the_seed() -> None:
    seed = base64.b64decode(credentials.BACKPACK_API_SECRET)
    assert len(seed) == 32
    public = bytes(SigningKey(seed).verify_key)
    assert base64.b64encode(public).decode() == credentials.BACKPACK_API_KEY


def test_aster_private_key_belongs_to_the_signer_and_user_differs() -> None:
    assert Account.from_key(credentials.ASTER_PRIVATE_KEY).address == credentials.ASTER_SIGNER
    assert credentials.ASTER_USER.lower() != credentials.ASTER_SIGNER.lower()


def test_all_credentials_has_the_documented_shape() -> None:
    data = credentials.all_credentials()
    assert {k: sorted(v) for k, v in data.items()} == {
        "binance": ["api_key", "api_secret"],
        "okx": ["api_key", "api_secret", "passphrase"],
        "backpack": ["api_key", "api_secret"],
        "aster": ["api_key", "api_secret", "private_key", "signer", "user"],
    }


def test_importing_credentials_loads_no_heavy_modules() -> None:
    code = (
        "import sys, json, hedgectl.sim.credentials;"
        "print(json.dumps([m for m in ('aiohttp', 'eth_account', 'nacl', 'hedgectl.sim.engine') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
