"""A power cut at every step of a paid session: the kiosk process (the real worker, the
ccTalk driver on the emulator's pty) dies right after the journal writes the step;
the emulator, in its own process, keeps the cash like hardware. Restarted, the kiosk
reconciles, and the books must balance: the coins taken equal the fees kept plus all
that came back out (refunds and change); at the center every request is printed and
confirmed or voided; no session is both printed and refunded."""
from __future__ import annotations

import ast
import json
import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.embedded import free_port, running_stub
from tests.fixtures.paid import center_states
from tests.fixtures.stub import TEST_CLOCK

ROOT = Path(__file__).resolve().parents[1]
FEE = 200
COINS = (100, 500)  # 600 in: 400 change, so the change steps are cut too
# Every step a paid session that prints writes, in order, and how it must end when the
# power goes right after it: printed once the printer finished the job, else money back.
PRINTS = {"issuing": "voided", "issued": "voided", "payment_open": "voided", "credit": "refunded",
          "paid": "refunded", "change": "refunded", "change_paid": "refunded", "printing": "refunded",
          "sheet": "refunded", "printed": "printed", "confirmed": "printed", "receipt": "printed",
          "closed": "printed", None: "printed"}
# The steps of a session the resident cancels after one coin.
CANCELS = ("refund", "refunded", "voiding", "voided", "closed", None)


class Lines:
    """A child process's stdout, line by line, with a time limit."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next(self, timeout: float = 30.0) -> str | None:
        """The next line, or None once the process closed its output."""
        return self._lines.get(timeout=timeout)


class Emulator:
    """`python -m devices.payment.cctalk_emulator` in its own process, driven by its commands."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "devices.payment.cctalk_emulator"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.out = Lines(self.proc)
        self.tty = self.out.next()

    def command(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.out.next()

    def hopper_yen(self) -> int:
        answer = self.command("clear")  # harmless; every answer ends with the hopper levels
        levels = ast.literal_eval(answer.split("hoppers ", 1)[1])
        return sum(value * count for value, count in levels.items())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def center(stub_template, tmp_path_factory):
    data = tmp_path_factory.mktemp("power-cut") / "stub"
    shutil.copytree(stub_template, data)
    with running_stub(data, free_port(), clock=TEST_CLOCK) as url:
        yield url, data


@pytest.fixture(scope="module")
def emulator():
    emulator = Emulator()
    yield emulator
    emulator.close()


def kiosk(mode: str, center, emulator, out: Path, crash_at: str | None = None, cancel: bool = False
          ) -> subprocess.Popen:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("KIOSK_TEST_CRASH_AT", None)
    if crash_at:
        env["KIOSK_TEST_CRASH_AT"] = crash_at
    url, data = center
    return subprocess.Popen([sys.executable, "-m", "tests.fixtures.power_cut_kiosk", mode, "--data", str(data),
                             "--url", url, "--tty", emulator.tty, "--out", str(out), *(["--cancel"] * cancel),
                             "--clock-offset-s", repr(TEST_CLOCK.offset.total_seconds())],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def credits_journaled(journal: Path) -> int:
    try:
        with sqlite3.connect(journal) as db:
            return db.execute("SELECT COUNT(*) FROM steps WHERE step = 'credit'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def insert_coins(proc: subprocess.Popen, emulator: Emulator, journal: Path, coins: tuple[int, ...],
                 crash_at: str | None) -> int:
    """Coins one at a time, each once the kiosk counted the one before, while it lives
    (a dead kiosk's acceptor is dead too). The yen the acceptor took."""
    taken = 0
    for n, coin in enumerate(coins, 1):
        if proc.poll() is not None:
            break
        if emulator.command(f"coin {coin}").startswith("credited"):
            taken += coin
        deadline = time.monotonic() + 60
        while credits_journaled(journal) < n and proc.poll() is None:
            assert time.monotonic() < deadline, f"coin {n} was never journaled"
            time.sleep(0.02)
        if crash_at == "credit":  # it dies right after writing that step: wait for the death, not a while
            proc.wait(timeout=60)
    return taken


@pytest.mark.parametrize("cancel, step, expected",
                         [(False, step, outcome) for step, outcome in PRINTS.items()]
                         + [(True, step, "refunded") for step in CANCELS],
                         ids=[f"print-{s}" for s in PRINTS] + [f"cancel-{s}" for s in CANCELS])
def test_power_cut_at_each_step_is_reconciled_and_the_books_balance(cancel, step, expected, center, emulator,
                                                                     tmp_path):
    hoppers_before = emulator.hopper_yen()
    journal = tmp_path / "journal.sqlite"
    proc = kiosk("pay", center, emulator, tmp_path, crash_at=step, cancel=cancel)
    out = Lines(proc)
    taken = 0
    line = out.next(timeout=60)
    if line == "OPEN":
        taken = insert_coins(proc, emulator, journal, COINS[:1] if cancel else COINS, step)
        line = out.next(timeout=60)
    proc.wait(timeout=60)
    line = line or ""
    if step is None:
        assert proc.returncode == 0 and line.startswith("REPORT PaymentCancelled(" if cancel else "REPORT Printed("), line
    else:
        assert proc.returncode == 86, f"the kiosk was to die at {step}, exited {proc.returncode}: {line}"

    restart = kiosk("restart", center, emulator, tmp_path)
    stdout, _ = restart.communicate(timeout=60)
    assert restart.returncode == 0
    reconciled = json.loads(stdout.strip().splitlines()[-1])
    assert all(r["outcome"] in ("printed", "refunded", "voided") for r in reconciled), reconciled

    with sqlite3.connect(journal) as db:
        sessions = dict(db.execute("SELECT txn, outcome FROM sessions"))
        requests = db.execute("SELECT txn, request_id FROM steps WHERE step = 'issuing'").fetchall()
        owed = db.execute("SELECT COALESCE(SUM(amount), 0) FROM steps WHERE step = 'owed'").fetchone()[0]
        totals = dict(db.execute("SELECT step, SUM(amount) FROM steps WHERE step IN"
                                 " ('credit', 'change_paid', 'refunded') GROUP BY step"))
    (outcome,) = sessions.values()
    assert outcome == expected
    states = center_states(center[1])
    mine = [states.get(request_id, "never issued") for _, request_id in requests]
    if outcome == "printed":
        assert mine.count("printed") == 1 and set(mine) <= {"printed", "voided"}
    else:
        assert set(mine) <= {"voided"}, mine  # nothing printed for a refunded session, nothing left issued
    fees_kept = FEE if outcome == "printed" else 0
    given_back = hoppers_before - emulator.hopper_yen()  # refunds and change
    assert owed == 0
    assert taken == fees_kept + given_back, (taken, fees_kept, given_back)
    # and the journal's own books say the same
    assert totals.get("credit", 0) == taken
    assert totals.get("change_paid", 0) + totals.get("refunded", 0) == given_back
