"""The center's list of kiosk terminals.

The stub's TLS root signs more than kiosks' certificates (the server's, each
municipality's document signer), so a client certificate TLS accepted is a terminal's
only if it says so (the clientAuth EKU, its terminal id as its one CN) and is on the
list: `kiosk-municipal init` and `issue-terminal` add to it, `revoke-terminal` takes
off it (municipal.revocation).
"""
from __future__ import annotations

import time
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from municipal.pki import PkiFiles
from municipal.revocation import EVERY_CERTIFICATE, serial_hex, terminal_revoked, writing
from municipal.verification import Refused


def terminal_id_of(cert: x509.Certificate) -> str | None:
    """The terminal id a certificate claims: its CN, if it has exactly one."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if len(names) == 1 else None


def _claimed_terminal(cert: x509.Certificate) -> str:
    """The terminal id of a certificate made out to a terminal; else Refused."""
    terminal = terminal_id_of(cert)
    if terminal is None:
        raise Refused("terminal_unknown", "the client certificate names no terminal (one CN)")
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = ()
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise Refused("terminal_unknown", "the client certificate is not for TLS client authentication")
    return terminal


def register_terminal(registry_or_conn, cert: x509.Certificate) -> str:
    """Put a terminal's certificate on the list; returns its terminal id. ValueError
    for a certificate that is not made out to a terminal."""
    try:
        terminal = _claimed_terminal(cert)
    except Refused as exc:
        raise ValueError(exc.message) from None
    with writing(registry_or_conn) as conn:
        conn.execute("INSERT OR IGNORE INTO terminals VALUES (?,?,?)",
                     (terminal, serial_hex(cert.serial_number), int(time.time())))
    return terminal


def issue_registered_terminal(pki: PkiFiles, registry, terminal_id: str, folder: Path) -> tuple[Path, Path]:
    """Another kiosk's certificate and key from the stub root (PkiFiles.new_terminal),
    registered; returns their paths. ValueError for a terminal id revoked as a whole
    (a stolen or retired kiosk's): its certificate would always be refused."""
    with registry.reading() as conn:
        if terminal_revoked(conn, terminal_id, EVERY_CERTIFICATE):
            raise ValueError(f"terminal {terminal_id} was revoked; choose a new terminal id")
    cert_path, key_path = pki.new_terminal(terminal_id, folder)
    register_terminal(registry, x509.load_pem_x509_certificate(cert_path.read_bytes()))
    return cert_path, key_path


def check_terminal(conn, cert: x509.Certificate) -> str:
    """The terminal id of a registered, unrevoked terminal's certificate; else Refused:
    terminal_revoked, or terminal_unknown for any other certificate."""
    terminal, serial = _claimed_terminal(cert), serial_hex(cert.serial_number)
    if terminal_revoked(conn, terminal, serial):
        raise Refused("terminal_revoked", "this terminal or its certificate was revoked")
    if conn.execute("SELECT 1 FROM terminals WHERE terminal_id = ? AND serial = ?",
                    (terminal, serial)).fetchone() is None:
        raise Refused("terminal_unknown", "the client certificate is not a registered terminal's")
    return terminal
