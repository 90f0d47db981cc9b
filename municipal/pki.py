"""The stub's test PKI: JPKI-like authentication and signature CAs that issue the
virtual cards (the stub plays J-LIS), each with a delegated OCSP responder, and an
infrastructure CA for TLS (server and kiosk terminals) and the municipality's
manifest-signing certificate.

Everything lives as PEM files in one folder (`PkiFiles`), created once by
`kiosk-municipal init`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contract.service_window import JST
from devices.card import my_number
from devices.card.cardfile import CardFile

JPKI_AUTH_POLICY = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3")
JPKI_SIGNATURE_POLICY = x509.ObjectIdentifier("1.2.392.200149.8.5.1.1")
# subjectAltName otherName types of the signature certificate's four facts
JPKI_NAME_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
JPKI_SEX_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
JPKI_BIRTH_DATE_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
JPKI_ADDRESS_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336

def _jpki_ca_name(purpose: str) -> x509.Name:
    """J-LIS names its two CAs alike; only the purpose OU differs."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, purpose),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                           "Japan Agency for Local Authority Information Systems"),
    ])


JPKI_AUTH_CA_NAME = _jpki_ca_name("JPKI for user authentication")
JPKI_SIGNATURE_CA_NAME = _jpki_ca_name("JPKI for digital signature")
STUB_ROOT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Konbini Kiosk Test Issuance Network"),
    x509.NameAttribute(NameOID.COMMON_NAME, "Issuance Network Test Root"),
])


@dataclass(frozen=True)
class CardHolder:
    """What J-LIS writes about the resident on the card: the four facts and the My Number."""
    name: str
    address: str
    birth_date: dt.date
    sex: str  # ISO 5218: "1", "2" or "9"
    my_number: str

    def __post_init__(self) -> None:
        if not my_number.is_valid(self.my_number):
            raise ValueError(f"{self.name}: the My Number is not 12 digits with a valid check digit")


@dataclass(frozen=True)
class CardPins:
    """What the resident chose at the municipal office."""
    auth_pin: str
    signature_password: str
    card_info_pin: str


@dataclass(frozen=True)
class KeyAndCert:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, folder: Path, stem: str) -> None:
        (folder / f"{stem}.pem").write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_path = folder / f"{stem}.key"
        key_path.write_bytes(private_key_pem(self.key))
        key_path.chmod(0o600)

    @classmethod
    def read(cls, folder: Path, stem: str) -> "KeyAndCert":
        key = serialization.load_pem_private_key((folder / f"{stem}.key").read_bytes(), None)
        cert = x509.load_pem_x509_certificate((folder / f"{stem}.pem").read_bytes())
        return cls(key, cert)


def private_key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _builder(subject: x509.Name, issuer: x509.Name, public_key, not_before, not_after):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def make_ca(name: x509.Name, years: int = 10) -> KeyAndCert:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = _now()
    cert = (_builder(name, name, key.public_key(), now - dt.timedelta(days=1),
                     now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return KeyAndCert(key, cert)


def _issue_leaf(ca: KeyAndCert, subject: x509.Name, key, *, days: float | None = None,
                not_after: dt.datetime | None = None, not_before: dt.datetime | None = None,
                eku=None, san=None, extra=()) -> KeyAndCert:
    """Valid from not_before (default: yesterday) until not_after, or for `days` from now."""
    now = _now()
    if not_after is None:
        not_after = now + dt.timedelta(days=days)
    if not_before is None:
        not_before = now - dt.timedelta(days=1)
    builder = (_builder(subject, ca.cert.subject, key.public_key(), not_before, not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    return KeyAndCert(key, builder.sign(ca.key, hashes.SHA256()))


def _cn(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.COMMON_NAME, name)])


def fifth_birthday_after(birth_date: dt.date, issued_on: dt.date) -> dt.date:
    """The JPKI certificates' last day: the holder's 5th birthday after the issue date.
    A 29 February birthday falls on 28 February in common years."""
    def birthday_in(year: int) -> dt.date:
        try:
            return birth_date.replace(year=year)
        except ValueError:
            return dt.date(year, 2, 28)
    year = issued_on.year if birthday_in(issued_on.year) > issued_on else issued_on.year + 1
    return birthday_in(year + 4)


def _end_of_day_jst(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), JST).astimezone(dt.timezone.utc)


def key_usage(*, digital_signature: bool, non_repudiation: bool) -> x509.KeyUsage:
    """The key usage of a JPKI end-entity certificate (authentication: digitalSignature
    only; signature: both)."""
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=non_repudiation,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)


