"""Simulator throughput and added latency on loopback.

Starts `hedgectl sim serve` in a subprocess (so client and server do not share a GIL), then:
  1. sends signed Binance market orders from N concurrent keep-alive connections for a few seconds
     and reports orders/s (target >= 2000/s);
  2. sends orders one at a time and reports the round-trip p50/p99 (the latency the simulator adds
     with no injected delay; target p50 < 1 ms), next to a /_sim/health baseline.

Run: python bench/sim_throughput.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

import aiohttp

from hedgectl.sim import credentials

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}


def signed_order(side: str) -> str:
    params = {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "MARKET",
        "quantity": "0.002",
        "timestamp": str(int(time.time() * 1000)),
    }
    payload = urlencode(params)
    signature = hmac.new(credentials.BINANCE_API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}&signature={signature}"


async def throughput(url: str, seconds: float, concurrency: int) -> tuple[int, int, float]:
    done = 0
    failed = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n: int) -> None:
            nonlocal done, failed
            side = "BUY" if n % 2 else "SELL"
            while time.monotonic() < deadline:
                async with session.post(f"{url}/binance/fapi/v1/order", data=signed_order(side), headers=HEADERS) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        failed += 1
                side = "SELL" if side == "BUY" else "BUY"

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.monotonic() - started
    return done, failed, elapsed


async def latency(url: str, count: int) -> tuple[list[float], list[float]]:
    orders: list[float] = []
    health: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(count):
            body = signed_order("BUY" if i % 2 else "SELL")
            t0 = time.perf_counter()
            async with session.post(f"{url}/binance/fapi/v1/order", data=body, headers=HEADERS) as r:
                await r.read()
            orders.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            async with session.get(f"{url}/_sim/health") as r:
                await r.read()
            health.append((time.perf_counter() - t0) * 1000)
    return orders, health


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-samples", type=int, default=2000)
    args = parser.parse_args()
    with subprocess.Popen(
        [sys.executable, "-m", "hedgectl", "sim", "serve", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(" on ")[1].split()[0]
            await throughput(url, 0.5, 4)  # warm-up
            done, failed, elapsed = await throughput(url, args.seconds, args.concurrency)
            orders, health = await latency(url, args.latency_samples)
        finally:
            server.terminate()
            server.wait(timeout=15)
    rate = done / elapsed
    p50, p99 = statistics.median(orders), pct(orders, 0.99)
    h50 = statistics.median(health)
    rows = [
        ("order requests/s", f"{rate:,.0f}", ">= 2000", rate >= 2000),
        ("order round trip p50 (ms)", f"{p50:.3f}", "< 1", p50 < 1.0),
        ("order round trip p99 (ms)", f"{p99:.3f}", "", True),
        ("/_sim/health round trip p50 (ms)", f"{h50:.3f}", "", True),
        ("failed order requests", str(failed), "0", failed == 0),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>10}  {'target':>8}  ok")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:>10}  {target:>8}  {'yes' if ok else 'NO'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
