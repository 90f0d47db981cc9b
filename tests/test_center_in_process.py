"""The issuance center's app in this process (Starlette's test client, the terminal's
certificate handed over as TLS would), for what only a change inside the process can
provoke: a serial that collides, and a bug in a handler."""
from __future__ import annotations

import base64
import sqlite3
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

import municipal.documents
import municipal.public_site
import municipal.service
from devices.card.cardfile import CardFile
from municipal.cli import card_path
from municipal.pki import PkiFiles
from municipal.public_site import build_public_app
from municipal.service import ServiceConfig, build_app
from tests.fixtures.stub import TEST_CLOCK
from tests.test_issuance_service import card_signature


@pytest.fixture
def center(stub_data):
    """A test client of the API as terminal KIOSK-0001."""
    cert = x509.load_pem_x509_certificate(PkiFiles(stub_data / "pki").terminal_cert.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    app = build_app(ServiceConfig(stub_data, clock_offset=TEST_CLOCK.offset))

    async def with_terminal_certificate(scope, receive, send):
        if scope["type"] == "http":
            scope.setdefault("extensions", {})["tls"] = {"client_cert_der": der}
        await app(scope, receive, send)

    with TestClient(with_terminal_certificate, base_url="https://center", raise_server_exceptions=False) as client:
        yield client


def session_id(center, data, resident: str = "R0001") -> str:
    card = CardFile.load(card_path(data, resident))
    challenge = center.post("/v1/challenges").json()
    signature = card_signature(card, base64.b64decode(challenge["challenge"]))
    answer = center.post("/v1/sessions", json={
        "challenge_id": challenge["challenge_id"],
        "certificate": base64.b64encode(card.auth_certificate_der).decode(),
        "signature": base64.b64encode(signature).decode()})
    assert answer.status_code == 201, answer.text
    return answer.json()["session_id"]


def issue(center, session: str):
    return center.post("/v1/issuances", json={"session_id": session, "request_id": str(uuid.uuid4()),
                                              "document_type": "residence_record", "copies": 1})


def audit(data, event: str) -> list[str]:
    conn = sqlite3.connect(data / "registry.sqlite")
    try:
        return [row[0] for row in conn.execute("SELECT outcome FROM audit WHERE event = ?", (event,))]
    finally:
        conn.close()


def test_a_serial_that_collides_gets_a_new_serial_never_a_500(center, stub_data, monkeypatch):
    session = session_id(center, stub_data)
    first = issue(center, session)
    assert first.status_code == 200, first.text
    taken = first.json()["manifest"]["serial"].rsplit("-", 1)[1]
    fresh = iter([taken, taken, "00000ABCDE"])  # the random part, twice the one already used
    monkeypatch.setattr(municipal.documents.secrets, "token_hex", lambda n: next(fresh))
    second = issue(center, session)
    assert second.status_code == 200, second.text
    assert second.json()["manifest"]["serial"].endswith("-00000ABCDE")
    assert audit(stub_data, "issuance").count("serial_collision") == 2


def test_a_bug_answers_a_json_500_with_an_error_code_and_is_audited(center, stub_data, monkeypatch):
    session = session_id(center, stub_data)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(municipal.service, "prepare_document", broken)
    answer = issue(center, session)
    assert answer.status_code == 500
    body = answer.json()
    assert body["code"] == "internal_error" and "a bug" not in answer.text
    error_id = body["message"].rsplit(" ", 1)[1]
    assert audit(stub_data, "issuance") == [f"internal_error:{error_id}"]


def test_a_bug_on_the_public_site_answers_a_json_500_and_is_audited(stub_data, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(municipal.public_site, "serial_of", broken)
    app = build_public_app(ServiceConfig(stub_data))
    with TestClient(app, base_url="https://verify", raise_server_exceptions=False) as client:
        answer = client.post("/v1/verifications", json={"code": "KV1.999001-20261124-0000000000.AAAA"})
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    assert audit(stub_data, "request") == [f"internal_error:{answer.json()['message'].rsplit(' ', 1)[1]}"]


def test_a_card_certificate_of_an_unknown_x509_version_is_refused_not_a_500(center, stub_data):
    card = CardFile.load(card_path(stub_data, "R0001"))
    version_3 = b"\xa0\x03\x02\x01\x02"
    assert version_3 in card.auth_certificate_der
    version_2 = card.auth_certificate_der.replace(version_3, b"\xa0\x03\x02\x01\x01", 1)
    challenge = center.post("/v1/challenges").json()
    answer = center.post("/v1/sessions", json={
        "challenge_id": challenge["challenge_id"], "certificate": base64.b64encode(version_2).decode(),
        "signature": base64.b64encode(card_signature(card, base64.b64decode(challenge["challenge"]))).decode()})
    assert answer.status_code == 403 and answer.json()["code"] == "certificate_invalid", answer.text
