"""The last check before paper: is this document, signed by the municipality, for the
card on the reader, this session, this request and this terminal?

A mismatch anywhere means nothing is printed and the request is voided.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.issuance_client import IssuedDocument
from municipal.protocol import DocumentOptions, manifest_signature_valid
from printouts.pdf_pages import UnreadablePdf, page_digests


class BindingError(Exception):
    """The document must not be printed. `reason` names the failed check."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Expected:
    card_certificate_der: bytes
    session_id: str
    request_id: str
    terminal_id: str
    document_type: str
    copies: int
    options: DocumentOptions = DocumentOptions()


def check_binding(document: IssuedDocument, expected: Expected, signer: x509.Certificate) -> None:
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not manifest_signature_valid(
            document.manifest, document.signature, key):
        raise BindingError("manifest_signature")
    m = document.manifest
    checks = {
        "certificate": m.certificate_sha256 == hashlib.sha256(expected.card_certificate_der).hexdigest(),
        "pdf": m.pdf_sha256 == hashlib.sha256(document.pdf).hexdigest(),
        "session": m.session_id == expected.session_id,
        "request": m.request_id == expected.request_id,
        "terminal": m.terminal_id == expected.terminal_id,
        "document_type": m.document_type == expected.document_type,
        "options": m.options == expected.options,
        "copies": m.copies == expected.copies,
        "pages": _pages_match(document.pdf, [p.sha256 for p in m.pages]),
        # past it the center has voided the request: the paper would be void too
        "print_by": dt.datetime.fromisoformat(m.print_by) > dt.datetime.now(dt.timezone.utc),
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise BindingError(failed[0])


def _pages_match(pdf: bytes, manifest_digests: list[str]) -> bool:
    """Every page is the page the municipality signed, in order, and there are no others."""
    try:
        return page_digests(pdf) == manifest_digests
    except UnreadablePdf:
        return False
