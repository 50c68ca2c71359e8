"""Aster futures credentials and request signing, both generations. Pure: no clock, no I/O, no state.

V1 (legacy API keys, `/fapi/v1`, `/fapi/v2`) is Binance's scheme: `timestamp` and `recvWindow` join the
params, `signature = hex(HMAC-SHA256(secret, query + body))` goes last, and the key travels in
`X-MBX-APIKEY`.

V3 (API wallets, `/fapi/v3`) is an EIP-712 signature: the business params followed by `nonce` (µs),
`user` and `signer` are urlencoded into one string `msg`, wrapped as typed data
`Message{msg: string}` in the `AsterSignTransaction` domain (chain 1666 on mainnet, 714 on the testnet
`fapi.asterdex-testnet.com` per Aster's V3 testnet docs; ASTER_CHAIN_ID overrides), signed with the signer's
secp256k1 key, and `signature=0x<r||s||v>` is appended last. No header carries a key.

The EIP-712 schema is fixed and tiny, so it is hashed here directly (keccak-256 from pycryptodome,
libsecp256k1 through coincurve) rather than through eth_account, whose import alone costs ~0.5 s and
whose signing costs ~0.3 ms a call. The output is eth_account's byte for byte (the tests check it).

The string that is signed is the exact string that is sent (query for GET, form body otherwise), so
parameter order and encoding never differ between the two.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.venues.binance_family.auth import (
    API_KEY_HEADER as API_KEY_HEADER,
)
from hedgectl.venues.binance_family.auth import (
    FORM_CONTENT_TYPE as FORM_CONTENT_TYPE,
)
from hedgectl.venues.binance_family.auth import Params, SignedRequest, encode_params, sign_hmac
from hedgectl.venues.binance_family.auth import hmac_signature as hmac_signature
from hedgectl.venues.config import VenueConfig

if TYPE_CHECKING:
    from coincurve import PrivateKey


MAINNET_CHAIN_ID = 1666
TESTNET_CHAIN_ID = 714  # Aster's V3 testnet docs; ccxt knows only 1666 (its `v3ChainId` option, no testnet)
EIP712_DOMAIN: dict[str, Any] = {
    "name": "AsterSignTransaction",
    "version": "1",
    "chainId": MAINNET_CHAIN_ID,
    "verifyingContract": "0x0000000000000000000000000000000000000000",
}


def chain_id_for(mode: Mode, override: int | None = None) -> int:
    """The EIP-712 chain id to sign with: the override, else 714 on the testnet and 1666 live (and on paper,
    where the simulator stands in for mainnet)."""
    if override is not None:
        return override
    return TESTNET_CHAIN_ID if mode is Mode.TESTNET else MAINNET_CHAIN_ID
_DOMAIN_TYPE = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_MESSAGE_TYPE = b"Message(string msg)"
# secp256k1's group order: a private key is an integer in [1, n).
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_PRIVATE_KEY = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_BAD_KEY = "not a 32-byte hex secp256k1 private key"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def sign_v1(api_key: str, api_secret: str, params: Params, *, timestamp_ms: int, recv_window_ms: int) -> SignedRequest:
    """Add recvWindow, timestamp and the HMAC signature to `params` (Aster's V1 order); key in X-MBX-APIKEY."""
    ordered = [*params, ("recvWindow", str(recv_window_ms)), ("timestamp", str(timestamp_ms))]
    return sign_hmac(api_key, api_secret, ordered)


def v3_message(params: Params, *, nonce_us: int, user: str, signer: str) -> str:
    """The V3 `msg`: business params, then nonce, user and signer, urlencoded in that order."""
    return encode_params([*params, ("nonce", str(nonce_us)), ("user", user), ("signer", signer)])


def eip712_signature(private_key: str, msg: str, chain_id: int = MAINNET_CHAIN_ID) -> str:
    """Sign `msg` as Aster's EIP-712 `Message{msg}` on `chain_id`; return `0x` + hex(r || s || v), v in {1b, 1c}.

    Raises ValueError (without the key in it) for a malformed key.
    """
    struct_hash = _keccak256(_message_type_hash() + _keccak256(msg.encode()))
    digest = _keccak256(b"\x19\x01" + _domain_separator(chain_id) + struct_hash)
    signature = _signing_key(private_key).sign_recoverable(digest, hasher=None)
    # coincurve gives r || s || recovery id (0/1); Ethereum's v is the recovery id + 27.
    return "0x" + signature[:64].hex() + f"{signature[64] + 27:02x}"


def sign_v3(
    params: Params, *, nonce_us: int, user: str, signer: str, private_key: str, chain_id: int = MAINNET_CHAIN_ID
) -> SignedRequest:
    """Append nonce, user, signer and the EIP-712 signature to `params`; no header is needed."""
    msg = v3_message(params, nonce_us=nonce_us, user=user, signer=signer)
    return SignedRequest(params=f"{msg}&signature={eip712_signature(private_key, msg, chain_id)}", headers={})


def is_address(text: str) -> bool:
    """True for a 0x-prefixed 20-byte hex address (any letter case)."""
    return bool(_ADDRESS.match(text))


def address_of(private_key: str) -> str:
    """The checksummed address a secp256k1 private key signs as. Raises ValueError for a malformed key.

    The error never contains the key.
    """
    public = _signing_key(private_key).public_key.format(compressed=False)
    return _checksummed(_keccak256(public[1:])[-20:].hex())


def _keccak256(data: bytes) -> bytes:
    # Lazy: pycryptodome's import (cffi + pycparser, ~25 ms) is paid only by V3 use, never by V1-only commands.
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


# The two constant hashes are computed on first use, not at import, for the same reason.
@functools.cache
def _message_type_hash() -> bytes:
    return _keccak256(_MESSAGE_TYPE)


@functools.cache
def _domain_separator(chain_id: int) -> bytes:
    """hashStruct(EIP712Domain) of EIP712_DOMAIN on `chain_id`, computed once per chain."""
    contract = bytes.fromhex(EIP712_DOMAIN["verifyingContract"][2:])
    return _keccak256(
        _keccak256(_DOMAIN_TYPE)
        + _keccak256(EIP712_DOMAIN["name"].encode())
        + _keccak256(EIP712_DOMAIN["version"].encode())
        + chain_id.to_bytes(32, "big")
        + contract.rjust(32, b"\0")
    )


# Building a coincurve PrivateKey derives its public keys (~40 µs, more than the signature itself), so the
# few keys a process signs with are kept. They are held in memory for the process's life anyway (V3Keys).
@functools.lru_cache(maxsize=8)
def _signing_key(private_key: str) -> PrivateKey:
    match = _PRIVATE_KEY.fullmatch(private_key)
    secret = int(match.group(1), 16) if match else 0
    if not 0 < secret < _CURVE_ORDER:
        raise ValueError(_BAD_KEY) from None
    from coincurve import PrivateKey  # lazy, like _keccak256

    return PrivateKey(secret.to_bytes(32, "big"))


def _checksummed(address_hex: str) -> str:
    """EIP-55: upper-case each hex letter whose nibble in keccak(lower-case hex address) is >= 8."""
    nibbles = _keccak256(address_hex.encode()).hex()
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(address_hex, nibbles, strict=False))


