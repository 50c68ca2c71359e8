"""Aster signing: documented known answers, ccxt's own signing of the same request, credential selection."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qsl

import ccxt
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.venues.aster import auth
from hedgectl.venues.aster.client import NonceSource
from hedgectl.venues.config import VenueConfig

# Binance USDⓈ-M / Aster V1 doc vector (reference §2.2).
DOC_API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_TOTAL = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
)
DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
MIXED_SIGNATURE = "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"

# Aster V3 doc demo credentials and message (reference §5.2).
USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
SIGNER = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
PRIVATE_KEY = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
DOC_NONCE = 1748310859508867
DOC_PARAMS = [
    ("symbol", "ASTERUSDT"),
    ("type", "LIMIT"),
    ("side", "BUY"),
    ("timeInForce", "GTC"),
    ("quantity", "20"),
    ("price", "0.5"),
]
DOC_MSG = (
    "symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5&nonce=1748310859508867"
    f"&user={USER}&signer={SIGNER}"
)
DOC_V3_SIGNATURE = (
    "0x0a56c5923ebf3524475c5f631940ec4c0e41dbd300ad28198d1915d8f3ca49ce26fd1aeb8b0c3079133595da0de38322ae7e86"
    "0e0c76d032c4a491d27c1430b01C"
)


def _config(mode: Mode = Mode.LIVE, **creds: str) -> VenueConfig:
    return VenueConfig(
        name="aster",
        mode=mode,
        base_url="https://fapi.asterdex.com",
        credentials={k: SecretStr(v) for k, v in creds.items()},
    )


def _ccxt_aster() -> ccxt.aster:
    exchange = ccxt.aster({"privateKey": PRIVATE_KEY, "options": {"signerAddress": SIGNER}})
    # ccxt sends the address of privateKey as `user`; pre-seed its cache so it sends the doc's main account.
    exchange.options["cachedWalletAddress"] = USER
    exchange.options["privateKeyHashForCachedWalletAddress"] = exchange.hash(
        exchange.encode(PRIVATE_KEY), "keccak", "hex"
    )
    return exchange


# --- V1 HMAC ----------------------------------------------------------------------------------


def test_v1_signature_matches_the_documented_vector() -> None:
    assert auth.hmac_signature(DOC_SECRET, DOC_TOTAL) == DOC_SIGNATURE


def test_v1_signature_over_query_plus_body_joins_them_without_an_ampersand() -> None:
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    assert auth.hmac_signature(DOC_SECRET, query, body) == MIXED_SIGNATURE


def test_v1_signature_matches_the_spot_doc_vector() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    msg = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    )
    assert auth.hmac_signature(secret, msg) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_sign_v1_appends_recv_window_timestamp_and_signature_and_sets_the_key_header() -> None:
    params = [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("quantity", "1"), ("price", "9000")]
    params.append(("timeInForce", "GTC"))
    signed = auth.sign_v1(DOC_API_KEY, DOC_SECRET, params, timestamp_ms=1591702613943, recv_window_ms=5000)
    assert signed.params == f"{DOC_TOTAL}&signature={DOC_SIGNATURE}"
    assert signed.headers == {"X-MBX-APIKEY": DOC_API_KEY}


def test_sign_v1_agrees_with_ccxt_binance_signing_of_the_same_request() -> None:
    exchange = ccxt.binanceusdm({"apiKey": DOC_API_KEY, "secret": DOC_SECRET})
    exchange.milliseconds = lambda: 1591702613943
    sent = exchange.sign("order", ["fapiPrivate"], "POST", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"})
    payload, _, ccxt_signature = sent["body"].rpartition("&signature=")
    assert auth.hmac_signature(DOC_SECRET, payload) == ccxt_signature
    assert sent["headers"]["X-MBX-APIKEY"] == DOC_API_KEY


# --- V3 EIP-712 -------------------------------------------------------------------------------


def test_v3_message_matches_the_documented_message() -> None:
    assert auth.v3_message(DOC_PARAMS, nonce_us=DOC_NONCE, user=USER, signer=SIGNER) == DOC_MSG


def test_v3_signature_matches_the_documented_demo_signature() -> None:
    assert auth.eip712_signature(PRIVATE_KEY, DOC_MSG).lower() == DOC_V3_SIGNATURE.lower()


def test_sign_v3_appends_the_signature_last_and_sends_no_key_header() -> None:
    signed = auth.sign_v3(DOC_PARAMS, nonce_us=DOC_NONCE, user=USER, signer=SIGNER, private_key=PRIVATE_KEY)
    assert signed.params.lower() == f"{DOC_MSG}&signature={DOC_V3_SIGNATURE}".lower()
    assert signed.headers == {}


def test_v3_signature_recovers_to_the_signer_address() -> None:
    signature = auth.eip712_signature(PRIVATE_KEY, "symbol=BTCUSDT&nonce=1")
    assert Account.recover_message(_typed("symbol=BTCUSDT&nonce=1"), signature=signature) == SIGNER


def test_v3_signature_agrees_with_ccxt_signing_the_documented_message() -> None:
    exchange = _ccxt_aster()
    encoded = exchange.eth_encode_structured_data(
        auth.EIP712_DOMAIN, {"Message": [{"name": "msg", "type": "string"}]}, {"msg": DOC_MSG}
    )
    assert auth.eip712_signature(PRIVATE_KEY, DOC_MSG).lower() == exchange.sign_message(encoded, PRIVATE_KEY).lower()


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_v3_signing_agrees_with_ccxt_aster_on_a_whole_request(method: str) -> None:
    exchange = _ccxt_aster()
    exchange.milliseconds = lambda: 1748310859508
    params = {"symbol": "ASTERUSDT", "side": "BUY", "type": "LIMIT", "quantity": "20", "price": "0.5"}
    sent = exchange.sign("v3/order", ["fapiPrivate"], method, params)
    wire = sent["url"].split("?", 1)[1] if method == "GET" else sent["body"]
    msg, _, ccxt_signature = wire.rpartition("&signature=")
    # ccxt puts nonce/user/signer first; Aster's doc puts them last. Both are signed as sent.
    assert msg == auth.encode_params(parse_qsl(msg))
    assert auth.eip712_signature(PRIVATE_KEY, msg).lower() == ccxt_signature.lower()


# --- V3 signer vs. eth_account (the reference implementation it replaced) --------------------

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_EIP712_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Message": [{"name": "msg", "type": "string"}],
}
# Every spelling eth_account accepts for a 32-byte key and address_of/eip712_signature must accept too.
def _typed(msg: str) -> Any:
    """Aster's EIP-712 message, encoded by eth_account (the reference implementation)."""
    return encode_typed_data(
        full_message={"types": _EIP712_TYPES, "primaryType": "Message", "domain": auth.EIP712_DOMAIN,
                      "message": {"msg": msg}}
    )


