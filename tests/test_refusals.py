"""Every card and challenge the issuance center must refuse, driven through the real
stub over mutual TLS with the kiosk's own client: the refusal code on the wire, and
an audit row (and log line) that records it without personal data."""
from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing

import pytest

from devices.card.cardfile import CardFile
from kiosk.embedded import free_port, running_stub
from kiosk.issuance_client import ServiceRefused
from municipal.pki import PkiFiles
from municipal.refusal_material import (REFUSED_CARDS, RESIDENT, card_signature, second_terminal,
                                        seeded_card)
from municipal.verification import Refused, verify_auth_certificate
from tests.fixtures.stub import TEST_CLOCK
from tests.test_issuance_service import client_for

TERMINAL = "KIOSK-0001"
# Refused by verify_auth_certificate itself; the others by the checks after it.
CERTIFICATE_REFUSALS = [(build, code) for build, code in REFUSED_CARDS
                        if code not in ("certificate_revoked", "signature_invalid")]


def case_id(case) -> str:
    return case[0].__name__


@pytest.fixture
def logged_stub(stub_data, tmp_path):
    """The stub with its log kept, so a test can read what reached it."""
    log = tmp_path / "stub.log"
    with running_stub(stub_data, free_port(), log_file=log, clock=TEST_CLOCK) as url:
        yield url, stub_data, log


def refusal_of(call, *args) -> str:
    with pytest.raises(ServiceRefused) as refused:
        call(*args)
    return refused.value.code


def personal_data(card: CardFile, resident: str) -> list[str]:
    """What must never reach the audit table or the log: the card-info facts, the
    birth date in either form, the resident's registry id."""
    birth = dt.datetime.strptime(card.birth_date, "%Y%m%d").date().isoformat()
    return [card.name, *card.name.split(), card.address, card.my_number, card.birth_date, birth, resident]


def assert_audited_without_personal_data(stub_data, log, code: str, card: CardFile) -> None:
    with closing(sqlite3.connect(stub_data / "registry.sqlite")) as conn:
        rows = conn.execute("SELECT at, event, terminal, session, request, outcome FROM audit").fetchall()
    assert any(row[2] == TERMINAL and row[5] == code for row in rows), rows
    recorded = "\n".join(str(value) for row in rows for value in row) + log.read_text(encoding="utf-8")
    assert [fact for fact in personal_data(card, RESIDENT) if fact in recorded] == []


# --- without the server: the certificate checks alone ------------------------------

@pytest.mark.parametrize("case", CERTIFICATE_REFUSALS, ids=case_id)
def test_each_refused_certificate_fails_verification_with_its_code(stub_data, case):
    build, code = case
    auth_ca = PkiFiles(stub_data / "pki").load("jpki-auth-ca").cert
    with pytest.raises(Refused) as refused:
        verify_auth_certificate(build(stub_data).auth_certificate_der, auth_ca, dt.datetime.now(dt.timezone.utc))
    assert refused.value.code == code


def test_the_seeded_card_passes_verification(stub_data):
    auth_ca = PkiFiles(stub_data / "pki").load("jpki-auth-ca").cert
    verify_auth_certificate(seeded_card(stub_data).auth_certificate_der, auth_ca, dt.datetime.now(dt.timezone.utc))


# --- through the running stub --------------------------------------------------------

@pytest.mark.parametrize("case", REFUSED_CARDS, ids=case_id)
def test_each_refused_card_is_refused_over_mutual_tls_and_audited(logged_stub, case):
    """The material is made while the stub runs: a revocation counts from the next request."""
    url, stub_data, log = logged_stub
    build, code = case
    card = build(stub_data)
    client = client_for(url, stub_data)
    challenge = client.challenge()
    signature = card_signature(card, challenge.nonce)
    assert refusal_of(client.open_session, challenge, card.auth_certificate_der, signature) == code
    assert_audited_without_personal_data(stub_data, log, code, card)


def test_a_replayed_challenge_is_refused_and_audited(logged_stub):
    url, stub_data, log = logged_stub
    card, client = seeded_card(stub_data), client_for(url, stub_data)
    challenge = client.challenge()
    signature = card_signature(card, challenge.nonce)
    client.open_session(challenge, card.auth_certificate_der, signature)
    assert refusal_of(client.open_session, challenge, card.auth_certificate_der, signature) == "challenge_replayed"
    assert_audited_without_personal_data(stub_data, log, "challenge_replayed", card)


def test_a_challenge_issued_to_another_terminal_is_refused_and_audited(logged_stub):
    url, stub_data, log = logged_stub
    card = seeded_card(stub_data)
    challenge = client_for(url, stub_data, *second_terminal(stub_data)).challenge()
    signature = card_signature(card, challenge.nonce)
    this_terminal = client_for(url, stub_data)
    assert refusal_of(this_terminal.open_session, challenge, card.auth_certificate_der, signature) == \
        "challenge_other_terminal"
    assert_audited_without_personal_data(stub_data, log, "challenge_other_terminal", card)
