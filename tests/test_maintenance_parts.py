"""Maintenance mode's parts a technician meets outside the screens: `kiosk staff-pin`,
the [maintenance] config section, the collection slip on the receipt roll, and the
Japanese catalog covering every staff message."""
from __future__ import annotations

import datetime as dt
import re
import string
import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from kiosk import cli
from kiosk.config import ConfigError, parse_config
from kiosk.embedded import DEMO_STAFF_PIN_HASH
from kiosk.events import Tap
from kiosk.maintenance import text
from kiosk.maintenance.slips import CollectionSlip, slip_receipt_lines
from kiosk.maintenance.staff_pin import verify_pin
from printouts.receipt import COLUMNS, cells

MAINTENANCE = Path(cli.__file__).with_name("maintenance")
BASE = {
    "terminal_id": "KIOSK-0001",
    "card": {"transport": "pcsc"},
    "issuance": {"url": "https://127.0.0.1:8443", "ca_cert": "/etc/kiosk/pki/root.pem",
                 "client_cert": "/etc/kiosk/pki/terminal.pem", "client_key": "/etc/kiosk/pki/terminal.key",
                 "manifest_signer_cert": "/etc/kiosk/pki/municipal-signer.pem"},
    "printer": {"kind": "cups", "queue": "KioskPDF"},
    "payment": {"kind": "cctalk", "port": "/dev/ttyUSB0"},
    "receipt_printer": {"kind": "escpos", "port": "/dev/ttyUSB1"},
}


def staff_pin(monkeypatch, capsys, *answers: str) -> tuple[int, str, str]:
    typed = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    status = cli.main(["staff-pin"])
    out, err = capsys.readouterr()
    return status, out, err


def test_staff_pin_prints_a_config_line_that_accepts_that_pin_only(monkeypatch, capsys):
    status, out, err = staff_pin(monkeypatch, capsys, "24681357", "24681357")
    assert status == 0
    assert "24681357" not in out + err
    line = next(line for line in out.splitlines() if line.startswith("staff_pin_hash"))
    config = parse_config({**BASE, "maintenance": {**tomllib.loads(line), "state_dir": "/var/lib/kiosk"}})
    assert verify_pin(b"24681357", config.maintenance.staff_pin_hash)
    assert not verify_pin(b"24681358", config.maintenance.staff_pin_hash)
    # a new salt every time: two installs with the same PIN have different hashes
    _, again, _ = staff_pin(monkeypatch, capsys, "24681357", "24681357")
    assert again.splitlines()[-1] != line


@pytest.mark.parametrize("answers, problem", [(("2468", "2469"), "the two PINs differ"),
                                              (("12a4", "12a4"), "4 to 8 digits"),
                                              (("123", "123"), "4 to 8 digits")])
def test_staff_pin_refuses_and_prints_nothing(monkeypatch, capsys, answers, problem):
    status, out, err = staff_pin(monkeypatch, capsys, *answers)
    assert status == 2 and out == "" and problem in err


