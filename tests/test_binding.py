"""The kiosk's last check before paper: a document prints only when the municipality's
signed manifest names this card, this session, this request and this terminal."""
from __future__ import annotations

import datetime as dt
import hashlib
from io import BytesIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from reportlab.pdfgen.canvas import Canvas

from devices.card.cardfile import CardFile
from kiosk.binding import BindingError, Expected, check_binding
from kiosk.issuance_client import IssuedDocument
from municipal.cli import card_path
from municipal.pki import PkiFiles
from municipal.protocol import DocumentOptions, Manifest, PageDigest, sign_manifest
from printouts.pdf_pages import page_digests


def two_page_pdf(who: str) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=True)
    for page in (1, 2):
        canvas.drawString(72, 720, f"{who} page {page} / 2")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


PDF = two_page_pdf("Resident A")
IN_TEN_MINUTES = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).isoformat(timespec="seconds")


def pages_of(pdf: bytes) -> tuple[PageDigest, ...]:
    return tuple(PageDigest(number=n, sha256=d) for n, d in enumerate(page_digests(pdf), 1))


@pytest.fixture
def setting(stub_template):
    pki = PkiFiles(stub_template / "pki")
    signer = pki.load("municipal-signer")
    card = CardFile.load(card_path(stub_template, "R0001"))
    expected = Expected(card_certificate_der=card.auth_certificate_der, session_id="S1", request_id="Q1",
                        terminal_id="KIOSK-0001", document_type="residence_record", copies=1)
    manifest = Manifest(request_id="Q1", session_id="S1", terminal_id="KIOSK-0001",
                        certificate_sha256=hashlib.sha256(card.auth_certificate_der).hexdigest(),
                        document_type="residence_record", options=DocumentOptions(), copies=1, fee_yen=200,
                        pages=pages_of(PDF), pdf_sha256=hashlib.sha256(PDF).hexdigest(), serial="999001-1",
                        issued_at="2026-11-23T00:00:00+00:00", print_by=IN_TEN_MINUTES, municipality="999001")
    return signer, expected, manifest


def signed(signer, manifest, pdf=PDF):
    return IssuedDocument(pdf, manifest, sign_manifest(manifest, signer.key))


def test_a_matching_document_passes(setting):
    signer, expected, manifest = setting
    check_binding(signed(signer, manifest), expected, signer.cert)


@pytest.mark.parametrize("field, value, reason", [
    ("certificate_sha256", "00" * 32, "certificate"),
    ("session_id", "S2", "session"),
    ("request_id", "Q2", "request"),
    ("terminal_id", "KIOSK-0002", "terminal"),
    ("document_type", "seal_certificate", "document_type"),
    ("options", DocumentOptions(include=("my_number",)), "options"),
    ("copies", 2, "copies"),
    ("print_by", "2026-11-23T00:10:00+00:00", "print_by"),
])
def test_a_document_bound_to_something_else_is_refused(setting, field, value, reason):
    signer, expected, manifest = setting
    document = signed(signer, manifest.model_copy(update={field: value}))
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signer.cert)
    assert refused.value.reason == reason


def test_a_pdf_swapped_after_signing_is_refused(setting):
    signer, expected, manifest = setting
    document = signed(signer, manifest, pdf=two_page_pdf("Resident B"))
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signer.cert)
    assert refused.value.reason == "pdf"


def test_a_manifest_edited_after_signing_is_refused(setting):
    signer, expected, manifest = setting
    genuine = signed(signer, manifest)
    forged = IssuedDocument(PDF, manifest.model_copy(update={"serial": "999001-2"}), genuine.signature)
    with pytest.raises(BindingError) as refused:
        check_binding(forged, expected, signer.cert)
    assert refused.value.reason == "manifest_signature"


def test_a_manifest_signed_by_anyone_but_the_municipality_is_refused(setting):
    signer, expected, manifest = setting
    document = IssuedDocument(PDF, manifest, sign_manifest(manifest, ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signer.cert)
    assert refused.value.reason == "manifest_signature"


def test_a_page_that_is_not_the_signed_page_is_refused(setting):
    """Even with a matching file digest, each page must be the page the municipality
    signed: page 2 of another resident's certificate never passes as ours."""
    signer, expected, manifest = setting
    mixed = pages_of(PDF)[:1] + pages_of(two_page_pdf("Resident B"))[1:]
    document = signed(signer, manifest.model_copy(update={"pages": mixed}))
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signer.cert)
    assert refused.value.reason == "pages"


def test_a_pdf_that_does_not_parse_is_refused(setting):
    signer, expected, manifest = setting
    garbage = b"%PDF-1.4 not really"
    document = signed(signer, manifest.model_copy(update={"pdf_sha256": hashlib.sha256(garbage).hexdigest()}),
                      pdf=garbage)
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signer.cert)
    assert refused.value.reason == "pages"