_KEY_SPELLINGS = [lambda k: f"0x{k:064x}", lambda k: f"{k:064x}", lambda k: f"0x{k:064X}", lambda k: f"0X{k:064x}"]
private_keys = st.builds(
    lambda k, spell: spell(k), st.integers(min_value=1, max_value=CURVE_ORDER - 1), st.sampled_from(_KEY_SPELLINGS)
)
messages = st.one_of(
    st.text(),
    st.text(alphabet="&=%+ ?#;:/,", max_size=30),
    st.text(min_size=500, max_size=5000),
    st.from_regex(r"(\w{1,12}=[^&]{0,20}&){0,12}nonce=\d{16}", fullmatch=True),
)


def _eth_account_signature(private_key: str, msg: str) -> str:
    signed = Account.sign_message(_typed(msg), private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


@settings(max_examples=300, deadline=None)
@given(private_key=private_keys, msg=messages)
@example(private_key=PRIVATE_KEY, msg="")
@example(private_key=PRIVATE_KEY, msg="&")
@example(private_key=PRIVATE_KEY, msg="=")
@example(private_key=PRIVATE_KEY, msg="x" * 100_000)
@example(private_key=PRIVATE_KEY, msg="qty=1&note=über 🚀 中文\u0000")
@example(private_key=f"0x{1:064x}", msg=DOC_MSG)
@example(private_key=f"0x{CURVE_ORDER - 1:064x}", msg=DOC_MSG)
def test_v3_signature_is_eth_accounts_byte_for_byte(private_key: str, msg: str) -> None:
    assert auth.eip712_signature(private_key, msg) == _eth_account_signature(private_key, msg)


@settings(max_examples=200, deadline=None)
@given(private_key=private_keys)
@example(private_key=PRIVATE_KEY)
def test_address_of_is_eth_accounts_checksummed_address(private_key: str) -> None:
    assert auth.address_of(private_key) == Account.from_key(private_key).address


def test_v3_signatures_carry_both_recovery_ids_as_27_and_28() -> None:
    vs = {auth.eip712_signature(PRIVATE_KEY, f"nonce={n}")[-2:] for n in range(32)}
    assert vs == {"1b", "1c"}


@pytest.mark.parametrize(
    "bad_key",
    [
        "",
        "0x",
        "0x1234",
        "0x" + "ab" * 31 + "a",  # 63 digits
        "0x" + "ab" * 32 + "a",  # 65 digits
        "ab" * 33,
        "0x" + "zz" * 32,
        "0x" + "ab" * 31 + "g1",
        " 0x" + "ab" * 32,
        "0x" + "١" * 64,  # Arabic-Indic digits, which int(..., 16) would accept
        "0x" + "00" * 32,
        f"0x{CURVE_ORDER:064x}",
        f"0x{CURVE_ORDER + 1:064x}",
        "0x" + "ff" * 32,
    ],
)
def test_a_malformed_key_raises_value_error_without_the_key_in_it(bad_key: str) -> None:
    for call in (lambda: auth.address_of(bad_key), lambda: auth.eip712_signature(bad_key, DOC_MSG)):
        with pytest.raises(ValueError, match=r"^not a 32-byte hex secp256k1 private key$") as caught:
            call()
        if bad_key.removeprefix("0x"):
            assert bad_key.removeprefix("0x") not in str(caught.value)
            assert bad_key.removeprefix("0x") not in repr(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__


def test_importing_aster_auth_does_not_import_eth_account() -> None:
    code = "import sys, json, hedgectl.venues.aster.auth; print(json.dumps('eth_account' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) is False


def test_encode_params_escapes_like_encode_uri_component() -> None:
    assert auth.encode_params([("a", "x y"), ("b", "1,2"), ("c", "(ok)*!~'.-_")]) == "a=x%20y&b=1%2C2&c=(ok)*!~'.-_"


# --- credentials ------------------------------------------------------------------------------


def test_v3_keys_win_when_user_signer_and_private_key_are_all_set() -> None:
    keys = auth.keys_from_config(
        _config(user=USER, signer=SIGNER, private_key=PRIVATE_KEY, api_key="k", api_secret="s")
    )
    assert isinstance(keys, auth.V3Keys)
    assert (keys.user, keys.signer) == (USER, SIGNER)


def test_v1_keys_are_used_when_only_api_key_and_secret_are_set() -> None:
    keys = auth.keys_from_config(_config(api_key="k", api_secret="s"))
    assert isinstance(keys, auth.V1Keys)


def test_missing_credentials_name_every_variable_to_set() -> None:
    with pytest.raises(ConfigError) as caught:
        auth.keys_from_config(_config(user=USER, api_key="k"))
    text = str(caught.value)
    for name in ("ASTER_SIGNER", "ASTER_PRIVATE_KEY", "ASTER_API_SECRET"):
        assert name in text
    assert "ASTER_USER," not in text
    assert "ASTER_API_KEY," not in text


def test_testnet_refuses_legacy_keys_and_says_it_needs_an_api_wallet() -> None:
    with pytest.raises(ConfigError, match="API-wallet"):
        auth.keys_from_config(_config(Mode.TESTNET, api_key="k", api_secret="s"))
    keys = auth.keys_from_config(_config(Mode.TESTNET, user=USER, signer=SIGNER, private_key=PRIVATE_KEY))
    assert isinstance(keys, auth.V3Keys)


def test_a_private_key_of_another_wallet_is_refused_without_echoing_it() -> None:
    other = "0x" + "11" * 32
    with pytest.raises(ConfigError, match="ASTER_SIGNER") as caught:
        auth.keys_from_config(_config(user=USER, signer=SIGNER, private_key=other))
    assert "11" * 32 not in str(caught.value)


@pytest.mark.parametrize("bad_key", ["0x1234", "not-hex-at-all-" * 4, "0x" + "00" * 32])
def test_a_malformed_private_key_is_refused_without_echoing_it(bad_key: str) -> None:
    with pytest.raises(ConfigError, match="ASTER_PRIVATE_KEY") as caught:
        auth.keys_from_config(_config(user=USER, signer=SIGNER, private_key=bad_key))
    assert bad_key not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_malformed_address_is_refused() -> None:
    with pytest.raises(ConfigError, match="ASTER_USER"):
        auth.keys_from_config(_config(user="0x123", signer=SIGNER, private_key=PRIVATE_KEY))


def test_keys_repr_hides_secrets() -> None:
    v3 = auth.keys_from_config(_config(user=USER, signer=SIGNER, private_key=PRIVATE_KEY))
    v1 = auth.keys_from_config(_config(api_key=DOC_API_KEY, api_secret=DOC_SECRET))
    assert PRIVATE_KEY[2:] not in repr(v3)
    assert DOC_SECRET not in repr(v1)
    assert DOC_API_KEY not in repr(v1)


def test_nonces_strictly_increase_even_when_the_clock_stands_still_or_steps_back() -> None:
    nonces = NonceSource()
    issued = [nonces.next(1_000_000), nonces.next(1_000_000), nonces.next(999_000), nonces.next(2_000_000)]
    assert issued == [1_000_000, 1_000_001, 1_000_002, 2_000_000]


def test_hmac_helper_is_plain_hmac_sha256_hex() -> None:
    expected = hmac.new(b"secret", b"a=1b=2", hashlib.sha256).hexdigest()
    assert auth.hmac_signature("secret", "a=1", "b=2") == expected


def test_the_testnet_signs_on_chain_714_and_live_on_1666_unless_overridden() -> None:
    creds = {"user": USER, "signer": SIGNER, "private_key": PRIVATE_KEY}
    assert auth.keys_from_config(_config(Mode.LIVE, **creds)).chain_id == 1666  # type: ignore[union-attr]
    assert auth.keys_from_config(_config(Mode.PAPER, **creds)).chain_id == 1666  # type: ignore[union-attr]
    assert auth.keys_from_config(_config(Mode.TESTNET, **creds)).chain_id == 714  # type: ignore[union-attr]
    override = VenueConfig(
        name="aster", mode=Mode.TESTNET, base_url="https://fapi.asterdex-testnet.com",
        credentials={k: SecretStr(v) for k, v in creds.items()}, chain_id=1666,
    )
    assert auth.keys_from_config(override).chain_id == 1666  # type: ignore[union-attr]


def test_a_chain_714_signature_is_eth_accounts_and_recovers_to_the_signer_on_714_only() -> None:
    domain = {**auth.EIP712_DOMAIN, "chainId": 714}
    typed = encode_typed_data(
        full_message={"types": _EIP712_TYPES, "primaryType": "Message", "domain": domain, "message": {"msg": DOC_MSG}}
    )
    reference = "0x" + bytes(Account.sign_message(typed, private_key=PRIVATE_KEY).signature).hex()
    ours = auth.eip712_signature(PRIVATE_KEY, DOC_MSG, 714)
    assert ours == reference
    assert ours != auth.eip712_signature(PRIVATE_KEY, DOC_MSG)
    signed = auth.sign_v3(DOC_PARAMS, nonce_us=DOC_NONCE, user=USER, signer=SIGNER, private_key=PRIVATE_KEY,
                          chain_id=714)
    assert signed.params.endswith("&signature=" + ours)
    from hedgectl.sim.dialects.aster import recover_signer

    assert recover_signer(DOC_MSG, ours, 714) == SIGNER
    assert recover_signer(DOC_MSG, ours) != SIGNER  # the simulator as mainnet refuses a testnet signature
