"""A broken configuration stops the kiosk with a message naming the key, not a traceback."""
from __future__ import annotations

from tests.kiosk_runs import ROOT, run_kiosk


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


def test_a_corrupt_card_file_stops_the_kiosk_with_a_message(tmp_path, stub_template):
    from municipal.pki import PkiFiles
    pki = PkiFiles(stub_template / "pki")
    card = tmp_path / "broken.card"
    card.write_text('{"format": 2, "card_id": ', encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'''terminal_id = "KIOSK-0001"
[card]
card_file = "{card}"
[issuance]
url = "https://127.0.0.1:9"
ca_cert = "{pki.root}"
client_cert = "{pki.terminal_cert}"
client_key = "{pki.terminal_key}"
manifest_signer_cert = "{pki.manifest_signer}"
[printer]
directory = "{tmp_path / 'printed'}"
''', encoding="utf-8")
    run = run_kiosk("run", "--config", str(config), "--headless", out=tmp_path / "out")
    assert run.returncode == 3
    assert "kiosk: cannot start:" in run.output
    assert "Traceback" not in run.output
