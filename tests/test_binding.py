"""The kiosk's last check before paper: a document prints only when the municipality's
signed manifest names this card, this session, this request and this terminal, and
the offer the resident chose: its document, its municipality and its fee; and when
the serial it records is the one every page prints. All records are fictional."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from io import BytesIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader, PdfWriter

from devices.card.cardfile import CardFile
from kiosk.binding import BindingError, Expected, check_binding
from kiosk.embedded import free_port, running_stub
from kiosk.events import PaymentOpened, PrintProblem, ServiceProblem
from kiosk.issuance_client import IssuedDocument
from kiosk.screens import problem_text
from municipal.cli import card_path
from municipal.pki import PkiFiles
from contract.issuance import DocumentOffer, DocumentOptions, Manifest, PageDigest, sign_manifest
from printouts import fictional_records as fictional
from printouts.certificates import render_certificate
from printouts.pdf_pages import page_digests
from tests.fixtures.paid import Reports, authenticate, center_states, paid_config, paid_worker
from tests.fixtures.stub import TEST_CLOCK
from tests.test_session_worker import FlakyCenter, worker_for

MUNICIPALITIES = ("999001", "999002", "999003")
SERIAL = fictional.CERTIFICATION.serial  # what the fictional certificates print on every page
OFFER = DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True)


def certificate(record) -> bytes:
    return render_certificate(record, fictional.verification_code(record.certification.serial))


PDF = certificate(fictional.residence_record())  # a front and its back, each naming SERIAL
OTHER_PDF = certificate(fictional.seal_certificate())  # another resident's, also two pages


def pages_of(pdf: bytes) -> tuple[PageDigest, ...]:
    return tuple(PageDigest(number=n, sha256=d) for n, d in enumerate(page_digests(pdf), 1))


def in_minutes(minutes: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def pki(stub_template) -> PkiFiles:
    return PkiFiles(stub_template / "pki")


@pytest.fixture
def setting(stub_template, pki):
    signers = {code: pki.municipal_signer(code).cert for code in MUNICIPALITIES}
    card = CardFile.load(card_path(stub_template, "R0001"))
    expected = Expected(card_certificate_der=card.auth_certificate_der, session_id="S1", request_id="Q1",
                        terminal_id="KIOSK-0001", offer=OFFER, copies=1)
    manifest = Manifest(request_id="Q1", session_id="S1", terminal_id="KIOSK-0001",
                        certificate_sha256=hashlib.sha256(card.auth_certificate_der).hexdigest(),
                        document_type="residence_record", options=DocumentOptions(), copies=1, fee_yen=200,
                        pages=pages_of(PDF), pdf_sha256=hashlib.sha256(PDF).hexdigest(), serial=SERIAL,
                        issued_at="2026-11-23T00:00:00+00:00", print_by=in_minutes(10), municipality="999001")
    return pki.municipal_signer("999001"), signers, expected, manifest


def signed(signer, manifest, pdf=PDF):
    return IssuedDocument(pdf, manifest, sign_manifest(manifest, signer.key))


def refusal(document, expected, signers) -> str:
    with pytest.raises(BindingError) as refused:
        check_binding(document, expected, signers)
    return refused.value.reason


def test_a_matching_document_passes(setting):
    signer, signers, expected, manifest = setting
    check_binding(signed(signer, manifest), expected, signers)


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
    signer, signers, expected, manifest = setting
    assert refusal(signed(signer, manifest.model_copy(update={field: value})), expected, signers) == reason


@pytest.mark.parametrize("fee_yen", [99999, 0, -200, 400])  # 400: the offer's fee for two copies, not one
def test_a_signed_fee_other_than_the_offer_times_the_copies_is_refused(setting, fee_yen):
    signer, signers, expected, manifest = setting
    assert refusal(signed(signer, manifest.model_copy(update={"fee_yen": fee_yen})), expected, signers) == "fee"


def test_a_fee_one_copy_short_is_refused(setting):
    signer, signers, expected, manifest = setting
    three_copies = replace(expected, copies=3)
    document = signed(signer, manifest.model_copy(update={"copies": 3, "fee_yen": 400}))
    assert refusal(document, three_copies, signers) == "fee"
    check_binding(signed(signer, manifest.model_copy(update={"copies": 3, "fee_yen": 600})), three_copies, signers)


def test_a_free_document_is_refused_even_when_offered_free(setting):
    """A kiosk never issues for free: a fee of 0 is a center's mistake, whoever made it."""
    signer, signers, expected, manifest = setting
    free = replace(expected, offer=OFFER.model_copy(update={"fee_yen": 0}))
    assert refusal(signed(signer, manifest.model_copy(update={"fee_yen": 0})), free, signers) == "fee"


def test_another_municipality_signing_its_own_document_is_not_the_offer(setting, pki):
    signer, signers, expected, manifest = setting
    theirs = manifest.model_copy(update={"municipality": "999002"})
    assert refusal(signed(pki.municipal_signer("999002"), theirs), expected, signers) == "municipality"


def test_a_manifest_naming_another_municipality_than_its_signer_is_refused(setting):
    signer, signers, expected, manifest = setting
    document = signed(signer, manifest.model_copy(update={"municipality": "999002"}))  # 999001's key
    assert refusal(document, expected, signers) == "manifest_signature"


