"""The whole session through the real stack: pyscard → pcscd → vpcd → the virtual
card; the HTTPS stub on loopback; the certificate printed by cupsd's cups-pdf queue."""
from __future__ import annotations

import time

import pytest

from devices.card.virtual_card import VirtualCard
from kiosk.embedded import free_port, running_stub
from tests.fixtures.stub import TEST_CLOCK
from municipal.cli import card_path
from municipal.pki import PkiFiles
from tests.kiosk_runs import pdf_text, run_kiosk

pytestmark = [pytest.mark.pcsc, pytest.mark.cups]
SAME_CLOCK = ("--clock-offset-s", repr(TEST_CLOCK.offset.total_seconds()))  # as the stub's


def write_config(path, stub_data, url, queue):
    pki = PkiFiles(stub_data / "pki")
    path.write_text(f"""
terminal_id = "KIOSK-0001"
language = "en"

[card]
transport = "pcsc"
reader = "Virtual PCD 00 00"

[issuance]
url = "{url}"
ca_cert = "{pki.root}"
client_cert = "{pki.terminal_cert}"
client_key = "{pki.terminal_key}"
manifest_signer_cert = "{pki.manifest_signer}"

[printer]
kind = "cups"
queue = "{queue}"
timeout_s = 60

[payment]
kind = "simulated"

[receipt_printer]
kind = "folder"
directory = "{path.parent / 'receipts'}"
""", encoding="utf-8")
    return path


def wait_for_new_pdf(folder, before, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(folder.glob("*.pdf")) - before
        if new:
            return new
        time.sleep(0.1)
    return set()


def test_session_through_pcscd_vpcd_and_cups(stub_data, tmp_path, insert_vpcd_card, cups_queue):
    insert_vpcd_card(VirtualCard(card_path(stub_data, "R0002")))
    before = set(cups_queue.output_dir.glob("*.pdf"))
    with running_stub(stub_data, free_port(), clock=TEST_CLOCK) as url:
        config = write_config(tmp_path / "kiosk.toml", stub_data, url, cups_queue.name)
        run = run_kiosk("run", "--config", str(config), *SAME_CLOCK, "--headless", "--autopilot", "--pin", "2468",
                        out=tmp_path / "out")
    assert run.returncode == 0, run.output
    assert run.screen_names[:3] == ["welcome", "place_card", "pin"]
    assert "more" in run.screen_names and run.screen_names[-1] == "take_card"  # a real card stays until taken
    assert all((run.out / f"{n:02d}-{s}.png").exists() for n, s in enumerate(run.screen_names, start=1))
    new = wait_for_new_pdf(cups_queue.output_dir, before)
    assert len(new) == 1, "cups-pdf should have written exactly one certificate"
    text = pdf_text(new.pop())
    assert "山田花子" in text and "架空県みどり市若葉町一丁目2番3号" in text


def test_wrong_pin_through_pcscd_shows_the_cards_count(stub_data, tmp_path, insert_vpcd_card):
    card = VirtualCard(card_path(stub_data, "R0101"))
    insert_vpcd_card(card)
    with running_stub(stub_data, free_port(), clock=TEST_CLOCK) as url:
        config = write_config(tmp_path / "kiosk.toml", stub_data, url, "unused")
        run = run_kiosk("run", "--config", str(config), *SAME_CLOCK, "--headless", "--autopilot", "--pin", "0000",
                        out=tmp_path / "out")
    assert run.returncode == 2
    assert "Tries left before the PIN locks: 2" in run.text_of("pin")
    assert "visit your municipal office" in run.text_of("problem-pin_blocked")


def test_a_missing_reader_shows_out_of_order_not_a_crash(stub_data, tmp_path, pcscd):
    with running_stub(stub_data, free_port(), clock=TEST_CLOCK) as url:
        config = write_config(tmp_path / "kiosk.toml", stub_data, url, "unused")
        config.write_text(config.read_text().replace('reader = "Virtual PCD 00 00"', 'reader = "Unplugged"'))
        run = run_kiosk("run", "--config", str(config), *SAME_CLOCK, "--headless", "--autopilot", "--pin", "1234",
                        out=tmp_path / "out")
    assert run.returncode == 2
    assert "Card reader not available" in run.text_of("problem-reader")
    assert "Traceback" not in run.output
