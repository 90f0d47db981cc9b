"""The stub's J-LIS PKI: what it writes into the two JPKI certificates of a card."""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from devices.card.cardfile import CardFile
from municipal.pki import (
    JPKI_AUTH_CA_NAME,
    JPKI_AUTH_POLICY,
    JPKI_SIGNATURE_CA_NAME,
    JPKI_SIGNATURE_POLICY,
    JST,
    CardHolder,
    CardPins,
    KeyAndCert,
    PkiFiles,
    fifth_birthday_after,
    issue_card,
    make_ca,
)

HOLDER = CardHolder(name="山田 太郎", address="架空県みどり市若葉町一丁目2番3号" * 3,  # > 127 UTF-8 bytes
                    birth_date=dt.date(1980, 4, 12), sex="1", my_number="123456789018")


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> CardFile:
    path = tmp_path_factory.mktemp("pki") / "card.json"
    return issue_card(make_ca(JPKI_AUTH_CA_NAME), make_ca(JPKI_SIGNATURE_CA_NAME), HOLDER,
                      CardPins("1234", "MIDORI24A", "1234"), card_id="CARD-TEST", path=path)


def certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def other_names(cert: x509.Certificate) -> dict[str, bytes]:
    san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    return {name.type_id.dotted_string: name.value for name in san.get_values_for_type(x509.OtherName)}


def utf8_string(text: str) -> bytes:
    value = text.encode("utf-8")
    length = bytes([len(value)]) if len(value) < 128 else bytes([0x81, len(value)])
    return b"\x0c" + length + value


def test_signature_certificate_carries_the_four_facts_under_the_jpki_oids(issued):
    assert other_names(certificate(issued.signature_certificate_der)) == {
        "1.2.392.200149.8.5.5.1": utf8_string("山田 太郎"),
        "1.2.392.200149.8.5.5.3": utf8_string("1"),
        "1.2.392.200149.8.5.5.4": utf8_string("19800412"),
        "1.2.392.200149.8.5.5.5": utf8_string(HOLDER.address),
    }


def test_signature_certificate_profile(issued):
    cert = certificate(issued.signature_certificate_der)
    assert cert.issuer == JPKI_SIGNATURE_CA_NAME
    assert [p.policy_identifier for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value] \
        == [JPKI_SIGNATURE_POLICY] == [x509.ObjectIdentifier("1.2.392.200149.8.5.1.1")]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_encipherment


def test_auth_certificate_carries_no_personal_facts(issued):
    cert = certificate(issued.auth_certificate_der)
    assert cert.issuer == JPKI_AUTH_CA_NAME
    assert [p.policy_identifier for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value] \
        == [JPKI_AUTH_POLICY]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.content_commitment


def test_both_certificates_end_on_the_fifth_birthday_after_issue(issued):
    today = dt.datetime.now(JST).date()
    last_day = fifth_birthday_after(HOLDER.birth_date, today)
    for der in (issued.auth_certificate_der, issued.signature_certificate_der):
        end = certificate(der).not_valid_after_utc.astimezone(JST)
        assert (end.date(), end.time()) == (last_day, dt.time(23, 59, 59))


@pytest.mark.parametrize("birth, issued_on, last_day", [
    (dt.date(1980, 4, 12), dt.date(2026, 1, 10), dt.date(2030, 4, 12)),  # birthday still to come
    (dt.date(1980, 4, 12), dt.date(2026, 4, 12), dt.date(2031, 4, 12)),  # issued on the birthday
    (dt.date(1980, 4, 12), dt.date(2026, 11, 23), dt.date(2031, 4, 12)),
    (dt.date(2000, 2, 29), dt.date(2026, 3, 1), dt.date(2031, 2, 28)),  # common year: 28 Feb
    (dt.date(2000, 2, 29), dt.date(2027, 3, 1), dt.date(2032, 2, 29)),
])
def test_fifth_birthday_after_issue(birth, issued_on, last_day):
    assert fifth_birthday_after(birth, issued_on) == last_day


def test_card_file_holds_what_the_card_info_ap_shows(issued):
    assert (issued.my_number, issued.name, issued.address, issued.birth_date, issued.sex) == \
        ("123456789018", "山田 太郎", HOLDER.address, "19800412", "1")


def test_a_bad_my_number_is_refused_before_issue():
    with pytest.raises(ValueError, match="check digit"):
        CardHolder(name="x", address="y", birth_date=dt.date(1980, 1, 1), sex="1", my_number="123456789012")


def test_pki_files_include_the_signature_ca(tmp_path):
    pki = PkiFiles(tmp_path)
    pki.create("KIOSK-TEST", {"999001": "架空県みどり市"})
    assert pki.signature_ca == tmp_path / "jpki-sign-ca.pem" and (tmp_path / "jpki-sign-ca.key").exists()
    assert pki.load("jpki-sign-ca").cert.subject == JPKI_SIGNATURE_CA_NAME


def test_each_jpki_ca_has_a_delegated_ocsp_responder(tmp_path):
    pki = PkiFiles(tmp_path)
    pki.create("KIOSK-TEST", {"999001": "架空県みどり市"})
    for stem, path in (("jpki-auth", pki.auth_ocsp_responder), ("jpki-sign", pki.signature_ocsp_responder)):
        ca, responder = pki.load(f"{stem}-ca").cert, pki.load(f"{stem}-ocsp").cert
        assert path == tmp_path / f"{stem}-ocsp.pem"
        responder.verify_directly_issued_by(ca)
        assert list(responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
            [ExtendedKeyUsageOID.OCSP_SIGNING]
        responder.extensions.get_extension_for_class(x509.OCSPNoCheck)


def test_another_terminal_is_issued_from_the_stub_root(tmp_path):
    pki = PkiFiles(tmp_path / "pki")
    pki.create("KIOSK-0001", {"999001": "架空県みどり市"})
    cert_path, key_path = pki.new_terminal("KIOSK-0002", tmp_path / "out")
    terminal = KeyAndCert.read(tmp_path / "out", "KIOSK-0002")
    assert (cert_path, key_path) == (tmp_path / "out" / "KIOSK-0002.pem", tmp_path / "out" / "KIOSK-0002.key")
    terminal.cert.verify_directly_issued_by(pki.load("root").cert)
    assert terminal.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "KIOSK-0002"
