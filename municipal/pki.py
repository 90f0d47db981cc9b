"""The stub's test PKI: a JPKI-like authentication CA that issues the virtual cards,
and an infrastructure CA for TLS (server and kiosk terminals) and the municipality's
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

from devices.card.cardfile import CardFile

JPKI_AUTH_POLICY = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3")

JPKI_AUTH_CA_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                       "Japan Agency for Local Authority Information Systems"),
])
STUB_ROOT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Konbini Kiosk Test Issuance Network"),
    x509.NameAttribute(NameOID.COMMON_NAME, "Issuance Network Test Root"),
])


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


def _issue_leaf(ca: KeyAndCert, subject: x509.Name, key, *, days: int, eku=None, san=None,
                extra=()) -> KeyAndCert:
    now = _now()
    builder = (_builder(subject, ca.cert.subject, key.public_key(), now - dt.timedelta(days=1),
                        now + dt.timedelta(days=days))
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


def issue_auth_certificate(ca: KeyAndCert, key: rsa.RSAPrivateKey, *, days: int = 5 * 365) -> x509.Certificate:
    """A user-authentication certificate of the JPKI profile: no name, no address;
    only a serial-like subject, the authentication policy and digitalSignature use."""
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False)
    policy = x509.CertificatePolicies([x509.PolicyInformation(JPKI_AUTH_POLICY, None)])
    subject = _cn(secrets.token_hex(8).upper())
    return _issue_leaf(ca, subject, key, days=days,
                       extra=((usage, True), (policy, False))).cert


def issue_card(auth_ca: KeyAndCert, *, card_id: str, pin: str, path: Path) -> CardFile:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = issue_auth_certificate(auth_ca, key)
    card = CardFile(card_id=card_id,
                    auth_certificate_der=cert.public_bytes(serialization.Encoding.DER),
                    auth_ca_certificate_der=auth_ca.cert.public_bytes(serialization.Encoding.DER),
                    auth_private_key_pem=private_key_pem(key), auth_pin=pin)
    card.save(path)
    return card


class PkiFiles:
    """The PEM files of one stub installation, by role."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    root = property(lambda self: self.folder / "root.pem")
    auth_ca = property(lambda self: self.folder / "jpki-auth-ca.pem")
    server_cert = property(lambda self: self.folder / "server.pem")
    server_key = property(lambda self: self.folder / "server.key")
    terminal_cert = property(lambda self: self.folder / "terminal.pem")
    terminal_key = property(lambda self: self.folder / "terminal.key")
    manifest_signer = property(lambda self: self.folder / "municipal-signer.pem")

    def load(self, stem: str) -> KeyAndCert:
        return KeyAndCert.read(self.folder, stem)

    def create(self, terminal_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        root = make_ca(STUB_ROOT_NAME)
        root.write(self.folder, "root")
        make_ca(JPKI_AUTH_CA_NAME).write(self.folder, "jpki-auth-ca")
        server_san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        _issue_leaf(root, _cn("issuance-center.localhost"), ec.generate_private_key(ec.SECP256R1()),
                    days=825, eku=[ExtendedKeyUsageOID.SERVER_AUTH], san=server_san
                    ).write(self.folder, "server")
        self.issue_terminal(root, terminal_id).write(self.folder, "terminal")
        _issue_leaf(root, _cn("Midori City Certificate Issuance"), ec.generate_private_key(ec.SECP256R1()),
                    days=825).write(self.folder, "municipal-signer")

    @staticmethod
    def issue_terminal(root: KeyAndCert, terminal_id: str) -> KeyAndCert:
        """A kiosk's client certificate: its CN is the terminal identifier."""
        return _issue_leaf(root, _cn(terminal_id), ec.generate_private_key(ec.SECP256R1()),
                           days=825, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
