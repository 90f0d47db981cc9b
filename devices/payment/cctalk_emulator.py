"""The emulated ccTalk bus on a real pseudo-terminal, for the PaymentDevice to open as
its serial port.

    with CcTalkEmulator() as emulator:
        device = PaymentDevice.open(emulator.tty_path)
        emulator.bus.insert_coin(100)

`python -m devices.payment.cctalk_emulator [--echo]` prints the tty path and then takes
commands on stdin (coin 100, note 1000, fraud, jam, clear, level 10 0, gone, back,
garbage) for manual runs.
"""
from __future__ import annotations

import argparse
import os
import select
import sys
import threading
import tty

from devices.payment import cctalk
from devices.payment.emulated_devices import CcTalkBus

INTER_BYTE_TIMEOUT_S = 0.05  # ccTalk: a gap this long inside a frame abandons it


class CcTalkEmulator:
    def __init__(self, bus: CcTalkBus | None = None, *, echo: bool = False):
        """`echo`: behave like a single-wire bus, where the host hears its own frames."""
        self.bus = bus or CcTalkBus()
        self.echo = echo
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.tty_path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cctalk-emulator", daemon=True)

    def start(self) -> CcTalkEmulator:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)  # held open so the host can close and reopen the port

    def __enter__(self) -> CcTalkEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        pending = bytearray()
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], INTER_BYTE_TIMEOUT_S)
            if not readable:
                pending.clear()
                continue
            chunk = os.read(self._master, 512)
            if self.echo:
                os.write(self._master, chunk)
            pending += chunk
            while len(pending) >= 2 and len(pending) >= cctalk.frame_size(pending):
                size = cctalk.frame_size(pending)
                reply = self.bus.answer(bytes(pending[:size]))
                del pending[:size]
                if reply:
                    os.write(self._master, reply)


def _command(bus: CcTalkBus, words: list[str]) -> str:
    name, args = words[0], [int(w) for w in words[1:]]
    actions = {
        "coin": lambda: "credited" if bus.insert_coin(args[0]) else "returned",
        "note": lambda: "in escrow" if bus.insert_note(args[0] if args else 1000) else "returned",
        "fraud": lambda: bus.insert_fraud_coin(),
        "jam": lambda: bus.jam(),
        "clear": lambda: bus.clear_jam(),
        "level": lambda: bus.set_hopper_level(args[0], args[1]),
        "gone": lambda: bus.disappear(),
        "back": lambda: bus.reappear(),
        "garbage": lambda: bus.send_garbage(),
    }
    if name not in actions:
        return f"unknown command {name!r}; one of: {', '.join(actions)}"
    return f"{actions[name]() or 'ok'}; hoppers {bus.hopper_levels()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Emulated ccTalk coin acceptor, note validator and hoppers on a pty")
    parser.add_argument("--echo", action="store_true", help="echo every byte back, as a single-wire bus does")
    options = parser.parse_args(argv)
    with CcTalkEmulator(echo=options.echo) as emulator:
        print(emulator.tty_path, flush=True)
        for line in sys.stdin:
            if line.split():
                try:
                    print(_command(emulator.bus, line.split()), flush=True)
                except (ValueError, IndexError, KeyError) as exc:
                    print(f"bad command {line.strip()!r}: {exc!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