def _policy(oid: x509.ObjectIdentifier) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(oid, None)])


def issue_auth_certificate(ca: KeyAndCert, key: rsa.RSAPrivateKey, *, days: float = 5 * 365,
                           not_after: dt.datetime | None = None, not_before: dt.datetime | None = None,
                           usage: x509.KeyUsage | None = None,
                           policy: x509.ObjectIdentifier = JPKI_AUTH_POLICY) -> x509.Certificate:
    """A user-authentication certificate of the JPKI profile: no name, no address;
    only a serial-like subject, the authentication policy and digitalSignature use.
    Valid from not_before (default yesterday) until not_after (issue_card: the 5th
    birthday after issue), else for `days`. `usage` and `policy` exist so tests can
    make certificates the validation service must refuse."""
    if usage is None:
        usage = key_usage(digital_signature=True, non_repudiation=False)
    extra = ((usage, True), (_policy(policy), False))
    return _issue_leaf(ca, _cn(secrets.token_hex(8).upper()), key, days=days, not_after=not_after,
                       not_before=not_before, extra=extra).cert


def issue_signature_certificate(ca: KeyAndCert, key: rsa.RSAPrivateKey, holder: CardHolder, *,
                                not_after: dt.datetime) -> x509.Certificate:
    """A digital-signature certificate of the JPKI profile: the four facts in
    subjectAltName otherNames (UTF8String), nonRepudiation and digitalSignature use."""
    facts = x509.SubjectAlternativeName([
        x509.OtherName(JPKI_NAME_OID, _der_utf8_string(holder.name)),
        x509.OtherName(JPKI_SEX_OID, _der_utf8_string(holder.sex)),
        x509.OtherName(JPKI_BIRTH_DATE_OID, _der_utf8_string(holder.birth_date.strftime("%Y%m%d"))),
        x509.OtherName(JPKI_ADDRESS_OID, _der_utf8_string(holder.address)),
    ])
    extra = ((key_usage(digital_signature=True, non_repudiation=True), True),
             (_policy(JPKI_SIGNATURE_POLICY), False), (facts, False))
    return _issue_leaf(ca, _cn(secrets.token_hex(8).upper()), key, not_after=not_after,
                       extra=extra).cert


def issue_ocsp_responder(ca: KeyAndCert) -> KeyAndCert:
    """A delegated OCSP responder for `ca` (RFC 6960 4.2.2.2): EKU OCSPSigning and
    id-pkix-ocsp-nocheck (clients never ask about the responder itself, so it lives
    one year only)."""
    extra = ((key_usage(digital_signature=True, non_repudiation=False), True), (x509.OCSPNoCheck(), False))
    name = x509.Name([*ca.cert.subject, x509.NameAttribute(NameOID.COMMON_NAME, "OCSP Responder")])
    return _issue_leaf(ca, name, ec.generate_private_key(ec.SECP256R1()), days=365,
                       eku=[ExtendedKeyUsageOID.OCSP_SIGNING], extra=extra)


