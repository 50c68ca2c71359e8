"""Fuzzed command lines, .env files and bp-aster YAML: exit 2 with one line on stderr, never a traceback.

In-process through `hedgectl.cli.app.main` (fast); every input is built to be invalid, so nothing runs. As a
backstop the simulator URL points at a closed loopback port: a valid input slipping through could not trade.
"""

from __future__ import annotations

import json
import os
import string
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hedgectl.cli import output, render
from hedgectl.cli.app import main
from hedgectl.cli.seed_file import parse_seed
from hedgectl.engine.maker_taker.config import build_config
from hedgectl.errors import UsageError

EXAMPLES = int(os.environ.get("HEDGECTL_FUZZ_EXAMPLES", "60"))  # raise it for a deeper run
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLOSED_PORT_URL = "http://127.0.0.1:9"
pytestmark = pytest.mark.usefixtures("one_click_tree")  # see tests/reliability/conftest.py


@pytest.fixture(autouse=True)
def _no_venue_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_URL", CLOSED_PORT_URL)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """One in-process invocation with fresh output state (the consoles bind to capsys's streams)."""
    capsys.readouterr()
    render.use_consoles(None, None)
    output.STATE.json_mode = output.STATE.emitted = False
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


# Warnings the settings loader may print before the error (python-dotenv names a line it cannot parse).
SETTINGS_WARNINGS = ("python-dotenv could not parse statement",)


def assert_usage_error(code: int, out: str, err: str, *, json_mode: bool = False) -> None:
    assert "Traceback" not in err + out
    assert code == 2, (code, err)
    lines = [line for line in err.strip().splitlines() if not line.startswith(SETTINGS_WARNINGS)]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "internal error" not in err
    if json_mode:
        assert json.loads(out) == {"ok": False, "error": lines[0].removeprefix("error: "), "exit_code": 2}
    else:
        assert out == ""


def _finite_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


junk_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=0, max_size=12
)
not_a_number = junk_text.filter(lambda t: _finite_decimal(t) is None)
not_positive = st.one_of(not_a_number, st.decimals(max_value=0, allow_nan=False, allow_infinity=False).map(str))

# option -> values it must refuse (each is checked before any settings, session or venue is touched)
BOOTSTRAP_BAD: dict[str, Any] = {
    "--notional": st.one_of(not_positive, st.integers(min_value=10**6, max_value=10**12).map(str)),
    "--hold": st.one_of(not_a_number, st.integers(max_value=-1).map(str), st.integers(min_value=86_401).map(str)),
    "--max-slippage-bps": not_positive,
    "--max-latency-ms": not_positive,
    "--max-loss-pct": not_positive,
    "--long": junk_text.filter(lambda t: t.strip().lower() not in ("binance", "okx", "backpack", "aster")),
    "--symbol": st.text(alphabet="!@#$%^&*()= ,.;'\"", min_size=1, max_size=8),
}
LOOP_BAD: dict[str, Any] = {
    "--qty": not_positive,
    "--offset-pct": st.one_of(not_positive, st.integers(min_value=50, max_value=10**6).map(str)),
    "--requote-after": st.one_of(not_a_number, st.integers(max_value=-1).map(str)),
    "--between-legs": st.one_of(not_a_number, st.integers(min_value=7 * 86_400 + 1).map(str)),
    "--cycle-sleep": st.integers(max_value=-1).map(str),
    "--stop-before-funding": not_a_number,
    "--cycles": st.one_of(not_a_number, st.integers(max_value=0).map(str)),
    "--on-exit": junk_text.filter(lambda t: t not in ("flatten", "keep-hedged")),
    "--maker": junk_text.filter(lambda t: t.strip().lower() not in ("binance", "okx", "backpack", "aster")),
}


