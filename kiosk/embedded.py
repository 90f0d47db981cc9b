"""The embedded defaults: everything on one machine with no hardware.

The issuance stub runs as its own HTTPS process on loopback, the virtual card sits
in-process "on the reader", and certificates are printed as PDFs into a folder.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from devices.card.cardfile import CardFile
from kiosk.clock import WallClock
from kiosk.config import KioskConfig, parse_config
from municipal.cli import SEED, card_path, init
from municipal.pki import PkiFiles
from municipal.registry import REGISTRY_VERSION, load_seed, registry_version

TERMINAL_ID = "KIOSK-0001"
# The demo's staff PIN is 135790 (README, "Maintenance mode"); a real kiosk's comes from `kiosk staff-pin`.
DEMO_STAFF_PIN_HASH = "scrypt$16384$8$1$a29uYmluaS1kZW1vLXBpbg==$AHhgB4Vtyb26dk683r866InHOq78tPsi+6rcbmWpBKU="


def _current_format(data_dir: Path) -> bool:
    if not all(card_path(data_dir, resident).exists() for resident in seeded_cards()):
        return False  # the seed has gained a card since the data was made
    try:
        for path in (data_dir / "cards").glob("*.card"):
            CardFile.load(path)
    except (ValueError, OSError):
        return False
    return registry_version(data_dir / "registry.sqlite") == REGISTRY_VERSION


def ensure_stub_data(data_dir: Path, reset: bool = False) -> None:
    """Creates the demo's PKI, registry and cards on first use. Demo data left by an
    older version of the card format is recreated, with a word about it."""
    if data_dir.exists() and not reset and not _current_format(data_dir):
        print(f"kiosk: the demo data in {data_dir} is from an older version; recreating it")
        reset = True
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    if not (data_dir / "registry.sqlite").exists():
        init(data_dir, TERMINAL_ID)


@dataclass(frozen=True)
class DemoCard:
    """A card for the demo's reader, and what the autopilot does with it."""
    resident: str
    pin: str
    documents: tuple[str, ...]  # what the autopilot gets unless `--document` says otherwise
    outcome: str | None  # how the autopilot's visit ends (README, "Demo residents"); None: not documented


def seeded_cards() -> dict[str, DemoCard]:
    """Every card of the fictional seed file, with its `demo_document` and `demo_outcome`."""
    return {c["resident"]: DemoCard(c["resident"], c["pin"], (c.get("demo_document", "residence_record"),),
                                    c.get("demo_outcome"))
            for c in load_seed(SEED)["cards"]}


def demo_card(data_dir: Path, resident: str, pin: str | None = None) -> DemoCard:
    """The seeded card of `resident`, or another card file in the data folder (a test's
    own card) when its PIN is given. LookupError names the residents who have a card."""
    cards = seeded_cards()
    if resident in cards:
        return cards[resident] if pin is None else replace(cards[resident], pin=pin)
    if pin is not None and card_path(data_dir, resident).exists():
        return DemoCard(resident, pin, ("residence_record",), None)
    raise LookupError(f"{resident} has no card in the demo; residents with a card: {', '.join(cards)}")


def seeded_pin(resident: str) -> str:
    """The demo card's PIN, as the fictional seed file sets it."""
    return seeded_cards()[resident].pin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_stub(data_dir: Path, port: int, faults: tuple[str, ...] = (), log_file: Path | None = None,
                 clock: WallClock = WallClock.real(), print_deadline_s: float | None = None):
    """Starts `kiosk-municipal serve` on `clock` (the kiosk's, so both read the same
    moment) and waits until it accepts connections.
    Runs before the kiosk's window opens, so its short sleeps never touch the frame loop."""
    args = ["serve", "--dir", str(data_dir), "--port", str(port)]
    for fault in faults:
        args += ["--fault", fault]
    if clock.played:
        args += ["--clock-offset-s", repr(clock.offset.total_seconds())]
    if print_deadline_s is not None:
        args += ["--print-deadline-s", str(print_deadline_s)]
    with running_municipal(args, port, log_file):
        yield f"https://127.0.0.1:{port}"


@contextmanager
def running_municipal(args: list[str], port: int, log_file: Path | None = None):
    """Runs `kiosk-municipal <args>` until the block ends, once it listens on `port`."""
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "municipal.cli", *args], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kiosk-municipal {args[0]} exited with status {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kiosk-municipal {args[0]} did not start within 20 s") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log_file:
            log.close()


def embedded_config(data_dir: Path, url: str, resident: str, print_dir: Path, **overrides) -> KioskConfig:
    pki = PkiFiles(data_dir / "pki")
    data = {
        "terminal_id": TERMINAL_ID,
        "card": {"transport": "inprocess", "card_file": str(card_path(data_dir, resident))},
        "issuance": {"url": url, "ca_cert": str(pki.root), "client_cert": str(pki.terminal_cert),
                     "client_key": str(pki.terminal_key), "manifest_signer_cert": str(pki.manifest_signer)},
        "printer": {"kind": "folder", "directory": str(print_dir)},
        # Coins and notes through the real ccTalk driver on an in-memory bus; the
        # receipt as a text file beside the PDFs; the journal beside them too.
        "payment": {"kind": "simulated"},
        "receipt_printer": {"kind": "folder", "directory": str(print_dir), "store_name": "デモ店",
                            "store_number": "000001"},
        "journal": str(print_dir.parent / "kiosk-journal.sqlite"),
        # No systemd unit runs the demo: restart and shut down say they are not available.
        "maintenance": {"staff_pin_hash": DEMO_STAFF_PIN_HASH, "state_dir": str(data_dir / "kiosk-state"),
                        "restart_command": [], "shutdown_command": []},
    }
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return parse_config(data, "embedded defaults")