def _der_utf8_string(text: str) -> bytes:
    value = text.encode("utf-8")
    if len(value) < 0x80:
        length = bytes([len(value)])
    else:
        size = (len(value).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(value).to_bytes(size, "big")
    return b"\x0c" + length + value


def issue_card(auth_ca: KeyAndCert, signature_ca: KeyAndCert, holder: CardHolder,
               pins: CardPins, *, card_id: str, path: Path) -> CardFile:
    """Issue both JPKI certificates, valid until the holder's 5th birthday after today,
    and write the card file."""
    issued_on = _now().astimezone(JST).date()
    not_after = _end_of_day_jst(fifth_birthday_after(holder.birth_date, issued_on))
    auth_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = serialization.Encoding.DER
    card = CardFile(
        card_id=card_id,
        auth_certificate_der=issue_auth_certificate(auth_ca, auth_key, not_after=not_after).public_bytes(der),
        auth_ca_certificate_der=auth_ca.cert.public_bytes(der),
        auth_private_key_pem=private_key_pem(auth_key),
        auth_pin=pins.auth_pin,
        signature_certificate_der=issue_signature_certificate(
            signature_ca, sign_key, holder, not_after=not_after).public_bytes(der),
        signature_ca_certificate_der=signature_ca.cert.public_bytes(der),
        signature_private_key_pem=private_key_pem(sign_key),
        signature_password=pins.signature_password,
        card_info_pin=pins.card_info_pin,
        my_number=holder.my_number,
        name=holder.name,
        address=holder.address,
        birth_date=holder.birth_date.strftime("%Y%m%d"),
        sex=holder.sex,
    )
    card.save(path)
    return card


def issue_municipal_signer(root: KeyAndCert, code: str, name: str) -> KeyAndCert:
    """A municipality's document-signing certificate (manifests and verification
    codes): its code in the subject's serialNumber (contract.issuance reads it), and
    only the documentSigning extended key usage, so TLS refuses it as a client or
    server (OpenSSL takes a certificate without any EKU as good for every purpose)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, code),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Certificate Issuance")])
    usage = key_usage(digital_signature=True, non_repudiation=True)
    return _issue_leaf(root, subject, ec.generate_private_key(ec.SECP256R1()), days=825, eku=[DOCUMENT_SIGNING],
                       extra=((usage, True),))


class PkiFiles:
    """The PEM files of one stub installation, by role."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    root = property(lambda self: self.folder / "root.pem")
    auth_ca = property(lambda self: self.folder / "jpki-auth-ca.pem")
    signature_ca = property(lambda self: self.folder / "jpki-sign-ca.pem")
    server_cert = property(lambda self: self.folder / "server.pem")
    server_key = property(lambda self: self.folder / "server.key")
    terminal_cert = property(lambda self: self.folder / "terminal.pem")
    terminal_key = property(lambda self: self.folder / "terminal.key")
    # Every municipality's signing certificate, one PEM after another: what a kiosk
    # trusts. Each municipality's own key and certificate: municipal-signer-<code>.
    manifest_signer = property(lambda self: self.folder / "municipal-signer.pem")
    auth_ocsp_responder = property(lambda self: self.folder / "jpki-auth-ocsp.pem")
    signature_ocsp_responder = property(lambda self: self.folder / "jpki-sign-ocsp.pem")

    def load(self, stem: str) -> KeyAndCert:
        return KeyAndCert.read(self.folder, stem)

    def municipal_signer(self, code: str) -> KeyAndCert:
        return self.load(f"municipal-signer-{code}")

    def create(self, terminal_id: str, municipalities: dict[str, str]) -> None:
        """municipalities: code -> name; each gets its own document-signing key."""
        self.folder.mkdir(parents=True, exist_ok=True)
        root = make_ca(STUB_ROOT_NAME)
        root.write(self.folder, "root")
        for stem, name in (("jpki-auth", JPKI_AUTH_CA_NAME), ("jpki-sign", JPKI_SIGNATURE_CA_NAME)):
            ca = make_ca(name)
            ca.write(self.folder, f"{stem}-ca")
            issue_ocsp_responder(ca).write(self.folder, f"{stem}-ocsp")
        server_san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        _issue_leaf(root, _cn("issuance-center.localhost"), ec.generate_private_key(ec.SECP256R1()),
                    days=825, eku=[ExtendedKeyUsageOID.SERVER_AUTH], san=server_san
                    ).write(self.folder, "server")
        self.issue_terminal(root, terminal_id).write(self.folder, "terminal")
        bundle = b""
        for code, name in municipalities.items():
            signer = issue_municipal_signer(root, code, name)
            signer.write(self.folder, f"municipal-signer-{code}")
            bundle += signer.cert.public_bytes(serialization.Encoding.PEM)
        self.manifest_signer.write_bytes(bundle)

    def new_terminal(self, terminal_id: str, folder: Path) -> tuple[Path, Path]:
        """Issue another kiosk's certificate from the stub root into `folder` as
        <terminal_id>.pem and .key; returns their paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.issue_terminal(self.load("root"), terminal_id).write(folder, terminal_id)
        return folder / f"{terminal_id}.pem", folder / f"{terminal_id}.key"

    @staticmethod
    def issue_terminal(root: KeyAndCert, terminal_id: str) -> KeyAndCert:
        """A kiosk's client certificate: its CN is the terminal identifier."""
        return _issue_leaf(root, _cn(terminal_id), ec.generate_private_key(ec.SECP256R1()),
                           days=825, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
