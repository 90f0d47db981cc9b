"""The last check before paper: is this document, signed by the municipality, for the
card on the reader, this session, this request and this terminal, and is it the
document the resident chose, at the fee they were shown?

A mismatch anywhere means nothing is printed, no money is taken and the request is
voided.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.clock import WallClock
from kiosk.issuance_client import IssuedDocument
from contract.issuance import DocumentOffer, DocumentOptions, manifest_signature_valid

# The center voids an unconfirmed document 600 s after issuing it. A print-by much
# later is not the center's (or the kiosk's clock is far behind): the kiosk could then
# print a document the center has already voided. The margin allows for clock drift.
PRINT_BY_HORIZON = dt.timedelta(minutes=15)

# Every page, front and back, prints its serial after this label (printouts.page_frame).
_SERIAL_ON_PAGE = re.compile(r"証明書番号\s*(\S+)")


class BindingError(Exception):
    """The document must not be printed. `reason` names the failed check."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Expected:
    """What the kiosk asked for, and the offer the resident chose it from."""

    card_certificate_der: bytes
    session_id: str
    request_id: str
    terminal_id: str
    offer: DocumentOffer  # its type, municipality and fee per copy, as the resident was shown them
    copies: int
    options: DocumentOptions = DocumentOptions()


def check_binding(document: IssuedDocument, expected: Expected, signers: dict[str, x509.Certificate], *,
                  clock: WallClock = WallClock.real()) -> None:
    """signers: each municipality's signing certificate, by code; a manifest counts
    only if signed by the municipality it names. `clock`: the wall clock the kiosk
    shares with the center, which names the print-by on it. Raises BindingError on
    the first check that fails; the costly ones (parsing the pages) come last."""
    signer = signers.get(document.manifest.municipality)
    key = signer.public_key() if signer is not None else None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not manifest_signature_valid(
            document.manifest, document.signature, key):
        raise BindingError("manifest_signature")
    m, offer = document.manifest, expected.offer
    checks = {
        "certificate": lambda: m.certificate_sha256 == hashlib.sha256(expected.card_certificate_der).hexdigest(),
        "pdf": lambda: m.pdf_sha256 == hashlib.sha256(document.pdf).hexdigest(),
        "session": lambda: m.session_id == expected.session_id,
        "request": lambda: m.request_id == expected.request_id,
        "terminal": lambda: m.terminal_id == expected.terminal_id,
        "document_type": lambda: m.document_type == offer.type,
        "municipality": lambda: m.municipality == offer.municipality,
        "options": lambda: m.options == expected.options,
        "copies": lambda: m.copies == expected.copies,
        # the fee the resident was shown; never nothing: a kiosk does not issue for free
        "fee": lambda: m.fee_yen > 0 and m.fee_yen == offer.fee_yen * expected.copies,
        "print_by": lambda: _print_by_near(m.print_by, clock.now()),
        "pages": lambda: _pages_match(document.pdf, [p.sha256 for p in m.pages]),
        "serial": lambda: _serial_on_every_page(document.pdf, m.serial),
    }
    failed = next((name for name, holds in checks.items() if not holds()), None)
    if failed:
        raise BindingError(failed)


def _print_by_near(print_by: str, now: dt.datetime) -> bool:
    """In the future (past it the center has voided the request, so the paper would be
    void too), and no further than PRINT_BY_HORIZON."""
    try:
        deadline = dt.datetime.fromisoformat(print_by)
    except ValueError:
        return False
    if deadline.tzinfo is None:
        return False
    return now < deadline <= now + PRINT_BY_HORIZON


def _pages_match(pdf: bytes, manifest_digests: list[str]) -> bool:
    """Every page is the page the municipality signed, in order, and there are no others."""
    from printouts.pdf_pages import UnreadablePdf, page_digests  # pypdf: 90 ms of the kiosk's start otherwise

    try:
        return page_digests(pdf) == manifest_digests
    except UnreadablePdf:
        return False


def _serial_on_every_page(pdf: bytes, serial: str) -> bool:
    """Every page prints the manifest's serial, and no other: the serial the center
    records (and the verification site answers for) is the one on the paper."""
    from printouts.pdf_pages import UnreadablePdf, page_texts

    try:
        texts = page_texts(pdf)
    except UnreadablePdf:
        return False
    return all(set(_SERIAL_ON_PAGE.findall(text)) == {serial} for text in texts)
