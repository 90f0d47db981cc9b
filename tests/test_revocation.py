"""Revocation: the registry's records, the CRLs and the OCSP responder built from them
(read back with cryptography's own parsers), and the same over the running stub."""
from __future__ import annotations

import datetime as dt
import sqlite3
import ssl
import uuid
from contextlib import closing

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from benchmarks.fuzz_center import der_cert_id, der_integer, der_ocsp_request
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path, main
from municipal.pki import JPKI_AUTH_CA_NAME, KeyAndCert, PkiFiles, issue_auth_certificate, make_ca
from contract.issuance import IssuanceRequest
from municipal.refusal_material import RESIDENT, seeded_card
from municipal.registry import SCHEMA, Registry
from municipal.revocation import (REVOCATION_SCHEMA, Authority, build_crl, check_card_not_revoked,
                                  load_authorities, ocsp_response, revoke_card, revoke_terminal)
from municipal.terminals import check_terminal, register_terminal
from municipal.verification import Refused
from tests.test_issuance_service import client_for, open_session

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
NONCE = b"kiosk-ocsp-nonce-0001"
KEY_COMPROMISE = x509.ReasonFlags.key_compromise


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PkiFiles:
    pki = PkiFiles(tmp_path_factory.mktemp("pki"))
    pki.create("KIOSK-0001", {"999001": "架空県みどり市"})
    return pki


@pytest.fixture
def registry(tmp_path) -> Registry:
    """A registry's tables without residents: these checks need none."""
    registry = Registry(tmp_path / "registry.sqlite")
    with closing(sqlite3.connect(registry.path)) as conn:
        conn.executescript(SCHEMA + REVOCATION_SCHEMA)
    return registry


def new_card_certificate(ca: KeyAndCert) -> x509.Certificate:
    return issue_auth_certificate(ca, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def crl_of(registry: Registry, ca: KeyAndCert) -> x509.CertificateRevocationList:
    with registry.transaction() as conn:
        der = build_crl(conn, ca, NOW).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_crl(der)


def crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, algorithm=hashes.SHA1()) -> bytes:
    return (ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)
            .add_extension(x509.OCSPNonce(NONCE), critical=False).build()
            .public_bytes(serialization.Encoding.DER))


def ask(registry: Registry, authorities: list[Authority], request_der: bytes) -> ocsp.OCSPResponse:
    with registry.reading() as conn:
        der = ocsp_response(conn, request_der, authorities, NOW).public_bytes(serialization.Encoding.DER)
    return ocsp.load_der_ocsp_response(der)


def assert_signed_by_delegated_responder(response: ocsp.OCSPResponse, ca: x509.Certificate) -> None:
    """RFC 6960 4.2.2.2: the signer is certified by the CA itself, for OCSP signing only."""
    [responder] = response.certificates
    responder.verify_directly_issued_by(ca)
    assert response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(responder.public_key()).digest
    assert list(responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.OCSP_SIGNING]
    responder.public_key().verify(response.signature, response.tbs_response_bytes,
                                  ec.ECDSA(response.signature_hash_algorithm))
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == NONCE


# --- the registry's records and the checks the service makes ------------------------

def test_a_revoked_card_certificate_is_refused_and_others_are_not(pki, registry):
    auth_ca = pki.load("jpki-auth-ca")
    revoked, kept = new_card_certificate(auth_ca), new_card_certificate(auth_ca)
    assert revoke_card(registry, revoked, KEY_COMPROMISE)
    with registry.reading() as conn:
        with pytest.raises(Refused) as refused:
            check_card_not_revoked(conn, revoked)
        check_card_not_revoked(conn, kept)
    assert refused.value.code == "certificate_revoked"


def test_revoking_twice_keeps_the_first_revocation(pki, registry):
    card = new_card_certificate(pki.load("jpki-auth-ca"))
    assert revoke_card(registry, card, KEY_COMPROMISE)
    assert not revoke_card(registry, card, x509.ReasonFlags.superseded)
    [entry] = crl_of(registry, pki.load("jpki-auth-ca"))
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is KEY_COMPROMISE


def test_a_revoked_terminal_id_refuses_every_certificate_of_that_terminal(pki, registry):
    root = pki.load("root")
    old, new, other = (PkiFiles.issue_terminal(root, name).cert
                       for name in ("KIOSK-0001", "KIOSK-0001", "KIOSK-0002"))
    for cert in (old, new, other):
        register_terminal(registry, cert)
    revoke_terminal(registry, "KIOSK-0001", x509.ReasonFlags.cessation_of_operation)
    with registry.reading() as conn:
        for cert in (old, new):
            with pytest.raises(Refused) as refused:
                check_terminal(conn, cert)
            assert refused.value.code == "terminal_revoked"
        check_terminal(conn, other)