@dataclass(frozen=True)
class V1Keys:
    """Legacy API key + HMAC secret. SecretStr keeps them out of any repr."""

    api_key: SecretStr
    api_secret: SecretStr


@dataclass(frozen=True)
class V3Keys:
    """API-wallet credentials: the main account `user`, the API wallet `signer` and the signer's key."""

    user: str
    signer: str
    private_key: SecretStr
    chain_id: int = MAINNET_CHAIN_ID  # EIP-712 domain chain id (chain_id_for the mode)


Keys = V1Keys | V3Keys

_V3_VARS = {"user": "ASTER_USER", "signer": "ASTER_SIGNER", "private_key": "ASTER_PRIVATE_KEY"}
_V1_VARS = {"api_key": "ASTER_API_KEY", "api_secret": "ASTER_API_SECRET"}


def keys_from_config(config: VenueConfig) -> Keys:
    """Pick the auth scheme: V3 if user+signer+private_key are set, else V1 keys; refuse anything else."""
    if config.has(*_V3_VARS):
        user, signer = config.secret("user").strip(), config.secret("signer").strip()
        for key, value in (("user", user), ("signer", signer)):
            if not is_address(value):
                raise ConfigError(f"aster: {_V3_VARS[key]} is not a 0x-prefixed 40-hex-digit address")
        private_key = config.secret("private_key").strip()
        try:
            derived = address_of(private_key)
        except ValueError:
            raise ConfigError("aster: ASTER_PRIVATE_KEY is not a 32-byte hex secp256k1 key") from None
        if derived.lower() != signer.lower():
            raise ConfigError(
                f"aster: ASTER_PRIVATE_KEY belongs to {derived}, not to ASTER_SIGNER {signer}; "
                "use the API wallet's own private key"
            )
        chain_id = chain_id_for(config.mode, config.chain_id)
        return V3Keys(user=user, signer=signer, private_key=SecretStr(private_key), chain_id=chain_id)
    if config.mode is Mode.TESTNET:
        raise ConfigError(
            "aster: the testnet only accepts API-wallet (V3) auth; set ASTER_USER, ASTER_SIGNER and "
            "ASTER_PRIVATE_KEY from https://www.asterdex-testnet.com/en/api-wallet"
        )
    if config.has(*_V1_VARS):
        return V1Keys(api_key=config.credentials["api_key"], api_secret=config.credentials["api_secret"])
    missing_v3 = [var for key, var in _V3_VARS.items() if not config.has(key)]
    missing_v1 = [var for key, var in _V1_VARS.items() if not config.has(key)]
    raise ConfigError(
        f"aster: missing credentials: set {', '.join(missing_v3)} (API wallet) "
        f"or {', '.join(missing_v1)} (legacy API key)"
    )
