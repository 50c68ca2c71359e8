"""Load a page in Debian's headless Chromium through the DevTools protocol: its console errors, the requests it
made, how many charts it drew, and (optionally) a screenshot. The network goes through a proxy that does not
exist, so a page that needed the internet would fail to draw and show its request here."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.waiting import eventually, eventually_async

INSTALL_HINT = (
    "Chromium not found: `apt-get install -y chromium` (Debian's package) runs this test; .ci/run installs it"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Nothing reaches the network: every request would go to a closed port on loopback.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]
STEP_TIMEOUT_S = 30.0


def chromium() -> str:
    """Chromium's path; skip (fail in CI, which must install it) when there is none."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    return exe


@dataclass
class PageLoad:
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, error log entries
    warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    charts_drawn: int = 0
    charts_embedded: int = 0


def load_page(path: Path, *, screenshot: Path | None = None, width: int = 1280) -> PageLoad:
    """Open `path` in a fresh headless Chromium; wait until every embedded chart is drawn (bounded)."""
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="hedgectl-chromium-") as profile:
        proc = subprocess.Popen(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = _devtools_port(Path(profile), proc)
            return asyncio.run(_drive(port, path, screenshot, width))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"

    def port() -> int | None:
        if proc.poll() is not None:
            raise AssertionError(f"chromium exited with {proc.returncode} before it was ready")
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        return None

    return eventually(port, STEP_TIMEOUT_S, 0.05, what="chromium opening its DevTools port")


class _Session:
    def __init__(self, ws: Any, load: PageLoad) -> None:
        self.ws = ws
        self.load = load
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.loaded = asyncio.Event()

    async def read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message:
                future = self.waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
                continue
            self.event(message["method"], message.get("params", {}))

    def event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            if params["type"] in ("error", "assert"):
                self.load.errors.append(f"console.{params['type']}: {text}")
            elif params["type"] == "warning":
                self.load.warnings.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.load.errors.append(f"exception: {details.get('exception', {}).get('description') or details['text']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.load.errors.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        elif method == "Network.requestWillBeSent":
            self.load.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded.set()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[call_id] = future
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, STEP_TIMEOUT_S)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


async def _drive(port: int, path: Path, screenshot: Path | None, width: int) -> PageLoad:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=STEP_TIMEOUT_S) as http:
        targets = (await http.get("/json/list")).json()
    page = next(t for t in targets if t["type"] == "page")
    load = PageLoad()
    async with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=STEP_TIMEOUT_S) as ws:
        session = _Session(ws, load)
        reader = asyncio.create_task(session.read())
        try:
            for domain in ("Runtime", "Log", "Network", "Page"):
                await session.call(f"{domain}.enable")
            await session.call("Page.navigate", url=path.resolve().as_uri())
            await asyncio.wait_for(session.loaded.wait(), STEP_TIMEOUT_S)
            load.charts_embedded = await session.evaluate("document.querySelectorAll('script.hedgectl-figure').length")

            async def all_drawn() -> bool:
                load.charts_drawn = await session.evaluate("document.querySelectorAll('.js-plotly-plot').length")
                return load.charts_drawn >= load.charts_embedded

            # Fewer charts than embedded after the bound: the caller's assertion on the counts says so.
            with contextlib.suppress(AssertionError):
                await eventually_async(all_drawn, STEP_TIMEOUT_S, 0.05)
            if screenshot is not None:
                height = await session.evaluate("document.documentElement.scrollHeight")
                await session.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=int(height),
                    deviceScaleFactor=1,
                    mobile=False,
                )
                shot = await session.call("Page.captureScreenshot", format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
    return load
