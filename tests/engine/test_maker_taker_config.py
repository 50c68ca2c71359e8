"""The seed's YAML file: loaded as it is, strictly, with flags over it and secrets never shown."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.cli.seed_file import load_seed_file
from hedgectl.engine.maker_taker.config import LoopConfig, OnExit, build_config
from hedgectl.errors import UsageError

SEED_YAML = """\
bp:
  api_public_key_b64: "YOUR_BP_PUBLIC_KEY_BASE64"
  api_secret_key_b64: "YOUR_BP_SECRET_KEY_BASE64"
  base_url: "https://api.backpack.exchange"
  symbol: "ASTER_USDC_PERP"
  window: 5000
  debug: true

aster:
  api_key: "YOUR_ASTER_API_KEY"
  api_secret: "YOUR_ASTER_API_SECRET"
  base_url: "https://fapi.asterdex.com"
  symbol: "ASTERUSDT"
  recv_window: 5000
  debug: false

trade:
  quantity: "10"                    # 交易数量
  offset_percent: 0.2              # 价格偏移百分比
  first_wait_seconds: 10           # 第一腿等待时间
  between_legs_sleep: 20           # 两腿之间等待时间
  stop_before_funding_minutes: 5   # 资金费率前停止交易分钟数
  cycle_sleep: 60                  # 每轮循环间隔秒数