@pytest.mark.parametrize("print_by", [
    pytest.param(in_minutes(120), id="two-hours-ahead"),  # the center voids after 10 minutes: not its deadline
    pytest.param("2026-11-24T10:00:00", id="no-time-zone"),  # no moment at all
    pytest.param("soon", id="not-a-time"),
])
def test_a_print_by_time_not_in_the_next_minutes_is_refused(setting, print_by):
    signer, signers, expected, manifest = setting
    assert refusal(signed(signer, manifest.model_copy(update={"print_by": print_by})), expected, signers) == "print_by"


def test_a_serial_other_than_the_one_on_the_pages_is_refused(setting):
    signer, signers, expected, manifest = setting
    document = signed(signer, manifest.model_copy(update={"serial": "999001-20261123-0000000001"}))
    assert refusal(document, expected, signers) == "serial"


def test_every_page_must_print_the_serial(setting):
    """Pages 1-2 of this certificate and 3-4 of another (its own serial), all signed:
    the pages match the manifest, but half of them name another document."""
    signer, signers, expected, manifest = setting
    other = certificate(fictional.residence_record(
        certification=replace(fictional.CERTIFICATION, serial="999001-20261123-0000000002")))
    writer = PdfWriter()
    for source in (PDF, other):
        for page in PdfReader(BytesIO(source)).pages:
            writer.add_page(page)
    out = BytesIO()
    writer.write(out)
    mixed = out.getvalue()
    document = signed(signer, manifest.model_copy(update={
        "pages": pages_of(mixed), "pdf_sha256": hashlib.sha256(mixed).hexdigest()}), pdf=mixed)
    assert refusal(document, expected, signers) == "serial"


def test_a_pdf_swapped_after_signing_is_refused(setting):
    signer, signers, expected, manifest = setting
    assert refusal(signed(signer, manifest, pdf=OTHER_PDF), expected, signers) == "pdf"


def test_a_manifest_edited_after_signing_is_refused(setting):
    signer, signers, expected, manifest = setting
    genuine = signed(signer, manifest)
    forged = IssuedDocument(PDF, manifest.model_copy(update={"serial": "999001-2"}), genuine.signature)
    assert refusal(forged, expected, signers) == "manifest_signature"


def test_a_manifest_signed_by_anyone_but_the_municipality_is_refused(setting):
    _, signers, expected, manifest = setting
    document = IssuedDocument(PDF, manifest, sign_manifest(manifest, ec.generate_private_key(ec.SECP256R1())))
    assert refusal(document, expected, signers) == "manifest_signature"


def test_a_page_that_is_not_the_signed_page_is_refused(setting):
    """Even with a matching file digest, each page must be the page the municipality
    signed: page 2 of another resident's certificate never passes as ours."""
    signer, signers, expected, manifest = setting
    mixed = pages_of(PDF)[:1] + pages_of(OTHER_PDF)[1:]
    assert refusal(signed(signer, manifest.model_copy(update={"pages": mixed})), expected, signers) == "pages"


def test_a_pdf_that_does_not_parse_is_refused(setting):
    signer, signers, expected, manifest = setting
    garbage = b"%PDF-1.4 not really"
    document = signed(signer, manifest.model_copy(update={"pdf_sha256": hashlib.sha256(garbage).hexdigest()}),
                      pdf=garbage)
    assert refusal(document, expected, signers) == "pages"


def test_the_kiosk_voids_a_signed_document_at_another_fee_and_takes_no_money(stub_data, tmp_path):
    """Through the real worker, against a center that signs ten times the fee it offered
    (2,000 yen for a 200-yen 住民票: a fee the acceptor would take)."""
    with running_stub(stub_data, free_port(), faults=("manifest-fee",), clock=TEST_CLOCK) as url:
        reports = Reports()
        worker = paid_worker(paid_config((url, stub_data), tmp_path), reports)
        try:
            authenticate(worker, reports, "R0001")
            worker.request_and_pay(1, "residence_record", DocumentOptions(), 1)
            problem = reports.wait_for(PrintProblem, PaymentOpened)
            assert problem == PrintProblem(1, "binding_fee")
            assert "No fee was taken." in " ".join(problem_text(problem.code)[1])  # what the resident reads
            assert list(center_states(stub_data).values()) == ["voided"]
            assert list(worker.journal.outcomes().values()) == ["voided"]
            assert not worker.payment.bus.insert_coin(100)  # the acceptor never opened
            assert worker.journal.cash_since_collection() == {}
            assert not list((tmp_path / "printed").glob("*.pdf"))
        finally:
            worker.shutdown()


def test_a_document_the_session_did_not_offer_is_never_asked_for(stub_template, tmp_path):
    """No offer, no fee the resident was shown: the center is not asked, nothing is journaled."""
    center, reports = FlakyCenter(), []
    worker = worker_for(stub_template, tmp_path, center, reports)  # offered: the 住民票 only
    worker.request_and_pay(1, "seal_certificate", DocumentOptions(), 1)
    worker.shutdown()
    assert center.calls == []
    assert reports == [ServiceProblem(1, "document_not_offered")]
    assert worker.journal.outcomes() == {}
