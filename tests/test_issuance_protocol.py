"""The issuance protocol's guarantees, over real mutual TLS: one request id gives one
document however often or concurrently it is sent; a void or a missed print-by time
voids the whole request; bad requests change nothing; and whoever holds the paper can
check its printed code on the public verification site."""
from __future__ import annotations

import re
import sqlite3
import ssl
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devices.card.cardfile import CardFile
from kiosk.embedded import free_port, running_municipal, running_stub
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path
from municipal.pki import PkiFiles
from contract.issuance import IssuanceRequest, Refusal, VerificationAnswer
from tests.fixtures.stub import TEST_CLOCK
from tests.kiosk_runs import pdf_text_of_bytes
from tests.test_issuance_service import client_for, open_session


def rows(data, sql, *args):
    with sqlite3.connect(data / "registry.sqlite") as db:
        return db.execute(sql, args).fetchall()


def new_request(session, document_type="residence_record", copies=1) -> IssuanceRequest:
    return IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                           document_type=document_type, copies=copies)


@pytest.fixture
def resident(stub):
    url, data = stub
    client = client_for(url, data)
    return client, open_session(client, CardFile.load(card_path(data, "R0001"))), data


def test_the_same_request_sent_concurrently_gives_one_document(resident):
    client, session, data = resident
    request = new_request(session)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.issue(request), range(8)))
    assert len({a.manifest.serial for a in answers}) == 1
    assert len({a.pdf for a in answers}) == 1
    assert rows(data, "SELECT count(*) FROM issuances") == [(1,)]


def test_a_request_voided_before_it_was_answered_never_gives_a_document(resident):
    """The kiosk gave up waiting and voided: the request id is dead even if the
    original request is retried or arrives late."""
    client, session, data = resident
    request = new_request(session)
    client.void(request.request_id)
    with pytest.raises(ServiceRefused) as refused:
        client.issue(request)
    assert refused.value.code == "request_closed"
    assert rows(data, "SELECT count(*) FROM issuances") == [(0,)]


def test_a_voided_document_cannot_be_confirmed_or_fetched_again(resident):
    client, session, data = resident
    request = new_request(session)
    client.issue(request)
    client.void(request.request_id)
    for call in (lambda: client.confirm_printed(request.request_id), lambda: client.issue(request)):
        with pytest.raises(ServiceRefused) as refused:
            call()
        assert refused.value.code == "request_closed"
    assert rows(data, "SELECT state FROM issuances") == [("voided",)]


def test_a_document_not_confirmed_by_its_print_by_time_is_voided(stub_data):
    with running_stub(stub_data, free_port(), clock=TEST_CLOCK, print_deadline_s=1.0) as url:
        client = client_for(url, stub_data)
        session = open_session(client, CardFile.load(card_path(stub_data, "R0001")))
        request = new_request(session)
        client.issue(request)
        time.sleep(1.5)
        with pytest.raises(ServiceRefused) as refused:
            client.confirm_printed(request.request_id)
        assert refused.value.code == "request_closed"
    assert rows(stub_data, "SELECT state FROM issuances") == [("voided",)]
    assert ("deadline",) in rows(stub_data, "SELECT outcome FROM audit WHERE event = 'voided'")


def test_the_fee_is_per_copy_and_bound_in_the_manifest(resident):
    client, session, _ = resident
    assert client.issue(new_request(session, "seal_certificate", copies=3)).manifest.fee_yen == 600


