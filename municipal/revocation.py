"""Revocation of card certificates and kiosk terminals, and its publication as CRLs
and an OCSP responder.

The registry is the only state: every check, CRL and OCSP answer reads it afresh, so
a revocation takes effect on the very next request, within an open session too. CRLs
are signed by the CA itself; OCSP answers by the CA's delegated responder (EKU
OCSPSigning, in PkiFiles as jpki-auth-ocsp / jpki-sign-ocsp), so a CA key never signs
on every request.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devices.card.cardfile import CardFile
from municipal.pki import KeyAndCert, PkiFiles, cert_sha256
from contract.issuance import API
from municipal.verification import Refused

REVOCATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS revoked_certificates (
    issuer BLOB NOT NULL, serial TEXT NOT NULL, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL,
    cert_sha256 TEXT NOT NULL, PRIMARY KEY (issuer, serial));
CREATE INDEX IF NOT EXISTS revoked_certificates_by_sha256 ON revoked_certificates (cert_sha256);
CREATE TABLE IF NOT EXISTS revoked_terminals (
    terminal_id TEXT NOT NULL, serial TEXT NOT NULL, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (terminal_id, serial));
CREATE TABLE IF NOT EXISTS crl_numbers (issuer BLOB PRIMARY KEY, last INTEGER NOT NULL);
"""
# revoked_certificates.issuer is the DER of the issuer's Name; serials are lower-case
# hex (up to 20 octets, past SQLite's 64-bit integers); revoked_at is Unix seconds;
# cert_sha256 is the certificate's fingerprint, all an open session keeps of its card.
# revoked_terminals.serial '' revokes every certificate of that terminal id.
EVERY_CERTIFICATE = ""
# A CRL is built on each request; nextUpdate only tells an offline verifier how long
# it may keep one.
CRL_VALIDITY = dt.timedelta(days=1)
CRL_MEDIA_TYPE = "application/pkix-crl"
OCSP_RESPONSE_MEDIA_TYPE = "application/ocsp-response"
CRL_PATHS = {"auth": f"{API}/crl/auth.crl", "sign": f"{API}/crl/sign.crl"}
OCSP_PATH = f"{API}/ocsp"


def serial_hex(serial_number: int) -> str:
    return format(serial_number, "x")