def test_the_demo_staff_pin_is_the_one_the_readme_gives():
    readme = (Path(cli.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    pin = re.search(r"demo staff PIN is \*\*(\d+)\*\*", readme)[1]
    assert verify_pin(pin.encode(), DEMO_STAFF_PIN_HASH)


@pytest.mark.parametrize("section, named", [
    ({"staff_pin_hash": "135790", "state_dir": "/var/lib/kiosk"}, "maintenance.staff_pin_hash"),
    ({"staff_pin_hash": DEMO_STAFF_PIN_HASH}, "maintenance.state_dir"),
    ({"staff_pin_hash": DEMO_STAFF_PIN_HASH, "state_dir": "/var/lib/kiosk", "max_tries": 0}, "maintenance.max_tries"),
    ({"staff_pin_hash": DEMO_STAFF_PIN_HASH, "state_dir": "/var/lib/kiosk", "lockout": 60}, "maintenance.lockout"),
])
def test_a_bad_maintenance_section_is_named(section, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        parse_config({**BASE, "maintenance": section}, "kiosk.toml")


def test_the_example_config_has_a_valid_maintenance_section():
    example = Path(cli.__file__).parents[1] / "config" / "kiosk.example.toml"
    config = parse_config(tomllib.loads(example.read_text(encoding="utf-8")), str(example))
    assert config.maintenance.restart_command == ("systemctl", "restart", "kiosk")
    assert config.maintenance.shutdown_command == ("systemctl", "poweroff")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_collection_slip_fits_the_receipt_roll(language):
    slip = CollectionSlip("KIOSK-0001", dt.datetime(2026, 11, 29, 8, 30, tzinfo=dt.timezone.utc), "staff",
                          {1000: 12, 500: 3, 100: 41, 50: 7, 10: 128})
    lines = slip_receipt_lines(slip, language)
    for line in lines:
        assert cells(line.text) <= COLUMNS, line.text
    body = "\n".join(line.text for line in lines)
    assert "¥19,230" in body and "¥1,000 × 12" in body and "¥1,280" in body
    assert "2026-11-29" in body and "17:30" in body  # printed in Japan time
    assert ("売上金回収票" if language == "ja" else "Cash collection slip") in body


def test_a_slip_goes_to_the_receipt_printer_when_there_is_one(tmp_path):
    from kiosk.journal import CREDIT, Journal
    from kiosk.maintenance.mode import MaintenanceMode
    from kiosk.maintenance.screen_graph import Screen
    from kiosk.config import MaintenanceConfig
    from kiosk.states import Machine

    class Roll:
        def __init__(self):
            self.lines = []

        def print_lines(self, lines, *, timeout=30.0):
            self.lines += lines

    class NoDocuments:
        def print_pdf(self, *args, **kwargs):
            raise AssertionError("the slip went to the document printer")

    journal = Journal(tmp_path / "journal.sqlite")
    journal.begin("T1", "residence_record", 1)
    journal.step("T1", CREDIT, amount=300, coins={100: 3})
    roll = Roll()
    machine = Machine(None, language="ja", inactivity_timeout_s=60, now=0.0)
    mode = MaintenanceMode(MaintenanceConfig(staff_pin_hash=DEMO_STAFF_PIN_HASH, state_dir=tmp_path / "state"),
                           machine, terminal_id="KIOSK-0001", screen_size=(1024, 600), checks=list,
                           printer=NoDocuments(), receipt_printer=roll, journal=journal)
    mode.sign_in.who, mode.screen = "staff", Screen.COLLECT
    mode.handle(Tap("collect_cash"), 0.0)
    mode.jobs.devices.submit(lambda: None).result(timeout=30)  # the slip job is done: its result is waiting
    assert mode.view(0.0).lines == ["¥300を回収しました。回収票をレシートプリンタで印刷しました。"]
    assert any("¥100 × 3" in line.text for line in roll.lines)
    assert journal.cash_since_collection() == {}
    journal.close()


def test_every_staff_message_has_a_japanese_translation():
    keywords = {"_": None, "N_": None, "translate": (2,), "Outcome": (2,), "_p": ((1, "c"), 2)}
    catalog = text.catalog("ja")
    fields = string.Formatter()
    for path in sorted(MAINTENANCE.glob("*.py")):
        for lineno, message, _, context in extract_from_file("python", str(path), keywords=keywords):
            if not message:
                continue
            where = f"{path.name}:{lineno} {message!r}"
            assert (context, message) in catalog, f"no Japanese for {where}"
            wanted = {f for _, f, _, _ in fields.parse(message) if f}
            assert {f for _, f, _, _ in fields.parse(catalog[context, message]) if f} == wanted, where


def test_the_slip_prints_japan_time():
    slip = CollectionSlip("K", dt.datetime(2026, 12, 31, 15, 5, tzinfo=dt.timezone.utc), "staff", {})
    body = "\n".join(line.text for line in slip_receipt_lines(slip, "ja"))
    assert "2027-01-01 (金) 00:05" in body and "入金なし" in body


def test_a_state_folder_that_cannot_be_written_stops_the_kiosk_with_its_key(stub_data, tmp_path, capsys):
    from kiosk.embedded import embedded_config

    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    config = embedded_config(stub_data, "https://127.0.0.1:9", "R0001", tmp_path / "printed",
                             maintenance={"state_dir": str(blocked)}, journal=str(tmp_path / "journal.sqlite"))
    status = cli.run_kiosk(config, headless=True, autopilot_pin=None, out_dir=tmp_path)
    assert status == cli.EXIT_CONFIG
    assert f"maintenance.state_dir {blocked}: cannot keep the staff records there" in capsys.readouterr().err


def test_each_audit_record_reaches_the_journal_as_its_own_event(tmp_path, caplog):
    from kiosk.log_setup import journal_fields
    from kiosk.maintenance.audit import AuditLog
    from kiosk.maintenance.state_db import StateDb

    caplog.set_level("INFO", logger="kiosk.maintenance.audit")
    AuditLog(StateDb(tmp_path)).record("staff", "out_of_service", "reason=printer")
    [record] = caplog.records
    fields = journal_fields(record, record.getMessage())
    assert fields["KIOSK_EVENT"] == "maintenance_out_of_service" and fields["REASON"] == "printer"


def test_the_cash_collection_slip_prints_on_the_thermal_printer(receipt_emulator):
    import datetime as dt

    from devices.printer.escpos_receipt import EscposReceiptPrinter
    from kiosk.maintenance.slips import CollectionSlip, slip_receipt_lines

    slip = CollectionSlip("KIOSK-0001", dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.timezone.utc), "staff",
                          {100: 3, 1000: 1})
    EscposReceiptPrinter(receipt_emulator.tty_path).print_lines(slip_receipt_lines(slip, "ja"), timeout=20)
    [printed] = receipt_emulator.receipts
    text = "\n".join(printed)
    assert "KIOSK-0001" in text and "¥1,300" in text and "2026-11-24" in text
    assert receipt_emulator.errors == []


def test_every_staff_screen_is_reached_from_the_pin_pad_and_leads_back_out():
    from kiosk.maintenance.screen_graph import TABLE, Screen, check_graph

    check_graph(TABLE)
    no_exit = {key: row for key, row in TABLE.items() if key[1] not in ("exit", "idle")}
    with pytest.raises(AssertionError, match=r"with no way back to closed: \['actions', 'collect'"):
        check_graph(no_exit)
    no_collect = {key: row for key, row in TABLE.items() if key != (Screen.ACTIONS, "goto")}
    with pytest.raises(AssertionError, match=r"not reached from the PIN pad: \['collect', 'service'\]"):
        check_graph(no_collect)