def test_a_revoked_terminal_certificate_spares_the_terminals_next_certificate(pki, registry):
    root = pki.load("root")
    old, new = (PkiFiles.issue_terminal(root, "KIOSK-0001").cert for _ in range(2))
    for cert in (old, new):
        register_terminal(registry, cert)
    revoke_terminal(registry, old, x509.ReasonFlags.superseded)
    with registry.reading() as conn:
        with pytest.raises(Refused):
            check_terminal(conn, old)
        check_terminal(conn, new)


# --- CRL ----------------------------------------------------------------------------

def test_each_crl_is_signed_by_its_ca_and_lists_only_its_own_revoked_serials(pki, registry):
    cas = [pki.load("jpki-auth-ca"), pki.load("jpki-sign-ca")]
    revoked = [new_card_certificate(ca) for ca in cas]
    for cert in revoked:
        revoke_card(registry, cert, KEY_COMPROMISE)
    for ca, cert in zip(cas, revoked):
        crl = crl_of(registry, ca)
        assert crl.issuer == ca.cert.subject and crl.is_signature_valid(ca.cert.public_key())
        assert crl.last_update_utc == NOW < crl.next_update_utc
        assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == \
            x509.SubjectKeyIdentifier.from_public_key(ca.cert.public_key()).digest
        [entry] = crl
        assert entry.serial_number == cert.serial_number
        assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is KEY_COMPROMISE


def test_each_crl_has_a_higher_number_and_an_unspecified_reason_is_left_out(pki, registry):
    ca = pki.load("jpki-auth-ca")
    first = crl_of(registry, ca)
    revoke_card(registry, new_card_certificate(ca), x509.ReasonFlags.unspecified)
    second = crl_of(registry, ca)
    assert (crl_number(first), crl_number(second)) == (1, 2)
    assert len(first) == 0 and len(second[0].extensions) == 0


