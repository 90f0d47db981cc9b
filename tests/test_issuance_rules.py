"""The municipalities' rules as a resident meets them: who may use the store service,
which documents each one may get, when, at what fee, with which options.

Calendar-dependent rules run on the registry directly at chosen Japan times; the
rest go through the real stub over mutual TLS."""
from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest

from devices.card.cardfile import CardFile
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path
from municipal.pki import JST
from contract.issuance import DocumentOptions, IssuanceRequest
from municipal.rules import document_offers
from tests.test_issuance_service import client_for, open_session
from tests.kiosk_runs import pdf_text_of_bytes


def offers_at(stub_template, resident: str, when: str) -> dict:
    conn = sqlite3.connect(stub_template / "registry.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM residents WHERE id = ?", (resident,)).fetchone()
        now = dt.datetime.fromisoformat(when).replace(tzinfo=JST)
        return {o.type: o for o in document_offers(conn, row, now)}
    finally:
        conn.close()


def session_for(stub, resident: str):
    url, data = stub
    client = client_for(url, data)
    return client, open_session(client, CardFile.load(card_path(data, resident)))


def issue(client, session, document_type: str, **options):
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type=document_type, copies=1, options=DocumentOptions(**options))
    return client.issue(request)


def refusal(call) -> str:
    with pytest.raises(ServiceRefused) as refused:
        call()
    return refused.value.code


# --- who may use the service at all --------------------------------------------------

@pytest.mark.parametrize("resident, code", [
    ("R0003", "age_limit"),  # 14 years old
    ("R0401", "moved_out"),
    ("R0701", "not_yet_usable"),  # card issued today (2026-11-24 in the test calendar)
])
def test_residents_the_store_may_not_serve_are_told_why(stub, resident, code):
    url, data = stub
    assert refusal(lambda: session_for(stub, resident)) == code


def test_a_protection_measure_looks_exactly_like_an_over_long_name_or_address(stub):
    """R0402 is under a protection measure, R0501's name and R0601's address are over
    the limits: all three get the same answer, so the answer reveals nothing."""
    url, data = stub
    answers = set()
    for resident in ("R0402", "R0501", "R0601"):
        client = client_for(url, data)
        with pytest.raises(ServiceRefused) as refused:
            open_session(client, CardFile.load(card_path(data, resident)))
        answers.add(str(refused.value))
    assert answers == {"counter_only: this resident's certificates are issued at the municipal counter only"}
    with sqlite3.connect(data / "registry.sqlite") as db:
        outcomes = [row[0] for row in db.execute("SELECT outcome FROM audit WHERE event = 'session'")]
    assert outcomes == ["counter_only"] * 3  # the audit says no more than the answer


# --- what each resident is offered ---------------------------------------------------

def test_a_midori_resident_is_offered_every_document_at_the_citys_fees(stub):
    _, session = session_for(stub, "R0001")
    offered = {d.type: (d.fee_yen, d.available) for d in session.documents}
    assert offered == {
        "residence_record": (200, True), "residence_record_items": (200, True), "seal_certificate": (200, True),
        "tax_certificate": (300, True), "family_register_full": (450, True),
        "family_register_individual": (450, True), "family_register_annex": (300, True)}
    record = next(d for d in session.documents if d.type == "residence_record")
    assert set(record.options) == {"relationship", "domicile", "my_number"}
    # the deceased father (R0004) is never offered or printed
    assert [(m.id, m.is_cardholder) for m in record.members] == [("R0001", True), ("R0002", False),
                                                                  ("R0003", False)]


def test_family_register_documents_come_from_the_register_municipality(stub):
    _, session = session_for(stub, "R0101")  # lives in みどり市, register in あおば町, registered
    offered = {d.type: (d.fee_yen, d.available) for d in session.documents if d.type.startswith("family")}
    assert offered == {"family_register_full": (400, True), "family_register_individual": (400, True),
                       "family_register_annex": (250, True)}


def test_a_register_elsewhere_without_registration_is_not_available(stub):
    client, session = session_for(stub, "R0301")
    family = [d for d in session.documents if d.type.startswith("family")]
    assert family and all(d.refusal == "family_register_not_enrolled" for d in family)
    assert refusal(lambda: issue(client, session, "family_register_full")) == "family_register_not_enrolled"


def test_a_cancelled_seal_is_never_certified(stub):
    client, session = session_for(stub, "R0002")
    seal = next(d for d in session.documents if d.type == "seal_certificate")
    assert (seal.available, seal.refusal) == (False, "seal_not_registered")
    assert refusal(lambda: issue(client, session, "seal_certificate")) == "seal_not_registered"


def test_foreign_residents_get_their_own_options_and_no_family_register(stub):
    _, session = session_for(stub, "R0201")
    types = {d.type for d in session.documents}
    assert not any(t.startswith("family") for t in types)
    record = next(d for d in session.documents if d.type == "residence_record")
    assert set(record.options) == {"relationship", "my_number", "nationality", "residence_card",
                                   "residence_status"}