@pytest.mark.parametrize("body, code", [
    (b"{not json", "bad_request"),
    (b'{"session_id": "x"}', "bad_request"),
    (None, "bad_request"),
])
def test_malformed_requests_get_a_4xx_with_a_reason_and_change_nothing(resident, body, code):
    client, session, data = resident
    before = rows(data, "SELECT count(*) FROM issuances")
    response = client._http.post("/issuances", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert Refusal.model_validate_json(response.content).code == code
    assert rows(data, "SELECT count(*) FROM issuances") == before


@pytest.mark.parametrize("change, code", [
    ({"document_type": "birth_certificate"}, "bad_request"),  # not a document type at all
    ({"copies": 0}, "copies_out_of_range"),
    ({"copies": 11}, "copies_out_of_range"),
    ({"session_id": "no-such-session"}, "session_invalid"),
])
def test_requests_outside_the_rules_are_refused_with_their_code(resident, change, code):
    client, session, data = resident
    body = new_request(session).model_dump(mode="json") | change
    response = client._http.post("/issuances", json=body)
    assert 400 <= response.status_code < 500
    assert Refusal.model_validate_json(response.content).code == code
    assert rows(data, "SELECT count(*) FROM issuances") == [(0,)]


def test_the_audit_log_records_decisions_without_personal_data(resident):
    client, session, data = resident
    request = new_request(session)
    client.issue(request)
    client.confirm_printed(request.request_id)
    events = rows(data, "SELECT event, outcome FROM audit ORDER BY at")
    assert events == [("challenge", "issued"), ("session", "opened"), ("issuance", "issued"),
                      ("printed", "recorded")]
    dump = "\n".join(map(str, rows(data, "SELECT * FROM audit")))
    for personal in ("山田", "太郎", "1980", "123456789018", "若葉町"):
        assert personal not in dump


# --- the public verification site ------------------------------------------------------

@pytest.fixture
def public_site(stub):
    url, data = stub
    port = free_port()
    with running_municipal(["serve-public", "--dir", str(data), "--port", str(port)], port):
        # A recipient has no terminal certificate: plain server-authenticated TLS.
        tls = ssl.create_default_context(cafile=str(PkiFiles(data / "pki").root))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}/v1", verify=tls, timeout=10) as http:
            yield http


def printed_code(pdf: bytes) -> str:
    match = re.search(r"KV1\.[0-9A-Z-]+\.[A-Z2-7]+", pdf_text_of_bytes(pdf))
    assert match, "no verification code printed"
    return match.group(0)


def test_a_printed_certificate_is_verified_from_its_printed_code(resident, public_site):
    client, session, _ = resident
    request = new_request(session)
    document = client.issue(request)
    client.confirm_printed(request.request_id)
    answer = public_site.post("/verifications", json={"code": printed_code(document.pdf)})
    assert answer.status_code == 200
    verified = VerificationAnswer.model_validate_json(answer.content)
    assert (verified.valid, verified.state, verified.serial) == (True, "printed", document.manifest.serial)
    assert (verified.municipality, verified.municipality_name) == ("999001", "架空県みどり市")
    assert any("山田 太郎" in line for line in verified.content)


def test_a_voided_certificate_is_reported_as_not_valid_with_none_of_its_content(resident, public_site):
    client, session, _ = resident
    request = new_request(session)
    document = client.issue(request)
    client.void(request.request_id)
    answer = public_site.post("/verifications", json={"code": printed_code(document.pdf)})
    assert answer.json() == {"valid": False, "state": "voided", "serial": document.manifest.serial}


def test_an_altered_or_invented_code_is_refused(resident, public_site):
    client, session, _ = resident
    request = new_request(session)
    code = printed_code(client.issue(request).pdf)
    client.confirm_printed(request.request_id)
    prefix, serial, signature = code.split(".")
    tampered = f"{prefix}.{serial}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    answers = {
        "tampered": public_site.post("/verifications", json={"code": tampered}),
        "invented": public_site.post("/verifications", json={"code": f"KV1.999001-20261124-0000000000.{signature}"}),
        "garbage": public_site.post("/verifications", json={"code": "hello"}),
    }
    # One answer, byte for byte: whether a serial exists is not for the public to learn.
    seen = {(a.status_code, a.content) for a in answers.values()}
    assert len(seen) == 1, seen
    ((status, body),) = seen
    assert (status, Refusal.model_validate_json(body).code) == (400, "code_invalid")
