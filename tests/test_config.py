"""A broken configuration stops the kiosk with a message naming the key, not a traceback.
Every device is named: none defaults to a stand-in for hardware."""
from __future__ import annotations

import pytest

from kiosk.config import DEVICES, ConfigError, parse_config
from tests.kiosk_runs import ROOT, run_kiosk

# A kiosk with real devices everywhere; the files need not exist to be checked.
REAL = {
    "terminal_id": "KIOSK-0001",
    "card": {"transport": "pcsc"},
    "issuance": {"url": "https://127.0.0.1:8443", "ca_cert": "root.pem", "client_cert": "terminal.pem",
                 "client_key": "terminal.key", "manifest_signer_cert": "municipal-signer.pem"},
    "printer": {"kind": "cups", "queue": "KioskPDF"},
    "payment": {"kind": "cctalk", "port": "/dev/ttyUSB0"},
    "receipt_printer": {"kind": "escpos", "port": "/dev/ttyUSB1"},
}
DEMO = {"card": {"transport": "inprocess", "card_file": "R0001.card"},
        "printer": {"kind": "folder", "directory": "printed"},
        "payment": {"kind": "simulated"},
        "receipt_printer": {"kind": "folder", "directory": "receipts"}}


def toml(config: dict) -> str:
    """Enough TOML for these configs: top-level strings, then one table per section."""
    flat = [f'{k} = "{v}"' for k, v in config.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "".join(f'{key} = "{value}"\n' for key, value in v.items())
              for k, v in config.items() if isinstance(v, dict)]
    return "\n".join(flat) + "\n" + "".join(tables)


def test_a_missing_key_is_named(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('terminal_id = "KIOSK-0001"\n[card]\ntransport = "pcsc"\n'
                      '[printer]\nkind = "cups"\n', encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), "--headless", out=tmp_path / "out")
    assert run.returncode == 3
    assert "issuance: Field required" in run.output
    assert "printer: Value error, queue is required" in run.output
    assert "Traceback" not in run.output


def test_a_file_that_is_not_toml_is_reported_with_its_path(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("terminal_id = \n", encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), out=tmp_path / "out")
    assert run.returncode == 3
    assert f"{config}: not valid TOML" in run.output
    assert "Traceback" not in run.output


def test_an_unknown_value_is_named(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('terminal_id = "K"\nlanguage = "xx"\n[card]\ntransport = "nfc"\n', encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), out=tmp_path / "out")
    assert run.returncode == 3
    assert "language:" in run.output and "card.transport:" in run.output


def test_the_shipped_example_is_valid():
    from kiosk.config import load_config
    config = load_config(ROOT / "config" / "kiosk.example.toml")
    assert config.card.transport == "pcsc" and config.printer.queue == "KioskPDF"
    assert config.demo_devices == ()


def test_a_config_without_payment_stops_the_start_naming_it(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(toml({k: v for k, v in REAL.items() if k != "payment"}), encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), "--headless", out=tmp_path / "out")
    assert run.returncode == 3
    assert run.output.strip() == (f'kiosk: invalid configuration: {config}: payment: missing; every device must be '
                                  'named: [payment] kind = "cctalk" (or "simulated", a demo device)')


@pytest.mark.parametrize("section", DEVICES)
def test_no_device_section_defaults_to_a_simulated_device(section):
    with pytest.raises(ConfigError, match=rf"^kiosk\.toml: {section}: missing; every device must be named"):
        parse_config({k: v for k, v in REAL.items() if k != section}, "kiosk.toml")
    key, _ = DEVICES[section]
    unnamed = {k: v for k, v in REAL[section].items() if k != key}
    with pytest.raises(ConfigError, match=rf"^kiosk\.toml: {section}\.{key}: missing; every device must be named"):
        parse_config({**REAL, section: unnamed}, "kiosk.toml")


@pytest.mark.parametrize("section", DEVICES)
def test_a_demo_device_is_accepted_when_named_and_then_known(section):
    assert parse_config(REAL).demo_devices == ()
    assert parse_config({**REAL, section: DEMO[section]}).demo_devices == (section,)
    assert parse_config({**REAL, **DEMO}).demo_devices == tuple(DEVICES)


def test_a_corrupt_card_file_stops_the_kiosk_with_a_message(tmp_path, stub_template):
    from municipal.pki import PkiFiles
    pki = PkiFiles(stub_template / "pki")
    card = tmp_path / "broken.card"
    card.write_text('{"format": 2, "card_id": ', encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'''terminal_id = "KIOSK-0001"
[card]
transport = "inprocess"
card_file = "{card}"
[issuance]
url = "https://127.0.0.1:9"
ca_cert = "{pki.root}"
client_cert = "{pki.terminal_cert}"
client_key = "{pki.terminal_key}"
manifest_signer_cert = "{pki.manifest_signer}"
[printer]
kind = "folder"
directory = "{tmp_path / 'printed'}"
[payment]
kind = "simulated"
[receipt_printer]
kind = "folder"
directory = "{tmp_path / 'printed'}"
''', encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), "--headless", out=tmp_path / "out")
    assert run.returncode == 3
    assert "kiosk: cannot start:" in run.output
    assert "Traceback" not in run.output