def test_my_number_is_offered_only_where_the_municipality_allows_it(stub):
    client, session = session_for(stub, "R0801")  # しらかわ村 does not allow it
    record = next(d for d in session.documents if d.type == "residence_record")
    assert "my_number" not in record.options
    assert refusal(lambda: issue(client, session, "residence_record", include=("my_number",))) \
        == "option_not_allowed"


# --- when ----------------------------------------------------------------------------

@pytest.mark.parametrize("when, residence, family_register", [
    ("2026-11-24T06:29", False, False),  # before 6:30
    ("2026-11-24T06:30", True, False),
    ("2026-11-24T09:00", True, True),
    ("2026-11-24T17:00", True, False),  # the register desk closed at 17:00
    ("2026-11-24T22:59", True, False),
    ("2026-11-24T23:00", False, False),
    ("2026-11-28T10:00", True, False),  # Saturday: no family-register documents
    ("2026-12-13T10:00", False, False),  # みどり市's maintenance day
    ("2026-12-28T10:00", True, False),  # the city's own year-end day for registers
    ("2026-12-30T10:00", False, False),  # year-end holidays
    ("2027-01-04T10:00", True, True),
])
def test_opening_hours_and_closed_days(stub_template, when, residence, family_register):
    offers = offers_at(stub_template, "R0001", when)
    assert offers["residence_record"].available is residence
    assert offers["family_register_full"].available is family_register
    if not residence:
        assert offers["residence_record"].refusal == "service_closed"
        assert offers["residence_record"].opening_hours == "06:30-23:00"
    if residence and not family_register:
        assert offers["family_register_full"].opening_hours == "mon-fri 09:00-17:00"


def test_tax_certificates_are_for_the_current_fiscal_year_only(stub_template):
    assert offers_at(stub_template, "R0001", "2026-11-24T10:00")["tax_certificate"].available
    assert offers_at(stub_template, "R0001", "2027-05-31T10:00")["tax_certificate"].available  # still FY2026
    later = offers_at(stub_template, "R0001", "2027-06-01T10:00")["tax_certificate"]  # FY2027: no record
    assert (later.available, later.refusal) == (False, "tax_record_unavailable")


# --- what the paper says ---------------------------------------------------------------

def test_a_residence_record_shows_only_the_chosen_members_and_options(stub):
    client, session = session_for(stub, "R0001")
    only_wife = pdf_text_of_bytes(issue(client, session, "residence_record", members=("R0002",)).pdf)
    assert "山田花子" in only_wife and "山田太郎" not in only_wife and "山田さくら" not in only_wife
    assert "123456789018" not in only_wife and "987654321093" not in only_wife  # no My Number unless chosen
    with_number = pdf_text_of_bytes(issue(client, session, "residence_record", include=("my_number",)).pdf)
    assert "987654321093" in with_number
    whole = pdf_text_of_bytes(issue(client, session, "residence_record", include=("relationship", "domicile")).pdf)
    assert "架空県みどり市若葉町一丁目2番地" in whole  # 本籍
    assert "山田一郎" not in whole  # removed from the household: never printed


def test_a_foreign_residents_record_prints_nationality_only_when_chosen(stub):
    client, session = session_for(stub, "R0201")
    plain = pdf_text_of_bytes(issue(client, session, "residence_record").pdf)
    assert "NGUYENVANAN" in plain and "ベトナム" not in plain and "AB12345678CD" not in plain
    full = pdf_text_of_bytes(issue(client, session, "residence_record",
                                   include=("nationality", "residence_card", "residence_status")).pdf)
    assert "ベトナム" in full and "AB12345678CD" in full and "技術・人文知識・国際業務" in full


def test_a_large_household_runs_over_several_pages_each_bound_by_the_manifest(stub):
    client, session = session_for(stub, "R0900")
    document = issue(client, session, "residence_record")
    assert len(document.manifest.pages) >= 2
    text = pdf_text_of_bytes(document.pdf)
    assert all(f"渡辺{given}" in text for given in "大地 海 空 星 月 風 雪 雷 虹 林 森".split())


@pytest.mark.parametrize("document_type, expected", [
    ("seal_certificate", ["印鑑登録証明書", "山田太郎"]),
    ("tax_certificate", ["課税", "4,360,000", "令和8年度"]),
    ("family_register_full", ["戸籍全部事項証明書", "山田花子", "山田さくら"]),
    ("family_register_individual", ["戸籍個人事項証明書", "山田太郎"]),
    ("family_register_annex", ["戸籍の附票の写し", "架空県みどり市若葉町一丁目2番3号"]),
    ("residence_record_items", ["住民票記載事項証明書", "山田太郎"]),
])
def test_every_document_type_is_issued_for_the_cardholder(stub, document_type, expected):
    client, session = session_for(stub, "R0001")
    text = pdf_text_of_bytes(issue(client, session, document_type).pdf)
    for words in expected:
        assert words in text, words
    assert "佐藤" not in text


def test_an_individual_register_certificate_leaves_the_others_out(stub):
    client, session = session_for(stub, "R0001")
    text = pdf_text_of_bytes(issue(client, session, "family_register_individual").pdf)
    assert "山田さくら" not in text