"""
SECRET = "c2VjcmV0LXNlZWQtdmFsdWUtdGhhdC1tdXN0LW5vdC1sZWFr"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hedge_futures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_seed_example_loads_as_it_is(tmp_path: Path) -> None:
    seed = load_seed_file(_write(tmp_path, SEED_YAML))
    assert seed.symbol == "ASTER"
    assert seed.credentials == {}  # the YOUR_... placeholders count as absent
    assert seed.warnings == ()
    config = build_config({}, seed)
    assert config == LoopConfig(
        symbol="ASTER",
        qty=Decimal(10),
        offset_pct=Decimal("0.2"),
        requote_after_s=10.0,
        between_legs_s=20.0,
        stop_before_funding_min=5.0,
        cycle_sleep_s=60.0,
    )


def test_flags_override_the_file(tmp_path: Path) -> None:
    seed = load_seed_file(_write(tmp_path, SEED_YAML))
    config = build_config({"qty": Decimal(20), "requote_after_s": 2.0, "cycles": 3, "offset_pct": None}, seed)
    assert config.qty == Decimal(20)
    assert config.requote_after_s == 2.0
    assert config.cycles == 3
    assert config.offset_pct == Decimal("0.2")  # not given on the command line: the file's value


def test_without_a_file_the_seed_defaults_apply() -> None:
    config = build_config({}, None)
    assert (config.qty, config.offset_pct, config.requote_after_s) == (Decimal(10), Decimal("0.2"), 10.0)
    assert (config.between_legs_s, config.cycle_sleep_s, config.stop_before_funding_min) == (20.0, 60.0, 5.0)
    assert config.on_exit is OnExit.FLATTEN
    assert config.cycles is None
    assert (config.maker_venue, config.taker_venue, config.symbol) == ("backpack", "aster", "ASTER")


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.replace("  cycle_sleep: 60", "  cycle_sleep: 60\n  leverage: 3"), "unknown key trade.leverage"),
        (
            lambda t: t.replace("  cycle_sleep: 60                  # 每轮循环间隔秒数\n", ""),
            "missing key trade.cycle_sleep",
        ),
        (lambda t: t.replace("  window: 5000", "  windwo: 5000"), "unknown key bp.windwo"),
        (lambda t: t + "extra:\n  a: 1\n", "unknown section 'extra'"),
        (lambda t: t[: t.index("trade:")], "missing section 'trade'"),
        (lambda t: t.replace('quantity: "10"', 'quantity: "ten"'), "trade.quantity must be a number"),
        (lambda t: t.replace("offset_percent: 0.2", "offset_percent:"), "trade.offset_percent has no value"),
        # The flag's own rule, told with the file's key: 0 and -3 alike, not "--qty" nor "non-negative".
        (lambda t: t.replace('quantity: "10"', "quantity: 0"), "trade.quantity must be a positive number"),
        (lambda t: t.replace('quantity: "10"', "quantity: -3"), "trade.quantity must be a positive number"),
        (lambda t: t.replace("offset_percent: 0.2", "offset_percent: 60"), "trade.offset_percent must be above 0"),
        (lambda t: t.replace("cycle_sleep: 60", "cycle_sleep: -1"), "trade.cycle_sleep must be between 0 and"),
        (lambda t: t.replace('symbol: "ASTERUSDT"', 'symbol: "BTCUSDT"'), "name different assets"),
        (lambda t: t.replace("bp:\n", "bp: [\n"), "not valid YAML"),
        (lambda t: "just a string\n", "expected the sections"),
    ],
)
def test_a_bad_file_is_a_one_line_usage_error(tmp_path: Path, edit: object, fragment: str) -> None:
    path = _write(tmp_path, edit(SEED_YAML))  # type: ignore[operator]
    with pytest.raises(UsageError) as info:
        build_config({}, load_seed_file(path))
    assert fragment in str(info.value)
    assert str(info.value).startswith(str(path))  # the file named
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        ({"offset_pct": Decimal(0)}, "--offset-pct must be above 0 and below 50"),
        ({"offset_pct": Decimal(50)}, "--offset-pct must be above 0 and below 50"),
        ({"offset_pct": Decimal(-1)}, "--offset-pct"),
        ({"qty": Decimal(0)}, "--qty must be a positive number"),
        ({"cycles": 0}, "--cycles must be at least 1"),
        ({"maker_venue": "aster"}, "two different venues"),
    ],
)
def test_bad_values_are_refused(flags: dict[str, object], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        build_config(flags, None)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="config file not found"):
        load_seed_file(tmp_path / "nope.yaml")


def test_credentials_are_kept_secret(tmp_path: Path) -> None:
    text = SEED_YAML.replace("YOUR_BP_SECRET_KEY_BASE64", SECRET).replace("YOUR_BP_PUBLIC_KEY_BASE64", "pub" + SECRET)
    seed = load_seed_file(_write(tmp_path, text))
    assert seed.credentials["backpack"]["api_secret"].get_secret_value() == SECRET
    assert SECRET not in repr(seed)
    assert SECRET not in str(seed)


def test_a_secret_of_the_wrong_type_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = SEED_YAML.replace('api_secret: "YOUR_ASTER_API_SECRET"', "api_secret: 1234567890987654321")
    with pytest.raises(UsageError) as info:
        load_seed_file(_write(tmp_path, text))
    assert "aster.api_secret must be a string" in str(info.value)
    assert "1234567890987654321" not in str(info.value)


def test_an_unofficial_base_url_or_window_is_reported(tmp_path: Path) -> None:
    text = SEED_YAML.replace("https://fapi.asterdex.com", "https://example.invalid").replace(
        "window: 5000", "window: 10000"
    )
    seed = load_seed_file(_write(tmp_path, text))
    assert any("aster.base_url" in w for w in seed.warnings)
    assert any("bp.window" in w for w in seed.warnings)


REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hedge_futures.example.yaml"


def test_the_repos_example_file_holds_every_key_with_the_seeds_defaults_and_no_real_keys() -> None:
    import yaml

    from hedgectl.cli.seed_file import SCHEMA as _SCHEMA

    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert {section: set(body) for section, body in document.items()} == {s: set(k) for s, k in _SCHEMA.items()}
    seed = load_seed_file(EXAMPLE)  # the real --config parser
    assert build_config({}, seed) == LoopConfig()
    assert seed.credentials == {}  # YOUR_... placeholders count as absent
    assert seed.warnings == ()
    secrets = [v for s, keys in _SCHEMA.items() for k, (_, secret) in keys.items() if secret for v in [document[s][k]]]
    assert secrets
    assert all(str(v).startswith("YOUR_") for v in secrets)


def test_the_readme_documents_every_key_of_the_config_file() -> None:
    from hedgectl.cli.seed_file import SCHEMA as _SCHEMA

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The bp-aster `--config` file") :]
    missing = [f"{s}.{k}" for s, keys in _SCHEMA.items() for k in keys if f"`{s}.{k}`" not in section]
    assert not missing
    assert "examples/hedge_futures.example.yaml" in section
