"""The issuance stub over real mutual TLS on loopback: who may talk to it, and what
it refuses. Cards sign with their own keys from the card files, as a card would."""
from __future__ import annotations

import ssl
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from devices.card.cardfile import CardFile
from kiosk.issuance_client import IssuanceClient, ServiceRefused, ServiceUnreachable
from municipal.cli import card_path
from municipal.pki import PkiFiles, STUB_ROOT_NAME, issue_auth_certificate, make_ca
from contract.issuance import IssuanceRequest
from municipal.service import ServiceConfig
from municipal.terminals import register_terminal


def client_for(url, stub_data, cert=None, key=None):
    pki = PkiFiles(stub_data / "pki")
    return IssuanceClient(url, ca_cert=pki.root, client_cert=cert or pki.terminal_cert,
                          client_key=key or pki.terminal_key)


def card_signature(card: CardFile, message: bytes) -> bytes:
    key = serialization.load_pem_private_key(card.auth_private_key_pem, None)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def open_session(client, card: CardFile):
    challenge = client.challenge()
    return client.open_session(challenge, card.auth_certificate_der, card_signature(card, challenge.nonce))


def write_terminal(stub_data, tmp_path, root, name):
    """A terminal certificate from `root`, on the stub's list of terminals."""
    terminal = PkiFiles.issue_terminal(root, name)
    terminal.write(tmp_path, name)
    register_terminal(ServiceConfig(stub_data).registry, terminal.cert)
    return tmp_path / f"{name}.pem", tmp_path / f"{name}.key"


def test_a_connection_without_a_terminal_certificate_is_refused(stub):
    url, stub_data = stub
    tls = ssl.create_default_context(cafile=str(PkiFiles(stub_data / "pki").root))
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{url}/v1/challenges", verify=tls, timeout=5)


def test_a_terminal_certificate_from_another_ca_is_refused(stub, tmp_path):
    url, stub_data = stub
    cert, key = write_terminal(stub_data, tmp_path, make_ca(STUB_ROOT_NAME), "KIOSK-ROGUE")
    with pytest.raises(ServiceUnreachable):
        client_for(url, stub_data, cert, key).challenge()


def test_a_resident_session_offers_the_municipalitys_documents(stub):
    url, stub_data = stub
    session = open_session(client_for(url, stub_data), CardFile.load(card_path(stub_data, "R0801")))
    assert [(d.type, d.fee_yen, d.available) for d in session.documents] == [
        ("residence_record", 300, True), ("family_register_full", 450, True),
        ("family_register_individual", 450, True)]


def test_a_challenge_is_answered_once_only(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    card = CardFile.load(card_path(stub_data, "R0001"))
    challenge = client.challenge()
    signature = card_signature(card, challenge.nonce)
    client.open_session(challenge, card.auth_certificate_der, signature)
    with pytest.raises(ServiceRefused) as refused:
        client.open_session(challenge, card.auth_certificate_der, signature)
    assert refused.value.code == "challenge_replayed"


def test_a_challenge_signed_for_another_terminal_is_refused(stub, tmp_path):
    url, stub_data = stub
    root = PkiFiles(stub_data / "pki").load("root")
    other = client_for(url, stub_data, *write_terminal(stub_data, tmp_path, root, "KIOSK-0002"))
    card = CardFile.load(card_path(stub_data, "R0001"))
    challenge = other.challenge()
    with pytest.raises(ServiceRefused) as refused:
        client_for(url, stub_data).open_session(challenge, card.auth_certificate_der,
                                                card_signature(card, challenge.nonce))
    assert refused.value.code == "challenge_other_terminal"


def test_a_signature_by_another_card_is_refused(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    holder, thief = (CardFile.load(card_path(stub_data, r)) for r in ("R0001", "R0101"))
    challenge = client.challenge()
    with pytest.raises(ServiceRefused) as refused:
        client.open_session(challenge, holder.auth_certificate_der, card_signature(thief, challenge.nonce))
    assert refused.value.code == "signature_invalid"


def test_an_expired_card_certificate_is_refused(stub):
    url, stub_data = stub
    card = CardFile.load(card_path(stub_data, "R0001"))
    key = serialization.load_pem_private_key(card.auth_private_key_pem, None)
    auth_ca = PkiFiles(stub_data / "pki").load("jpki-auth-ca")
    expired = issue_auth_certificate(auth_ca, key, days=-0.5).public_bytes(serialization.Encoding.DER)
    client = client_for(url, stub_data)
    challenge = client.challenge()
    with pytest.raises(ServiceRefused) as refused:
        client.open_session(challenge, expired, card_signature(card, challenge.nonce))
    assert refused.value.code == "certificate_expired"


def test_retrying_a_request_returns_the_same_document_never_a_second_one(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    session = open_session(client, CardFile.load(card_path(stub_data, "R0001")))
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type="residence_record", copies=1)
    first, again = client.issue(request), client.issue(request)
    assert again.pdf == first.pdf and again.manifest == first.manifest
    other = client.issue(request.model_copy(update={"request_id": str(uuid.uuid4())}))
    assert other.manifest.serial != first.manifest.serial
    with pytest.raises(ServiceRefused) as refused:
        client.issue(request.model_copy(update={"copies": 2}))
    assert refused.value.code == "request_conflict"


def test_a_session_cannot_be_used_from_another_terminal(stub, tmp_path):
    url, stub_data = stub
    session = open_session(client_for(url, stub_data), CardFile.load(card_path(stub_data, "R0001")))
    root = PkiFiles(stub_data / "pki").load("root")
    other = client_for(url, stub_data, *write_terminal(stub_data, tmp_path, root, "KIOSK-0002"))
    with pytest.raises(ServiceRefused) as refused:
        other.issue(IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                                    document_type="residence_record", copies=1))
    assert refused.value.code == "session_invalid"
