"""How long the card part of a kiosk session takes, from "card placed" (connect) to
"challenge signed", and how many APDUs each step costs.

    .venv/bin/python -m benchmarks.card_bench [--runs 20] [--transport pcsc|inprocess|both]

The card is R0001 from a fresh `kiosk-municipal init` in a temporary folder. Through
pcscd it goes into the shared vpcd reader under the test suite's reader lock; in-process
runs on a separate copy and is the baseline that makes pcscd's overhead a ratio. Every
run verifies the right PIN, which resets the counter, so no try is ever spent.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from devices.card.cardfile import AUTH_PIN_MAX_TRIES
from devices.card.errors import CardError
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport
from devices.card.virtual_card import VirtualCard
from municipal.cli import SEED, card_path, init
from municipal.registry import load_seed
from tests.fixtures.pcsc import VPCD_READER, vpcd_card_inserted  # owns the reader lock

RESIDENT = "R0001"
CHALLENGE_LENGTH = 32
START_PCSCD = Path(__file__).resolve().parents[1] / "scripts" / "start-pcscd.sh"
STEPS = ("open: select AP + token", "PIN tries left", "verify PIN",
         "read auth certificate", "sign 32-byte challenge")
TRANSPORT_TITLES = {"pcsc": "pcscd+vpcd", "inprocess": "in-process"}


class CountingCard:
    """A VirtualCard look-alike that counts the APDUs the card itself answers, so a
    GET RESPONSE or a 6Cxx resend that the transport hides from its trace counts too."""

    def __init__(self, card: VirtualCard):
        self._card = card
        self.apdus = 0

    @property
    def atr(self) -> bytes:
        return self._card.atr

    def reset(self) -> None:
        self._card.reset()

    def process(self, apdu: bytes) -> bytes:
        self.apdus += 1
        return self._card.process(apdu)


@dataclass
class Results:
    """Per step, one figure per run."""
    seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    apdus: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in STEPS})

    def totals(self) -> list[float]:
        return [sum(run) for run in zip(*self.seconds.values())]


def one_run(transport: CardTransport, card: CountingCard, pin: bytes, results: Results) -> None:
    client = JpkiClient(transport)
    challenge = os.urandom(CHALLENGE_LENGTH)
    tries: list[int] = []
    steps: dict[str, Callable[[], object]] = dict(zip(STEPS, (
        client.open,
        lambda: tries.append(client.auth_pin_tries_left()),
        lambda: client.verify_auth_pin(bytearray(pin)),
        client.read_auth_certificate,
        lambda: client.sign_auth(challenge),
    )))
    try:
        for name, step in steps.items():
            apdus_before = card.apdus
            started = time.perf_counter()
            step()
            results.seconds[name].append(time.perf_counter() - started)
            results.apdus[name].append(card.apdus - apdus_before)
    finally:
        client.close()
    if tries != [AUTH_PIN_MAX_TRIES]:
        raise SystemExit(f"card_bench: the card reports {tries} tries left; stopping before it blocks")


def run(transport: CardTransport, card: CountingCard, pin: bytes, runs: int) -> Results:
    results = Results()
    for _ in range(runs):
        one_run(transport, card, pin, results)
    return results


def bench_in_process(card_file: Path, pin: bytes, runs: int) -> Results:
    card = CountingCard(VirtualCard(card_file))
    return run(InProcessTransport(card), card, pin, runs)


def bench_pcsc(card_file: Path, pin: bytes, runs: int) -> Results:
    subprocess.run([str(START_PCSCD)], check=True, timeout=30)
    card = CountingCard(VirtualCard(card_file))
    print(f"waiting for the {VPCD_READER} reader (other test runs may hold it) ...", file=sys.stderr)
    with vpcd_card_inserted(card):
        return run(PcscTransport(VPCD_READER), card, pin, runs)


def p90(values: list[float]) -> float:
    """Nearest rank: a value that was measured, defined for any number of runs."""
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def table(results: dict[str, Results], runs: int) -> str:
    names = list(results)
    header = ["step"] + [f"{TRANSPORT_TITLES[n]} {col}" for n in names for col in ("APDUs", "median ms")]
    with_ratio = len(names) == 2
    if with_ratio:
        header.append("pcscd / in-process")

    def ratio(pcsc: float, in_process: float) -> str:
        return f"{pcsc / in_process:.1f}x" if in_process > 0 else "-"

    rows = []
    for step in STEPS:
        row = [step]
        for n in names:
            row += [f"{statistics.median(results[n].apdus[step]):g}", ms(statistics.median(results[n].seconds[step]))]
        if with_ratio:
            row.append(ratio(*(statistics.median(results[n].seconds[step]) for n in names)))
        rows.append(row)
    for label, figure in (("total, median", statistics.median), ("total, p90", p90)):
        row = [label]
        for n in names:
            apdus = sum(statistics.median(results[n].apdus[s]) for s in STEPS)
            row += [f"{apdus:g}", ms(figure(results[n].totals()))]
        if with_ratio:
            row.append(ratio(*(figure(results[n].totals()) for n in names)))
        rows.append(row)

    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = [f"card placed -> challenge signed, card {RESIDENT}, {runs} runs per transport"]
    for r in [header] + rows:
        lines.append("  ".join(r[0].ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="card_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--transport", choices=("pcsc", "inprocess", "both"), default="both")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    pin = next(c["pin"] for c in load_seed(SEED)["cards"] if c["resident"] == RESIDENT).encode("ascii")

    with tempfile.TemporaryDirectory(prefix="card-bench-") as tmp:
        init(Path(tmp) / "stub", "BENCH")
        cards = {}
        for name in ("pcsc", "inprocess"):  # one copy each: the transports never share a card
            cards[name] = Path(tmp) / f"{name}.card"
            shutil.copy(card_path(Path(tmp) / "stub", RESIDENT), cards[name])
        benches = {"pcsc": bench_pcsc, "inprocess": bench_in_process}
        chosen = ["pcsc", "inprocess"] if args.transport == "both" else [args.transport]
        try:
            results = {name: benches[name](cards[name], pin, args.runs) for name in chosen}
        except (CardError, subprocess.CalledProcessError, TimeoutError) as e:
            print(f"card_bench: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    print(table(results, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
