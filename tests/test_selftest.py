"""`kiosk selftest` and the device checks behind it, against the simulated devices:
each check passes on a healthy kiosk and fails, with words a technician can act on,
when its device is missing or broken. Real-hardware runs are marked `hardware`."""
from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from devices.card.jpki_client import TOKEN_OLD_JUKI_CARD
from devices.card.transports import InProcessTransport
from devices.card.virtual_card import VirtualCard
from devices.payment import SimulatedPaymentDevice
from kiosk import device_checks
from kiosk.device_checks import run_checks
from kiosk.embedded import embedded_config, free_port, running_stub
from kiosk.selftest import check as selftest_check
from municipal.pki import PkiFiles
from municipal.revocation import revoke_terminal
from tests.kiosk_runs import KIOSK, pdf_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def timedatectl(tmp_path, monkeypatch):
    """A fake `timedatectl` first on PATH: set(answer) makes it print that, or fail."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "timedatectl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def set_answer(answer: str | None, *, exit_status: int = 0, sleep: float = 0) -> None:
        body = f"sleep {sleep}\n" if sleep else ""
        body += f"echo {answer}\n" if answer is not None else "echo 'System has not been booted with systemd' >&2\n"
        script.write_text(f"#!/bin/sh\n{body}exit {exit_status}\n")
        script.chmod(0o755)

    set_answer("yes")
    return set_answer


@pytest.fixture(scope="module")
def shared_stub(stub_template, tmp_path_factory):
    """One stub for the checks that only read from it (starting one takes a second)."""
    data = tmp_path_factory.mktemp("selftest-stub") / "data"
    shutil.copytree(stub_template, data)
    with running_stub(data, free_port()) as url:
        yield url, data


@pytest.fixture
def config_for(shared_stub, tmp_path):
    url, data = shared_stub

    def make(**overrides):
        return embedded_config(data, overrides.pop("url", url), "R0001", tmp_path / "printed", **overrides)

    return make


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_healthy_kiosk_passes_every_check_and_exits_0(config_for, timedatectl):
    out = io.StringIO()
    assert selftest_check(config_for(), test_page=False, out=out) == 0
    lines = out.getvalue().splitlines()
    names = ["card_reader", "card", "document_printer", "receipt_printer", "payment", "journal",
             "issuance_center", "clock"]
    assert [line.split()[:2] for line in lines[:-1]] == [["PASS", n] for n in names]
    assert lines[-1] == "8 passed, 0 failed"
    checks = by_name(run_checks(config_for()))
    assert "My Number card" in checks["card"].detail
    assert "paper loaded" in checks["document_printer"].detail
    assert "terminal certificate accepted" in checks["issuance_center"].detail
    assert "synchronised" in checks["clock"].detail


def test_a_failed_check_prints_fail_and_exits_1(config_for, timedatectl, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = io.StringIO()
    assert selftest_check(config_for(printer={"directory": str(blocker / "printed")}),
                          test_page=False, out=out) == 1
    failed = [line for line in out.getvalue().splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "document_printer" in failed[0] and "cannot write to the print folder" in failed[0]
    assert out.getvalue().splitlines()[-1] == "7 passed, 1 failed"


# --- card reader and card ---------------------------------------------------------

def test_missing_card_file_fails_the_reader(config_for, timedatectl, tmp_path):
    checks = by_name(run_checks(config_for(card={"card_file": str(tmp_path / "gone.card")})))
    assert not checks["card_reader"].ok
    assert "cannot load the in-process card file" in checks["card_reader"].detail


def test_pcsc_reader_missing_fails(config_for, timedatectl):
    checks = by_name(run_checks(config_for(card={"transport": "pcsc", "reader": "No Such Reader 9"})))
    reader = checks["card_reader"]
    assert not reader.ok
    assert "No Such Reader 9" in reader.detail or "pcscd" in reader.detail
    assert not checks["card"].ok and "not checked" in checks["card"].detail


@pytest.mark.pcsc
def test_pcsc_reader_present_and_card_answers(config_for, timedatectl, insert_vpcd_card, card_file):
    config = config_for(card={"transport": "pcsc", "reader": "Virtual PCD 00 00"})
    empty = by_name(run_checks(config))
    assert empty["card_reader"].ok and "Virtual PCD 00 00" in empty["card_reader"].detail
    assert empty["card"].ok and "no card" in empty["card"].detail
    insert_vpcd_card(VirtualCard(card_file))
    placed = by_name(run_checks(config))
    assert placed["card"].ok and "answers the JPKI application" in placed["card"].detail


def test_no_card_placed_passes_and_says_so(config_for, timedatectl):
    config = config_for()
    transport = InProcessTransport(VirtualCard(config.card.card_file))
    transport.remove()
    card = by_name(run_checks(config, card=transport))["card"]
    assert card.ok and "no card on the reader" in card.detail


def test_old_juki_card_fails_the_card_check(config_for, timedatectl, make_card_file):
    transport = InProcessTransport(VirtualCard(make_card_file(token=TOKEN_OLD_JUKI_CARD.decode())))
    card = by_name(run_checks(config_for(), card=transport))["card"]
    assert not card.ok and "Basic Resident Register card" in card.detail


class _NoJpkiCard:
    """A contactless card of another kind: every SELECT answers 'file not found'."""

    def reset(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        return bytes.fromhex("6A82")


def test_card_without_jpki_fails_the_card_check(config_for, timedatectl):
    card = by_name(run_checks(config_for(), card=InProcessTransport(_NoJpkiCard())))["card"]
    assert not card.ok and "JPKI" in card.detail


# --- document printer -------------------------------------------------------------

def test_test_page_is_printed_into_the_folder(config_for, timedatectl, tmp_path):
    printer = by_name(run_checks(config_for(), test_page=True))["document_printer"]
    assert printer.ok and "test page printed" in printer.detail
    pages = sorted((tmp_path / "printed").glob("*.pdf"))
    assert len(pages) == 1
    text = pdf_text(pages[0])
    assert "Testpage" in text and "KIOSK-0001" in text and "Thisisnotacertificate" in text


def test_printer_out_of_paper_fails(config_for, timedatectl):
    printer = by_name(run_checks(config_for(printer={"paper_sheets": 0})))["document_printer"]
    assert not printer.ok and "out of paper" in printer.detail


def test_the_running_kiosks_printer_is_the_one_checked(config_for, timedatectl):
    from kiosk.wiring import document_printer
    config = config_for(printer={"paper_sheets": 300})
    live = document_printer(config.printer)
    live.print_pdf(device_checks.printer_test_page("KIOSK-0001"), title="Test page")
    printer = by_name(run_checks(config, printer=live))["document_printer"]
    assert printer.ok and "299 sheets left" in printer.detail


@pytest.mark.cups
def test_cups_queue_status_and_missing_queue(config_for, timedatectl, cups_queue):
    good = by_name(run_checks(config_for(printer={"kind": "cups", "queue": cups_queue.name})))
    assert good["document_printer"].ok and f"CUPS queue {cups_queue.name} is ready" in good["document_printer"].detail
    missing = by_name(run_checks(config_for(printer={"kind": "cups", "queue": "NoSuchQueue"})))
    assert not missing["document_printer"].ok
    assert "no CUPS queue named NoSuchQueue" in missing["document_printer"].detail


# --- receipt printer ----------------------------------------------------------------

def test_receipt_printer_answers_and_reports_its_paper(config_for, timedatectl, receipt_emulator):
    config = config_for(receipt_printer={"kind": "escpos", "port": receipt_emulator.tty_path, "directory": None})
    assert by_name(run_checks(config))["receipt_printer"] == device_checks.Check(
        "receipt_printer", True, "online, paper loaded")
    receipt_emulator.set_paper_near_end()
    assert "change the roll soon" in by_name(run_checks(config))["receipt_printer"].detail
    receipt_emulator.run_out_of_paper()
    receipt = by_name(run_checks(config))["receipt_printer"]
    assert not receipt.ok and "out of paper" in receipt.detail


def test_silent_receipt_printer_fails(config_for, timedatectl, receipt_emulator):
    receipt_emulator.go_silent()
    config = config_for(receipt_printer={"kind": "escpos", "port": receipt_emulator.tty_path, "directory": None})
    receipt = by_name(run_checks(config))["receipt_printer"]
    assert not receipt.ok and "does not answer" in receipt.detail


def test_unwritable_receipt_folder_and_journal_fail(config_for, timedatectl, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    checks = by_name(run_checks(config_for(receipt_printer={"directory": str(blocker / "receipts")},
                                           journal=str(blocker / "journal.sqlite"))))
    assert not checks["receipt_printer"].ok and "cannot write to the receipt folder" in checks["receipt_printer"].detail
    assert not checks["journal"].ok and "journal" in checks["journal"].detail


# --- payment --------------------------------------------------------------------

def test_payment_device_answers_with_cash_levels(config_for, timedatectl):
    device = SimulatedPaymentDevice()
    device.bus.set_hopper_level(500, 0)
    payment = by_name(run_checks(config_for(), payment=device))["payment"]
    assert payment.ok
    assert "500 yen × 0 (low)" in payment.detail and "100 yen × " in payment.detail


def test_missing_cctalk_port_fails(config_for, timedatectl, tmp_path):
    config = config_for(payment={"kind": "cctalk", "port": str(tmp_path / "ttyUSB9")})
    payment = by_name(run_checks(config))["payment"]
    assert not payment.ok and "does not answer" in payment.detail and "ttyUSB9" in payment.detail


def test_silent_payment_device_fails(config_for, timedatectl):
    device = SimulatedPaymentDevice()
    device.bus.disappear()
    payment = by_name(run_checks(config_for(), payment=device))["payment"]
    assert not payment.ok and "does not answer" in payment.detail


# --- issuance center --------------------------------------------------------------

def test_stub_not_running_fails_the_center(config_for, timedatectl):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    center = by_name(run_checks(config_for(url=f"https://127.0.0.1:{port}")))["issuance_center"]
    assert not center.ok and "cannot connect" in center.detail


def test_revoked_terminal_is_refused(stub, timedatectl, tmp_path):
    url, data = stub
    from municipal.registry import Registry
    revoke_terminal(Registry(data / "registry.sqlite"), "KIOSK-0001", x509.ReasonFlags.key_compromise)
    center = by_name(run_checks(embedded_config(data, url, "R0001", tmp_path / "printed")))["issuance_center"]
    assert not center.ok and "terminal_revoked" in center.detail


def test_health_needs_the_terminal_certificate(shared_stub):
    url, data = shared_stub
    pki = PkiFiles(data / "pki")
    anonymous = ssl.create_default_context(cafile=str(pki.root))
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/v1/health", verify=anonymous, timeout=5)
    terminal = ssl.create_default_context(cafile=str(pki.root))
    terminal.load_cert_chain(str(pki.terminal_cert), str(pki.terminal_key))
    answer = httpx.get(f"{url}/v1/health", verify=terminal, timeout=5)
    assert answer.status_code == 200 and answer.json()["terminal"] == "KIOSK-0001"


def test_silent_center_fails_within_its_time_limit(config_for, timedatectl):
    with socket.socket() as listener:  # accepts the connection, never answers the handshake
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        config = config_for(url=f"https://127.0.0.1:{listener.getsockname()[1]}", issuance={"timeout_s": 1})
        started = time.monotonic()
        center = by_name(run_checks(config))["issuance_center"]
        elapsed = time.monotonic() - started
    assert not center.ok and "did not answer in 1 s" in center.detail
    print(f"silent center reported after {elapsed:.1f} s")


# --- clock ------------------------------------------------------------------------

def test_clock_not_synchronised_fails(config_for, timedatectl):
    timedatectl("no")
    clock = by_name(run_checks(config_for()))["clock"]
    assert not clock.ok and "not synchronised" in clock.detail


def test_clock_unknown_is_compared_with_the_center(config_for, timedatectl):
    timedatectl(None, exit_status=1)
    clock = by_name(run_checks(config_for()))["clock"]
    assert clock.ok and "issuance center's clock" in clock.detail and "timedatectl cannot tell" in clock.detail


def test_clock_unknown_and_center_down_fails(config_for, timedatectl):
    timedatectl(None, exit_status=1)
    clock = by_name(run_checks(config_for(url="https://127.0.0.1:1")))["clock"]
    assert not clock.ok and "cannot tell whether the clock is synchronised" in clock.detail


# --- time limits --------------------------------------------------------------------

class _HungReader(InProcessTransport):
    """A reader that does not answer until the test lets it: the selftest must give up
    on it and report, not wait for it."""

    def __init__(self, card: VirtualCard):
        super().__init__(card)
        self.released = threading.Event()
        self.answered = threading.Event()

    def card_present(self) -> bool:
        self.released.wait(60)  # bounded only so that a selftest waiting for it fails instead of hanging
        self.answered.set()
        return True


def test_a_hung_device_costs_only_its_own_check(config_for, timedatectl, monkeypatch):
    monkeypatch.setitem(device_checks.LIMITS, "card", 0.5)
    config = config_for()
    reader = _HungReader(VirtualCard(config.card.card_file))
    try:
        checks = by_name(run_checks(config, card=reader))
        assert not reader.answered.is_set()  # the selftest came back while the reader still hung
    finally:
        reader.released.set()
    assert not checks["card"].ok and checks["card"].detail == "no answer within 0.5 s"
    assert all(c.ok for name, c in checks.items() if name != "card")


# --- the command ---------------------------------------------------------------------

def _selftest(*args: str, path_prefix: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    return subprocess.run([str(KIOSK), "selftest", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_command_on_embedded_defaults(stub_data, tmp_path, timedatectl):
    run = _selftest("--data", str(stub_data), "--out", str(tmp_path / "out"), path_prefix=tmp_path / "bin")
    assert run.returncode == 0, run.stdout + run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()[-9:-1]] == ["PASS"] * 8


def test_command_with_an_invalid_config_names_the_key(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text((ROOT / "config" / "kiosk.example.toml").read_text().replace("timeout_s = 15",
                                                                               "timeout_s = -1"))
    run = _selftest("--config", str(bad))
    assert run.returncode == 3
    assert "issuance.timeout_s" in run.stderr


# --- real hardware ---------------------------------------------------------------------

@pytest.mark.hardware
@pytest.mark.skipif(os.environ.get("KIOSK_HARDWARE") != "1", reason="set KIOSK_HARDWARE=1 on a kiosk")
def test_real_devices_pass(capsys):
    """On a kiosk: every device in /etc/kiosk/kiosk.toml (or $KIOSK_CONFIG) answers,
    with a test card on the reader and a test page printed."""
    from kiosk.config import load_config
    config = load_config(Path(os.environ.get("KIOSK_CONFIG", "/etc/kiosk/kiosk.toml")))
    checks = run_checks(config, test_page=True)
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'} {c.name}: {c.detail}")
    assert all(c.ok for c in checks)
    assert "answers the JPKI application" in by_name(checks)["card"].detail, "place a test card on the reader"