# --- OCSP ---------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA256()], ids=["sha1", "sha256"])
@pytest.mark.parametrize("stem", ["jpki-auth", "jpki-sign"])
def test_ocsp_answers_good_then_revoked_signed_by_the_cas_responder(pki, registry, stem, algorithm):
    authorities = list(load_authorities(pki).values())
    ca = pki.load(f"{stem}-ca")
    card = new_card_certificate(ca)
    request = ocsp_request(card, ca.cert, algorithm)
    good = ask(registry, authorities, request)
    assert good.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert (good.certificate_status, good.serial_number) == (ocsp.OCSPCertStatus.GOOD, card.serial_number)
    assert_signed_by_delegated_responder(good, ca.cert)
    revoke_card(registry, card, KEY_COMPROMISE)
    revoked = ask(registry, authorities, request)
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason is KEY_COMPROMISE
    assert abs(revoked.revocation_time_utc - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    assert_signed_by_delegated_responder(revoked, ca.cert)


def test_ocsp_answers_unknown_for_a_ca_it_does_not_run(pki, registry):
    impostor = make_ca(JPKI_AUTH_CA_NAME)
    answer = ask(registry, list(load_authorities(pki).values()),
                 ocsp_request(new_card_certificate(impostor), impostor.cert))
    assert answer.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


@pytest.mark.parametrize("body", [b"", b"not DER at all", b"\x30\x03\x30\x01\x00"],
                         ids=["empty", "text", "truncated"])
def test_a_malformed_ocsp_request_gets_malformed_request(pki, registry, body):
    answer = ask(registry, list(load_authorities(pki).values()), body)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_an_ocsp_request_no_certificate_could_make_gets_malformed_request(pki, registry):
    """Found by fuzzing (each was a 500): two nonces, an issuer hash of the wrong
    length, a negative serial."""
    ca = pki.load("jpki-auth-ca")
    real = ocsp.load_der_ocsp_request(ocsp_request(new_card_certificate(ca), ca.cert, hashes.SHA256()))
    name_hash, key_hash, serial = real.issuer_name_hash, real.issuer_key_hash, der_integer(real.serial_number)
    requests = {
        "two nonces": der_ocsp_request([der_cert_id("sha256", name_hash, key_hash, serial)], [NONCE, NONCE]),
        "short hash": der_ocsp_request([der_cert_id("sha256", name_hash, b"", serial)], [NONCE]),
        "negative serial": der_ocsp_request([der_cert_id("sha256", name_hash, key_hash, der_integer(-5))], []),
    }
    authorities = list(load_authorities(pki).values())
    for what, der in requests.items():
        assert ask(registry, authorities, der).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST, what


# --- over the running stub, revoking with kiosk-municipal -----------------------------

def https(url: str, stub_data) -> httpx.Client:
    """A client with the terminal's certificate: the stub asks every caller for one."""
    pki = PkiFiles(stub_data / "pki")
    tls = ssl.create_default_context(cafile=str(pki.root))
    tls.load_cert_chain(str(pki.terminal_cert), str(pki.terminal_key))
    return httpx.Client(base_url=url, verify=tls, timeout=10)


def post_ocsp(http: httpx.Client, body: bytes) -> ocsp.OCSPResponse:
    response = http.post("/v1/ocsp", content=body, headers={"content-type": "application/ocsp-request"})
    assert (response.status_code, response.headers["content-type"]) == (200, "application/ocsp-response")
    return ocsp.load_der_ocsp_response(response.content)


def run_cli(stub_data, *args: str) -> None:
    assert main([*args, "--dir", str(stub_data)]) == 0


def test_the_served_crls_list_both_certificates_of_a_card_revoked_with_the_cli(stub):
    url, stub_data = stub
    card, pki = seeded_card(stub_data), PkiFiles(stub_data / "pki")
    run_cli(stub_data, "revoke-card", "--resident", RESIDENT, "--reason", "keyCompromise")
    with https(url, stub_data) as http:
        for path, stem, der in (("/v1/crl/auth.crl", "jpki-auth-ca", card.auth_certificate_der),
                                ("/v1/crl/sign.crl", "jpki-sign-ca", card.signature_certificate_der)):
            response = http.get(path)
            assert response.headers["content-type"] == "application/pkix-crl"
            crl = x509.load_der_x509_crl(response.content)
            assert crl.is_signature_valid(pki.load(stem).cert.public_key())
            serial = x509.load_der_x509_certificate(der).serial_number
            assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_ocsp_says_good_then_revoked_and_the_card_is_refused_after_revoke_card(stub):
    url, stub_data = stub
    card, auth_ca = seeded_card(stub_data), PkiFiles(stub_data / "pki").load("jpki-auth-ca").cert
    request = ocsp_request(x509.load_der_x509_certificate(card.auth_certificate_der), auth_ca)
    client = client_for(url, stub_data)
    with https(url, stub_data) as http:
        assert post_ocsp(http, request).certificate_status is ocsp.OCSPCertStatus.GOOD
        open_session(client, card)
        run_cli(stub_data, "revoke-card", "--resident", RESIDENT, "--reason", "keyCompromise")
        revoked = post_ocsp(http, request)
    assert (revoked.certificate_status, revoked.revocation_reason) == (ocsp.OCSPCertStatus.REVOKED, KEY_COMPROMISE)
    assert_signed_by_delegated_responder(revoked, auth_ca)
    with pytest.raises(ServiceRefused) as refused:
        open_session(client, card)
    assert refused.value.code == "certificate_revoked"


def test_a_card_revoked_during_its_session_is_refused_at_its_next_issuance(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    session = open_session(client, seeded_card(stub_data))
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type="residence_record", copies=1)
    client.issue(request)
    run_cli(stub_data, "revoke-card", "--resident", RESIDENT, "--reason", "keyCompromise")
    with pytest.raises(ServiceRefused) as refused:
        client.issue(request.model_copy(update={"request_id": str(uuid.uuid4())}))
    assert refused.value.code == "certificate_revoked"


def test_the_stub_answers_a_malformed_ocsp_request_with_malformed_request(stub):
    url, stub_data = stub
    with https(url, stub_data) as http:
        assert post_ocsp(http, b"{}").response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_a_revoked_terminal_is_refused_on_its_next_request_and_a_fresh_one_is_served(stub, tmp_path):
    url, stub_data = stub
    revoked = client_for(url, stub_data)
    revoked.challenge()
    run_cli(stub_data, "revoke-terminal", "--terminal-id", "KIOSK-0001")
    with pytest.raises(ServiceRefused) as refused:
        revoked.challenge()
    assert refused.value.code == "terminal_revoked"
    run_cli(stub_data, "issue-terminal", "--terminal-id", "KIOSK-0002", "--out", str(tmp_path))
    fresh = client_for(url, stub_data, tmp_path / "KIOSK-0002.pem", tmp_path / "KIOSK-0002.key")
    open_session(fresh, seeded_card(stub_data))
    with closing(sqlite3.connect(stub_data / "registry.sqlite")) as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE terminal = 'KIOSK-0001'"
                            " AND outcome = 'terminal_revoked'").fetchone()[0] == 1


def test_revoke_card_refuses_a_folder_without_a_stub_and_a_card_of_someone_else(stub_data, tmp_path, capsys):
    assert main(["revoke-card", "--dir", str(tmp_path / "nothing"), "--resident", RESIDENT]) == 1
    other = seeded_card(stub_data, "R0101")
    other.save(card_path(stub_data, RESIDENT))
    assert main(["revoke-card", "--dir", str(stub_data), "--resident", RESIDENT]) == 1
    assert "not registered to resident" in capsys.readouterr().err