def _terminal_id(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def _reason_flag(reason: str) -> x509.ReasonFlags | None:
    """RFC 5280 5.3.1: the reason 'unspecified' is left out rather than written."""
    flag = x509.ReasonFlags(reason)
    return None if flag is x509.ReasonFlags.unspecified else flag


@contextmanager
def writing(registry_or_conn):
    """A Registry gets a transaction of its own; a connection is the caller's transaction."""
    if isinstance(registry_or_conn, sqlite3.Connection):
        yield registry_or_conn
    else:
        with registry_or_conn.transaction() as conn:
            yield conn


# --- the checks the service makes on each request ---------------------------------

def terminal_revoked(conn, terminal_id: str, serial: str) -> bool:
    """Whether the terminal's certificate, or its whole terminal id, was revoked
    (municipal.terminals.check_terminal refuses it)."""
    return conn.execute("SELECT 1 FROM revoked_terminals WHERE terminal_id = ? AND serial IN (?, ?)",
                        (terminal_id, EVERY_CERTIFICATE, serial)).fetchone() is not None


def check_card_not_revoked(conn, cert: x509.Certificate) -> None:
    """Refuse (certificate_revoked) a card certificate that was revoked."""
    if _revocation(conn, cert.issuer, cert.serial_number) is not None:
        raise Refused("certificate_revoked", "the card's certificate was revoked")


def check_session_card_not_revoked(conn, card_sha256: str) -> None:
    """Refuse (certificate_revoked) a session whose card certificate was revoked after
    the session opened: at its next issuance, not when the session expires."""
    if conn.execute("SELECT 1 FROM revoked_certificates WHERE cert_sha256 = ?", (card_sha256,)).fetchone():
        raise Refused("certificate_revoked", "the card's certificate was revoked during the session")


def _revocation(conn, issuer: x509.Name, serial_number: int):
    return conn.execute("SELECT revoked_at, reason FROM revoked_certificates WHERE issuer = ? AND serial = ?",
                        (issuer.public_bytes(), serial_hex(serial_number))).fetchone()


# --- revoking ---------------------------------------------------------------------

def revoke_card(registry_or_conn, cert: x509.Certificate, reason: x509.ReasonFlags) -> bool:
    """Revoke one card certificate (by issuer and serial). False if it already was:
    the first revocation's time and reason stand, as a CRL entry never changes."""
    with writing(registry_or_conn) as conn:
        cursor = conn.execute("INSERT OR IGNORE INTO revoked_certificates VALUES (?,?,?,?,?)",
                              (cert.issuer.public_bytes(), serial_hex(cert.serial_number), int(time.time()),
                               reason.value, cert_sha256(cert.public_bytes(serialization.Encoding.DER))))
        return cursor.rowcount == 1


def revoke_terminal(registry_or_conn, terminal: str | x509.Certificate, reason: x509.ReasonFlags) -> bool:
    """Revoke a terminal id (all its certificates, past and future: a stolen or retired
    kiosk) or one terminal certificate (a re-keyed kiosk keeps its id), and take it off
    the list of terminals. False if it already was revoked."""
    if isinstance(terminal, x509.Certificate):
        key = (_terminal_id(terminal), serial_hex(terminal.serial_number))
    else:
        key = (terminal, EVERY_CERTIFICATE)
    with writing(registry_or_conn) as conn:
        cursor = conn.execute("INSERT OR IGNORE INTO revoked_terminals VALUES (?,?,?,?)",
                              (*key, int(time.time()), reason.value))
        if key[1] == EVERY_CERTIFICATE:
            conn.execute("DELETE FROM terminals WHERE terminal_id = ?", (key[0],))
        else:
            conn.execute("DELETE FROM terminals WHERE terminal_id = ? AND serial = ?", key)
        return cursor.rowcount == 1


def revoke_resident_card(registry, card: CardFile, resident: str, reason: x509.ReasonFlags) -> int:
    """Revoke both certificates of a resident's card (a lost or stolen card exposes
    both keys). The card's authentication certificate must be registered to that
    resident. Returns how many certificates were newly revoked."""
    with registry.transaction() as conn:
        row = conn.execute("SELECT resident FROM cards WHERE cert_sha256 = ?",
                           (cert_sha256(card.auth_certificate_der),)).fetchone()
        if row is None or row["resident"] != resident:
            raise LookupError(f"the card {card.card_id} is not registered to resident {resident}")
        return sum(revoke_card(conn, x509.load_der_x509_certificate(der), reason)
                   for der in (card.auth_certificate_der, card.signature_certificate_der))


# --- publication: CRL and OCSP ----------------------------------------------------

@dataclass(frozen=True)
class Authority:
    """A JPKI CA as the revocation services see it: the CA signs its CRL, its
    delegated responder signs the OCSP answers."""
    ca: KeyAndCert
    responder: KeyAndCert

    @classmethod
    def load(cls, pki: PkiFiles, stem: str) -> "Authority":
        return cls(pki.load(f"{stem}-ca"), pki.load(f"{stem}-ocsp"))


def load_authorities(pki: PkiFiles) -> dict[str, Authority]:
    return {"auth": Authority.load(pki, "jpki-auth"), "sign": Authority.load(pki, "jpki-sign")}


def _next_crl_number(conn, issuer: x509.Name) -> int:
    """RFC 5280 5.2.3: a CRL number increases with every CRL the CA issues."""
    row = conn.execute("INSERT INTO crl_numbers VALUES (?, 1) ON CONFLICT (issuer) DO UPDATE"
                       " SET last = last + 1 RETURNING last", (issuer.public_bytes(),)).fetchone()
    return row[0]


def build_crl(conn, ca: KeyAndCert, now: dt.datetime) -> x509.CertificateRevocationList:
    """The CA's full CRL as of `now`, with the next CRL number (conn must be writable)."""
    issuer = ca.cert.subject
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
               .last_update(now).next_update(now + CRL_VALIDITY)
               .add_extension(x509.CRLNumber(_next_crl_number(conn, issuer)), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    rows = conn.execute("SELECT serial, revoked_at, reason FROM revoked_certificates WHERE issuer = ?"
                        " ORDER BY revoked_at, serial", (issuer.public_bytes(),))
    for row in rows:
        entry = (x509.RevokedCertificateBuilder().serial_number(int(row["serial"], 16))
                 .revocation_date(_utc(row["revoked_at"])))
        if (flag := _reason_flag(row["reason"])) is not None:
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256())


def _issuer_hashes(ca: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """The CA's (name hash, key hash) in an OCSP CertID. The CA certificate is
    self-signed, so a request about it carries exactly those, computed by cryptography."""
    probe = ocsp.OCSPRequestBuilder().add_certificate(ca, ca, algorithm).build()
    return probe.issuer_name_hash, probe.issuer_key_hash


_UNKNOWN = (ocsp.OCSPCertStatus.UNKNOWN, None, None)


def _malformed() -> ocsp.OCSPResponse:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)


def _status(conn, issuer: x509.Name, serial_number: int) -> tuple:
    """(status, revocation time, reason) of a certificate of ours: revoked if the
    registry says so, else good (RFC 6960 2.2: good means not revoked)."""
    row = _revocation(conn, issuer, serial_number)
    if row is None:
        return ocsp.OCSPCertStatus.GOOD, None, None
    return ocsp.OCSPCertStatus.REVOKED, _utc(row["revoked_at"]), _reason_flag(row["reason"])


def ocsp_response(conn, request_der: bytes, authorities: list[Authority],
                  now: dt.datetime) -> ocsp.OCSPResponse:
    """Answer one OCSP request. A certificate of an issuer we do not run gets
    'unknown', signed by the first authority's responder. No nextUpdate: the
    registry is live, newer information is always available (RFC 6960 2.4)."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm = request.hash_algorithm
        nonces = [ext.value for ext in request.extensions if isinstance(ext.value, x509.OCSPNonce)]
    except (ValueError, UnsupportedAlgorithm, NotImplementedError, x509.DuplicateExtension):
        # NotImplementedError: several certificates in one request, which cryptography
        # (and so this responder) does not take.
        return _malformed()
    if (len(request.issuer_name_hash) != algorithm.digest_size or len(request.issuer_key_hash) != algorithm.digest_size
            or request.serial_number < 0):
        return _malformed()  # a CertID no certificate can have
    cert_id = (request.issuer_name_hash, request.issuer_key_hash)
    authority = next((a for a in authorities if _issuer_hashes(a.ca.cert, algorithm) == cert_id), None)
    if authority is None:
        authority, (status, revoked_at, reason) = authorities[0], _UNKNOWN
    else:
        status, revoked_at, reason = _status(conn, authority.ca.cert.subject, request.serial_number)
    builder = (ocsp.OCSPResponseBuilder()
               .add_response_by_hash(*cert_id, request.serial_number, algorithm, status, now, None,
                                     revoked_at, reason)
               .responder_id(ocsp.OCSPResponderEncoding.HASH, authority.responder.cert)
               .certificates([authority.responder.cert]))
    for nonce in nonces:  # echoed, so the client can tell a fresh answer from a replayed one
        builder = builder.add_extension(nonce, critical=False)
    return builder.sign(authority.responder.key, hashes.SHA256())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def revocation_routes(config) -> list:
    """GET /v1/crl/auth.crl and /v1/crl/sign.crl (DER, built per request), and
    POST /v1/ocsp (RFC 6960 over HTTP: failures are OCSP statuses, still HTTP 200)."""
    registry, authorities = config.registry, load_authorities(config.pki)

    def crl_endpoint(authority: Authority):
        async def endpoint(request: Request) -> Response:
            with registry.transaction() as conn:
                crl = build_crl(conn, authority.ca, _now())
            return Response(crl.public_bytes(serialization.Encoding.DER), media_type=CRL_MEDIA_TYPE)
        return endpoint

    async def ocsp_endpoint(request: Request) -> Response:
        body = await request.body()
        with registry.reading() as conn:
            answer = ocsp_response(conn, body, list(authorities.values()), _now())
        return Response(answer.public_bytes(serialization.Encoding.DER), media_type=OCSP_RESPONSE_MEDIA_TYPE)

    return [*(Route(CRL_PATHS[name], crl_endpoint(authority), methods=["GET"])
              for name, authority in authorities.items()),
            Route(OCSP_PATH, ocsp_endpoint, methods=["POST"])]
