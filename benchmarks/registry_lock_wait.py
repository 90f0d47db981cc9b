"""How the stub's event loop keeps serving while a registry write waits for another
process's write lock (a staff command, the public site holding it).

    .venv/bin/python -m benchmarks.registry_lock_wait [--hold-ms 100] [--runs 20]

Another connection holds the lock for `--hold-ms`; meanwhile a ticker coroutine asks
for a 1 ms pause again and again, as other requests' awaits would. Printed: the ticks
served per hold (ideal: hold-ms), and the longest gap between two ticks (ideal: about
1 ms; a write sleeping in SQLite's busy handler shows up here as a gap of the hold).
tests/test_registry_pool.py checks the behaviour without a clock; this gives figures.
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from municipal.registry import Registry


async def one_hold(registry: Registry, hold_s: float) -> tuple[int, float]:
    other = sqlite3.connect(registry.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks, gaps = 0, []

    async def tick() -> None:
        nonlocal ticks
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            ticks, last = ticks + 1, now

    async def write() -> None:
        async with registry.writing() as conn:
            conn.execute("INSERT INTO t VALUES (1)")

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(write())
    await asyncio.sleep(hold_s)
    waited = ticks
    other.execute("COMMIT")
    await writer
    ticker.cancel()
    other.close()
    return waited, max(gaps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.registry_lock_wait", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hold-ms", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.sqlite"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.close()
        registry = Registry(path)
        runs = [asyncio.run(one_hold(registry, args.hold_ms / 1000)) for _ in range(args.runs)]
    ticks = [t for t, _ in runs]
    gaps_ms = sorted(g * 1000 for _, g in runs)
    print(f"lock held {args.hold_ms:g} ms, {args.runs} runs: ticks served while the write waited "
          f"median {statistics.median(ticks):g} (min {min(ticks)}); longest gap between ticks "
          f"median {statistics.median(gaps_ms):.1f} ms, worst {gaps_ms[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
