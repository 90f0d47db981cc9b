"""kiosk-card as a technician runs it (a subprocess), and the card benchmark's smoke run."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.card.cli import Exit, info
from devices.card.jpki_client import JpkiClient
from devices.card.transports import InProcessTransport
from devices.card.virtual_card import ATR, VirtualCard
from municipal.cli import card_path
from municipal.pki import cert_sha256
from tests.fixtures.pcsc import VPCD_READER, _reader_lock

KIOSK_CARD = Path(sys.executable).with_name("kiosk-card")
REPO = Path(__file__).resolve().parents[1]


def kiosk_card(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(KIOSK_CARD), *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, **(env or {})})
    assert "Traceback" not in result.stderr
    return result


def tries_left(card_file: Path) -> int:
    with JpkiClient(InProcessTransport(VirtualCard(card_file))) as client:
        return client.auth_pin_tries_left()


@pytest.fixture
def resident_card(stub_data) -> Path:
    """R0001 from `kiosk-municipal init`: PIN 1234, 3 tries left."""
    return card_path(stub_data, "R0001")


@pytest.mark.pcsc
def test_readers_shows_the_inserted_card_and_its_atr(insert_vpcd_card, resident_card):
    insert_vpcd_card(VirtualCard(resident_card))
    result = kiosk_card("readers")
    assert result.returncode == Exit.OK
    line = next(line for line in result.stdout.splitlines() if line.startswith(VPCD_READER))
    assert "card present" in line
    assert ATR.hex(" ").upper() in line


@pytest.mark.pcsc
def test_info_through_pcscd_reads_the_card_and_spends_no_try(insert_vpcd_card, resident_card):
    insert_vpcd_card(VirtualCard(resident_card))
    result = kiosk_card("info", "--reader", VPCD_READER)
    assert result.returncode == Exit.OK, result.stderr
    out = result.stdout
    assert "card type: My Number card" in out
    assert "token: JPKIAPICCTOKEN2" in out
    assert "auth PIN tries left: 3" in out
    issuer = next(line for line in out.splitlines() if line.startswith("auth certificate issuer:"))
    assert "JPKI for user authentication" in issuer
    with JpkiClient(InProcessTransport(VirtualCard(resident_card))) as client:
        fingerprint = cert_sha256(client.read_auth_certificate())
    assert f"auth certificate SHA-256: {fingerprint}" in out  # what the registry keys on
    assert tries_left(resident_card) == 3


@pytest.mark.pcsc
def test_info_with_an_empty_reader_says_no_card(pcscd):
    with _reader_lock():  # the reader is shared: keep other runs' cards out meanwhile
        result = kiosk_card("info", "--reader", VPCD_READER)
    assert result.returncode == Exit.NO_CARD
    assert result.stderr.startswith("kiosk-card: no card")
    assert len(result.stderr.splitlines()) == 1


def test_without_pcscd_both_commands_say_so():
    no_daemon = {"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    for command in (["readers"], ["info"]):
        result = kiosk_card(*command, env=no_daemon)
        assert result.returncode == Exit.NO_READER
        assert "is pcscd running?" in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_info_from_a_card_file_with_its_trace_sends_no_pin(make_card_file):
    card = make_card_file(tries=2)
    result = kiosk_card("info", "--card-file", str(card), "--trace")
    assert result.returncode == Exit.OK, result.stderr
    assert "token: JPKIAPICCTOKEN2" in result.stdout
    assert "auth PIN tries left: 2" in result.stdout
    assert "auth CA certificate subject:" in result.stdout
    verifies = [line for line in result.stdout.splitlines() if line.startswith("  > 00 20")]
    assert verifies == ["  > 00 20 00 80"]  # the empty VERIFY only
    assert tries_left(card) == 2


def test_old_juki_card_is_named(make_card_file):
    result = kiosk_card("info", "--card-file", str(make_card_file(token="JPKIAPICCTOKEN")))
    assert result.returncode == Exit.OLD_JUKI_CARD
    assert "old Juki card" in result.stderr
    assert "token: JPKIAPICCTOKEN" in result.stdout


def test_unreadable_card_file_is_one_line(tmp_path):
    result = kiosk_card("info", "--card-file", str(tmp_path / "missing.card"))
    assert result.returncode == Exit.BAD_CARD_FILE
    assert result.stderr.startswith("kiosk-card: cannot load card file")


class _CardWithoutJpki:
    """Any other smart card: it knows no JPKI application."""

    def reset(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        return bytes.fromhex("6A82")


def test_a_card_without_jpki_is_not_a_jpki_card():
    out, err = io.StringIO(), io.StringIO()
    assert info(InProcessTransport(_CardWithoutJpki()), False, out, err) == Exit.NOT_JPKI_CARD
    assert err.getvalue().startswith("kiosk-card: not a JPKI card")


def test_card_removed_mid_read_keeps_what_was_read(card_file):
    certificate_selected = []

    def pull_after_the_first_certificate_read(command: str, response: str) -> None:
        if command == "00 A4 02 0C 02 00 0A":
            certificate_selected.append(True)
        elif certificate_selected and command.startswith("00 B0 00 00"):
            transport.remove()

    transport = InProcessTransport(VirtualCard(card_file), on_exchange=pull_after_the_first_certificate_read)
    out, err = io.StringIO(), io.StringIO()
    assert info(transport, False, out, err) == Exit.CARD_REMOVED
    assert "auth PIN tries left: 3" in out.getvalue()
    assert err.getvalue().startswith("kiosk-card: card removed during the read")


def test_card_benchmark_prints_its_table():
    result = subprocess.run([sys.executable, "-m", "benchmarks.card_bench", "--runs", "2",
                             "--transport", "inprocess"],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "2 runs per transport" in result.stdout
    for row in ("open: select AP + token", "PIN tries left", "verify PIN",
                "read auth certificate", "sign 32-byte challenge", "total, median", "total, p90"):
        assert row in result.stdout
    assert "in-process median ms" in result.stdout
