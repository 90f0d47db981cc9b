"""The whole resident session on the embedded defaults: the in-process virtual card,
the HTTPS issuance stub on loopback, PDFs into a folder; driven by touch events."""
from __future__ import annotations

import sqlite3

from devices.card.cardfile import CardFile
from municipal.cli import SEED, card_holders, card_path
from municipal.pki import JPKI_AUTH_CA_NAME, JPKI_SIGNATURE_CA_NAME, CardPins, issue_card, make_ca
from municipal.registry import load_seed
from tests.fixtures.cards import new_card_file
from tests.fixtures.stub import TEST_JAPAN_TIME
from tests.kiosk_runs import pdf_text, run_kiosk

# Screens every paid session shows long enough to be drawn, in this order.
FULL_SESSION = ["welcome", "pin", "choose_document", "copies", "fee", "paying", "more", "take_card",
                "take_documents"]


def in_order(names, wanted):
    """Whether `wanted` appears in `names` in that order (other screens may come between)."""
    seen = iter(names)
    return all(any(name == w for name in seen) for w in wanted)


def demo(stub_data, out, *extra):
    return run_kiosk("demo", "--headless", "--autopilot", "--data", str(stub_data),
                     "--at", TEST_JAPAN_TIME, *extra, out=out)


def test_a_resident_gets_their_own_residence_record(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out")
    assert run.returncode == 0, run.output
    assert in_order(run.screen_names, FULL_SESSION), run.screen_names
    for n, screen in enumerate(run.screen_names, start=1):
        shot = run.out / f"{n:02d}-{screen}.png"
        assert shot.stat().st_size > 5000, f"{shot.name} looks empty"
    [pdf] = run.printed()
    text = pdf_text(pdf)
    assert "住民票の写し" in text
    assert "山田太郎" in text and "架空県みどり市若葉町一丁目2番3号" in text
    assert "佐藤" not in text


def test_another_card_prints_that_residents_record(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--resident", "R0101")
    assert run.returncode == 0, run.output
    [pdf] = run.printed()
    text = pdf_text(pdf)
    assert "佐藤健" in text and "架空県みどり市青空台五丁目8番14号" in text
    assert "山田" not in text


def test_wrong_pin_shows_tries_from_the_card_then_blocks(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--pin", "9999", "--language", "en")
    assert run.returncode == 2
    pin_text = run.text_of("pin")
    for tries in (3, 2, 1):
        assert f"Tries left before the PIN locks: {tries}" in pin_text
    assert "Last try" in pin_text
    assert run.screen_names[-2:] == ["problem-pin_blocked", "take_card"]  # and the card is asked back
    assert "visit your municipal office" in run.text_of("problem-pin_blocked")
    assert run.printed() == []
    card = CardFile.load(card_path(stub_data, "R0001"))
    assert card.auth_pin_tries_left == 0


def test_a_blocked_card_stays_blocked_even_with_the_right_pin(stub_data, tmp_path):
    demo(stub_data, tmp_path / "first", "--pin", "9999")
    run = demo(stub_data, tmp_path / "second", "--pin", "1234", "--language", "en")
    assert run.returncode == 2
    assert "pin" not in run.screen_names  # no keypad offered for a blocked card
    assert "Your PIN is locked" in run.text_of("problem-pin_blocked")


def test_a_card_from_a_foreign_ca_is_refused(stub_data, tmp_path):
    # Same issuer names as the JPKI CAs, but not their keys.
    impostor, impostor_signature = make_ca(JPKI_AUTH_CA_NAME), make_ca(JPKI_SIGNATURE_CA_NAME)
    issue_card(impostor, impostor_signature, card_holders(load_seed(SEED))["R0001"],
               CardPins("4321", "FOREIGN1", "4321"), card_id="CARD-FOREIGN", path=card_path(stub_data, "RFOREIGN"))
    run = demo(stub_data, tmp_path / "out", "--resident", "RFOREIGN", "--pin", "4321", "--language", "en")
    assert run.returncode == 2
    assert "choose_document" not in run.screen_names
    assert any(name.startswith("problem-") for name in run.screen_names)
    assert run.printed() == []
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM audit WHERE event = 'session'")]
    assert outcomes == ["certificate_untrusted"]


def test_a_manifest_bound_to_another_card_is_never_printed(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--fault", "manifest-other-card", "--language", "en")
    assert run.returncode == 2
    assert "problem-binding_certificate" in run.screen_names
    assert "nothing was printed" in run.text_of("problem-binding_certificate")
    assert "No fee was taken" in run.text_of("problem-binding_certificate")
    assert run.printed() == []
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        states = [row[0] for row in db.execute("SELECT state FROM issuances")]
    assert states == ["voided"]


def test_an_old_juki_card_gets_its_own_screen_and_no_keypad(stub_data, tmp_path):
    new_card_file(card_path(stub_data, "ROLD"), token="JPKIAPICCTOKEN")
    run = demo(stub_data, tmp_path / "out", "--resident", "ROLD", "--pin", "1234", "--language", "en")
    assert run.returncode == 2
    assert "pin" not in run.screen_names
    assert "Basic Resident Register card" in run.text_of("problem-old_card")


def test_two_documents_in_one_visit_with_one_pin(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--document", "residence_record", "--document", "seal_certificate",
               "--language", "en")
    assert run.returncode == 0, run.output
    assert run.screen_names.count("pin") == 1
    texts = [pdf_text(pdf) for pdf in run.printed()]
    assert any("住民票の写し" in t for t in texts) and any("印鑑登録証明書" in t for t in texts)
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        sessions = db.execute("SELECT COUNT(*) FROM audit WHERE event = 'session'").fetchone()[0]
        states = sorted(row[0] for row in db.execute("SELECT state FROM issuances"))
    assert sessions == 1
    assert states == ["printed", "printed"]


def test_a_cancelled_payment_gives_the_money_back_and_prints_nothing(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--cancel-payment", "--language", "en")
    assert run.returncode == 2
    assert "cancelled" in run.screen_names
    assert "was returned" in run.text_of("cancelled")
    assert not [pdf for pdf in run.printed() if "住民票" in pdf_text(pdf)]
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        states = [row[0] for row in db.execute("SELECT state FROM issuances")]
    assert states == ["voided"]


def test_a_resident_can_do_it_all_in_korean(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--language", "ko")
    assert run.returncode == 0, run.output
    titles = " ".join(s["title"] for s in run.screens)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in titles), "screen titles are in Hangul"
    assert "Enter your PIN" not in titles


def test_at_night_the_welcome_screen_says_when_the_service_opens_and_takes_no_card(stub_data, tmp_path):
    """Closed before the card: at 03:00 the resident learns it at once, not after the PIN."""
    run = run_kiosk("demo", "--headless", "--autopilot", "--data", str(stub_data), "--language", "en",
                    "--at", "2026-11-24T03:00:00+09:00", out=tmp_path / "out")
    assert run.returncode == 2
    text = run.text_of("closed")
    assert "Service starts today at 06:30." in text and "Service hours: 06:30-23:00" in text
    assert not any(name.startswith(("pin", "place_card")) for name in run.screen_names)
    assert run.printed() == []
