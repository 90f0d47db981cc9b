"""`kiosk run` wires what its config names and nothing more: the demo's keyboard never
(a USB keyboard must not insert coins), and whenever a stand-in for hardware is named,
a "demo devices" mark on every screen, so no store runs one by mistake."""
from __future__ import annotations

import pygame
import pytest

from devices.payment.cctalk_emulator import CcTalkEmulator
from devices.payment.emulated_devices import CcTalkBus
from kiosk import app, cli
from kiosk.render import NORMAL, Renderer
from municipal.cli import card_path
from municipal.pki import PkiFiles

DEMO_KEYS = "12345"  # the demo's 10, 50, 100 and 500 yen coins and its 1000-yen note


def drawn(view, now: float, size: tuple[int, int], *, demo_devices: bool) -> bytes:
    surface = pygame.Surface(size)
    Renderer(surface, demo_devices=demo_devices).draw(view, now)
    return pygame.image.tobytes(surface, "RGB")


class FirstFrame:
    """Stands in for the autopilot: keeps the first frame drawn and the same view drawn
    with and without the mark, presses keys on the keyboard, and closes the kiosk on the
    next frame, once those keys were handled."""

    def __init__(self):
        self.screen = self.targets = self.marked = self.unmarked = None

    def after_frame(self, view, targets, surface, machine, now) -> bool:
        if self.screen is not None:
            return True
        self.screen, self.targets = surface.copy(), list(targets)
        self.marked, self.unmarked = (drawn(view, now, surface.get_size(), demo_devices=mark) for mark in (True, False))
        for key in DEMO_KEYS:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, unicode=key, key=ord(key), mod=0))
        return False

    @property
    def shown(self) -> bytes:
        return pygame.image.tobytes(self.screen, "RGB")


@pytest.fixture
def first_frame(monkeypatch):
    frame = FirstFrame()
    real = app.run_loop
    monkeypatch.setattr(app, "run_loop", lambda machine, surface, _pilot, *rest, **options:
                        real(machine, surface, frame, *rest, **options))
    return frame


@pytest.fixture
def inserted(monkeypatch) -> list[int]:
    """Every coin and note that goes into the simulated acceptor."""
    got: list[int] = []
    for name in ("insert_coin", "insert_note"):
        real = getattr(CcTalkBus, name)
        monkeypatch.setattr(CcTalkBus, name, lambda bus, value, real=real: got.append(value) or real(bus, value))
    return got


def write_config(path, stub_data, **devices: str) -> None:
    pki = PkiFiles(stub_data / "pki")
    sections = "".join(f"[{name}]\n{body}\n" for name, body in devices.items())
    path.write_text(f"""terminal_id = "KIOSK-0001"
journal = "{path.parent / 'journal.sqlite'}"
[issuance]
url = "https://127.0.0.1:9"
ca_cert = "{pki.root}"
client_cert = "{pki.terminal_cert}"
client_key = "{pki.terminal_key}"
manifest_signer_cert = "{pki.manifest_signer}"
{sections}""", encoding="utf-8")


def demo_devices(stub_data, tmp_path) -> dict[str, str]:
    return {"card": f'transport = "inprocess"\ncard_file = "{card_path(stub_data, "R0001")}"',
            "printer": f'kind = "folder"\ndirectory = "{tmp_path / "printed"}"',
            "payment": 'kind = "simulated"',
            "receipt_printer": f'kind = "folder"\ndirectory = "{tmp_path / "printed"}"'}


def mark_in_title_bar(screen: pygame.Surface) -> pygame.Rect | None:
    """Where the mark's fill colour shows in the top fifth of the screen, if anywhere."""
    top = screen.subsurface((0, 0, screen.get_width(), screen.get_height() // 5))
    parts = pygame.mask.from_threshold(top, NORMAL.warning, (1, 1, 1, 255)).get_bounding_rects()
    return parts[0].unionall(parts[1:]) if parts else None


def test_kiosk_run_on_named_simulated_devices_marks_the_screen_and_the_keyboard_inserts_nothing(
        stub_data, tmp_path, first_frame, inserted, capsys):
    config = tmp_path / "kiosk.toml"
    write_config(config, stub_data, **demo_devices(stub_data, tmp_path))
    assert cli.main(["run", "--config", str(config), "--headless", "--out", str(tmp_path / "out")]) == 0
    assert inserted == []
    assert f"demo devices named in {config}: card, printer, payment, receipt_printer" in capsys.readouterr().err

    mark = mark_in_title_bar(first_frame.screen)
    assert mark is not None and mark.left < first_frame.screen.get_width() // 4  # in the top-left corner
    assert not any(mark.colliderect(rect) for _, rect in first_frame.targets)
    assert first_frame.shown == first_frame.marked != first_frame.unmarked


def test_the_demo_keeps_its_keyboard_hand_and_its_mark(stub_data, tmp_path, first_frame, inserted):
    assert cli.main(["demo", "--headless", "--data", str(stub_data), "--out", str(tmp_path / "out")]) == 0
    assert inserted == [10, 50, 100, 500, 1000]
    assert mark_in_title_bar(first_frame.screen) is not None


def test_real_devices_carry_no_mark(stub_data, tmp_path, first_frame, receipt_emulator):
    config = tmp_path / "kiosk.toml"
    with CcTalkEmulator() as acceptor:
        write_config(config, stub_data, card='transport = "pcsc"\nreader = "No Such Reader"',
                     printer='kind = "cups"\nqueue = "KioskPDF"',
                     payment=f'kind = "cctalk"\nport = "{acceptor.tty_path}"',
                     receipt_printer=f'kind = "escpos"\nport = "{receipt_emulator.tty_path}"')
        assert cli.main(["run", "--config", str(config), "--headless", "--out", str(tmp_path / "out")]) == 0
    assert mark_in_title_bar(first_frame.screen) is None
    assert first_frame.shown == first_frame.unmarked != first_frame.marked