@FUZZ
@given(data=st.data(), json_mode=st.booleans())
def test_a_bad_bootstrap_value_is_one_line_and_exit_2(
    data: st.DataObject, json_mode: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    option = data.draw(st.sampled_from(sorted(BOOTSTRAP_BAD)))
    value = data.draw(BOOTSTRAP_BAD[option])
    argv = ["bootstrap", f"{option}={value}", "--yes"] + (["--json"] if json_mode else [])
    code, out, err = run_main(argv, capsys)
    # A click-level error (say, a value it cannot even read) comes before --json is known: no document then.
    assert_usage_error(code, out, err, json_mode=json_mode and out != "")


@FUZZ
@given(data=st.data())
def test_a_bad_loop_value_is_one_line_and_exit_2(data: st.DataObject, capsys: pytest.CaptureFixture[str]) -> None:
    option = data.draw(st.sampled_from(sorted(LOOP_BAD)))
    value = data.draw(LOOP_BAD[option])
    code, out, err = run_main(["bp-aster", "loop", f"{option}={value}", "--yes"], capsys)
    assert_usage_error(code, out, err)


CARRY_BAD: dict[str, Any] = {
    "--notional": not_positive,
    "--until": st.one_of(
        junk_text.filter(lambda t: not t.strip().rstrip("smhdSMHD").replace(".", "", 1).isdigit()),
        st.integers(max_value=0).map(str),
        st.integers(min_value=367, max_value=10**6).map(lambda d: f"{d}d"),
    ),
    "--max-loss-pct": not_positive,
    "--min-liq-distance-pct": not_positive,
    "--max-delta-pct": not_positive,
    "--max-basis-bps": not_positive,
    "--refresh-s": st.one_of(not_a_number, st.sampled_from(["0", "0.01", "-1", "3601"])),
    "--on-exit": junk_text.filter(lambda t: t not in ("flatten", "keep")),
    "--notify": st.sampled_from(["ftp://h/x", "not a url", "http://", "file:///etc/passwd", "javascript:x"]),
    "--short": junk_text.filter(lambda t: t.strip().lower() not in ("binance", "okx", "backpack", "aster")),
}


@FUZZ
@given(data=st.data(), json_mode=st.booleans())
def test_a_bad_carry_value_is_one_line_and_exit_2(
    data: st.DataObject, json_mode: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    option = data.draw(st.sampled_from(sorted(CARRY_BAD)))
    value = data.draw(CARRY_BAD[option])
    argv = ["carry", f"{option}={value}", "--yes"] + (["--json"] if json_mode else [])
    code, out, err = run_main(argv, capsys)
    assert_usage_error(code, out, err, json_mode=json_mode and out != "")


KNOWN = ["--yes", "--json", "--dry-run", "--all", "-y", "--help-me", "-x", "--", "-"]


@FUZZ
@given(
    command=st.sampled_from(
        [
            [],
            ["bootstrap"],
            ["flatten"],
            ["bp-aster", "loop"],
            ["history"],
            ["prices"],
            ["scan"],
            ["connect"],
            ["sim", "serve"],
            ["bp-aster"],
            ["history", "show"],
            ["carry"],
            ["breaker", "status"],
        ]
    ),
    noise=st.lists(st.one_of(st.sampled_from(KNOWN), junk_text), max_size=4),
    unknown=st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=10),
)
def test_an_unknown_option_anywhere_is_one_line_and_exit_2(
    command: list[str], noise: list[str], unknown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the fix in cli/app.py every click usage error was `internal error: NoSuchOption`, exit 1."""
    bogus = f"--zz{unknown}"
    argv = [*command, *noise, bogus]
    code, out, err = run_main(argv, capsys)
    # --json anywhere before `--` asks for the error as a JSON document too
    before_dashes = argv[: argv.index("--")] if "--" in argv else argv
    assert_usage_error(code, out, err, json_mode="--json" in before_dashes)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["bootstrap", "--nope"], "No such option: --nope"),
        (["flatten", "--rounds", "0"], "--rounds"),
        (["flatten", "--rounds", "x"], "--rounds"),
        (["bootstrap", "extra"], "unexpected extra argument"),
        (["nosuchcmd"], "No such command"),
        (["bp-aster", "loop", "--requote-after", "soon"], "--requote-after"),
        (["--mode"], "requires an argument"),
    ],
)
def test_click_usage_errors_name_the_problem_in_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(argv, capsys)
    assert_usage_error(code, out, err)
    assert fragment in err


def test_a_command_group_without_its_command_shows_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["bp-aster"], capsys)
    assert code == 2
    assert "loop" in out + err
    assert "internal error" not in err
    assert "Traceback" not in err


# -- .env files ---------------------------------------------------------------------------------------

SETTING_NAMES = [
    "HEDGECTL_MODE",
    "HEDGECTL_SIM_SEED",
    "HEDGECTL_MAX_NOTIONAL_USDT",
    "HEDGECTL_HTTP_TIMEOUT_S",
    "HEDGECTL_RECV_WINDOW_MS",
    "HEDGECTL_MARKET_CACHE_TTL_S",
    "BINANCE_ENV",
    "OKX_ENV",
    "HEDGECTL_HOME",
    "BINANCE_API_KEY",
    "OKX_PASSPHRASE",
    "ASTER_PRIVATE_KEY",
]
env_value = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\n\r/~\\"), max_size=16
)
env_line = st.one_of(
    st.builds(
        lambda k, v, q: f"{k}={q}{v}{q}", st.sampled_from(SETTING_NAMES), env_value, st.sampled_from(["", "'", '"'])
    ),
    junk_text.map(lambda t: t.replace("\n", " ")),
    st.just("export HEDGECTL_MODE=paper"),
)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(lines=st.lists(env_line, min_size=1, max_size=6))
def test_any_env_file_is_read_or_refused_in_one_line(lines: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`history` reads the settings and the journal only: 0 when the file is fine, else 2 and one line."""
    Path(".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_main(["history", "--json"], capsys)
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        assert_usage_error(code, out, err, json_mode=True)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(raw=st.binary(max_size=64))
def test_an_env_file_of_random_bytes_is_read_or_refused_in_one_line(
    raw: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    assume(b"HEDGECTL_HOME" not in raw)
    Path(".env").write_bytes(raw)
    code, _out, err = run_main(["history", "--json"], capsys)
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert code in (0, 2), (code, err)


def test_an_invalid_setting_is_named_without_echoing_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_text("HEDGECTL_HTTP_TIMEOUT_S=s3cr3t-looking-value\n", encoding="utf-8")
    code, out, err = run_main(["history"], capsys)
    assert_usage_error(code, out, err)
    assert "HEDGECTL_HTTP_TIMEOUT_S" in err
    assert "s3cr3t-looking-value" not in err


# -- bp-aster YAML ---------------------------------------------------------------------------------------

yaml_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    junk_text,
    st.sampled_from(["YOUR_KEY", "0.2", "-1", "1e400", "nan", ".inf", "10"]),
)
yaml_keys = st.sampled_from(
    [
        "bp",
        "aster",
        "trade",
        "quantity",
        "offset_percent",
        "first_wait_seconds",
        "between_legs_sleep",
        "stop_before_funding_minutes",
        "cycle_sleep",
        "symbol",
        "api_key",
        "api_secret",
        "base_url",
        "window",
        "recv_window",
        "debug",
        "extra",
    ]
)
yaml_doc = st.recursive(
    yaml_scalar,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(yaml_keys, children, max_size=6)),
    max_leaves=12,
)


def _would_run(document: Any, path: Path) -> bool:
    try:
        build_config({}, parse_seed(document, path))
    except UsageError:
        return False
    return True


@FUZZ
@given(document=yaml_doc)
def test_any_yaml_structure_is_refused_in_one_line(document: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path("seed.yaml")
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assume(not _would_run(yaml.safe_load(path.read_text(encoding="utf-8")), path))
    code, out, err = run_main(["bp-aster", "loop", "--config", str(path), "--yes"], capsys)
    assert_usage_error(code, out, err)


@FUZZ
@given(text=st.text(max_size=80))
def test_any_yaml_text_is_refused_in_one_line(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path("seed.yaml")
    try:
        path.write_text(text, encoding="utf-8")
    except UnicodeEncodeError:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        document = None
    assume(not _would_run(document, path))
    code, out, err = run_main(["bp-aster", "loop", "--config", str(path), "--yes"], capsys)
    assert_usage_error(code, out, err)


def test_fuzz_inputs_cannot_reach_a_venue() -> None:
    assert os.environ["HEDGECTL_SIM_URL"] == CLOSED_PORT_URL
