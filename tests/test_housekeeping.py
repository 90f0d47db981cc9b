"""The issuance center's registry stays bounded: challenges, sessions and voided
request ids go after their life, the audit after its retention, an issuance's PDF at
its print-by time, issuances never;
and the protocol works on across a purge. Time is driven by the `now` given to the
purge, never by waiting."""
from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from contextlib import closing

import pytest
from starlette.testclient import TestClient

from devices.card.cardfile import CardFile
from kiosk.embedded import free_port, running_municipal
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path
from municipal.housekeeping import DAY_S, purge
from contract.issuance import IssuanceRequest
from municipal.public_site import build_public_app
from municipal.service import SESSION_TTL_S, ServiceConfig
from tests.fixtures.pcsc import wait_for
from tests.fixtures.stub import TEST_CLOCK
from tests.test_issuance_service import client_for, open_session

TERMINAL = "KIOSK-0001"


def registry_rows(data_dir, sql: str, args=()) -> list:
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as conn:
        return conn.execute(sql, args).fetchall()


def add_records(data_dir, name: str, *, expires_at: float, voided_at: float, audited_at: float) -> None:
    """A challenge and a session expiring at `expires_at`, a request voided before issue
    at `voided_at` and an audit row at `audited_at`, each identified by `name`."""
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as conn, conn:
        conn.execute("INSERT INTO challenges VALUES (?,?,?,?,0)", (name, TERMINAL, b"nonce", expires_at))
        conn.execute("INSERT INTO sessions VALUES (?,?,?,?,?)", (name, TERMINAL, "R0001", "0" * 64, expires_at))
        conn.execute("INSERT INTO voided_requests (request_id, terminal, at) VALUES (?,?,?)",
                     (name, TERMINAL, voided_at))
        conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?)",
                     (audited_at, "challenge", TERMINAL, None, name, "issued"))


def names_left(data_dir) -> dict[str, set[str]]:
    return {table: {name for (name,) in registry_rows(data_dir, f"SELECT {column} FROM {table}")}
            for table, column in (("challenges", "id"), ("sessions", "id"), ("voided_requests", "request_id"),
                                  ("audit", "request"))}


def run_purge(data_dir, now: float, config: ServiceConfig | None = None, batch_rows: int = 2000):
    config = config or ServiceConfig(data_dir)
    return asyncio.run(purge(config.registry, now, config.housekeeping_lives, batch_rows))


def test_records_past_their_life_go_and_those_alive_stay(stub_data):
    now = time.time()
    retention = ServiceConfig(stub_data).audit_retention_days * DAY_S
    for n in range(5):  # more than a batch of 2: the purge goes on until none is left
        add_records(stub_data, f"past-{n}", expires_at=now - 1, voided_at=now - SESSION_TTL_S - 1,
                    audited_at=now - retention - 1)
    add_records(stub_data, "alive", expires_at=now + 1, voided_at=now - SESSION_TTL_S + 1,
                audited_at=now - retention + 1)

    removed = run_purge(stub_data, now, batch_rows=2)

    assert names_left(stub_data) == {"challenges": {"alive"}, "sessions": {"alive"},
                                     "voided_requests": {"alive"}, "audit": {"alive"}}
    assert removed == {"challenges": 5, "sessions": 5, "voided_requests": 5, "audit": 5, "issuance_pdfs": 0}


def test_the_audit_is_kept_for_the_configured_retention(stub_data):
    now = time.time()
    add_records(stub_data, "29-days", expires_at=now + 1, voided_at=now, audited_at=now - 29 * DAY_S)
    add_records(stub_data, "31-days", expires_at=now + 1, voided_at=now, audited_at=now - 31 * DAY_S)
    run_purge(stub_data, now, ServiceConfig(stub_data, audit_retention_days=30))
    assert names_left(stub_data)["audit"] == {"29-days"}


def test_the_protocol_works_on_across_purges(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    card = CardFile.load(card_path(stub_data, "R0001"))
    session = open_session(client, card)
    first = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                            document_type="residence_record", copies=1)
    document = client.issue(first)
    client.confirm_printed(first.request_id)
    add_records(stub_data, "old", expires_at=time.time() - 1, voided_at=time.time() - SESSION_TTL_S - 1,
                audited_at=time.time() - 1000 * DAY_S)

    run_purge(stub_data, time.time())

    # The open session still issues, and a retry still returns the stored document.
    assert client.issue(first).pdf == document.pdf
    second = first.model_copy(update={"request_id": str(uuid.uuid4())})
    assert client.issue(second).manifest.serial != document.manifest.serial

    run_purge(stub_data, time.time() + SESSION_TTL_S + 1)  # the session's life is over

    with pytest.raises(ServiceRefused) as refused:
        client.issue(first.model_copy(update={"request_id": str(uuid.uuid4())}))
    assert refused.value.code == "session_invalid"
    later = open_session(client, card)
    third = first.model_copy(update={"session_id": later.session_id, "request_id": str(uuid.uuid4())})
    client.issue(third)
    client.confirm_printed(third.request_id)
    # The books stay whole: every issuance, and the first one still printed.
    assert registry_rows(stub_data, "SELECT request_id, state FROM issuances ORDER BY created_at") == [
        (first.request_id, "printed"), (second.request_id, "issued"), (third.request_id, "printed")]


def test_a_request_voided_before_issue_never_yields_a_document_once_its_row_is_gone(stub):
    url, stub_data = stub
    client = client_for(url, stub_data)
    session = open_session(client, CardFile.load(card_path(stub_data, "R0001")))
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type="residence_record", copies=1)
    client.void(request.request_id)  # the kiosk gave up before sending it
    [(voided_at,)] = registry_rows(stub_data, "SELECT at FROM voided_requests WHERE request_id = ?",
                                   (request.request_id,))

    run_purge(stub_data, voided_at + SESSION_TTL_S - 1)
    with pytest.raises(ServiceRefused) as refused:
        client.issue(request)
    assert refused.value.code == "request_closed"

    run_purge(stub_data, voided_at + SESSION_TTL_S + 1)
    assert registry_rows(stub_data, "SELECT 1 FROM voided_requests") == []
    with pytest.raises(ServiceRefused) as refused:
        client.issue(request)
    assert refused.value.code == "session_invalid"  # every session that could send it has closed
    assert registry_rows(stub_data, "SELECT 1 FROM issuances") == []


def test_the_center_purges_at_start_up_with_the_retention_it_was_given(stub_data):
    now = time.time()
    add_records(stub_data, "past", expires_at=now - 1, voided_at=now - SESSION_TTL_S - 1,
                audited_at=now - 31 * DAY_S)
    add_records(stub_data, "alive", expires_at=now + 3600, voided_at=now, audited_at=now - 29 * DAY_S)
    port = free_port()
    with running_municipal(["serve", "--dir", str(stub_data), "--port", str(port), "--clock-offset-s",
                            repr(TEST_CLOCK.offset.total_seconds()),
                            "--audit-retention-days", "30"], port):
        wait_for(lambda: "past" not in names_left(stub_data)["audit"], "the start-up purge")
        assert names_left(stub_data) == {"challenges": {"alive"}, "sessions": {"alive"},
                                         "voided_requests": {"alive"}, "audit": {"alive"}}


def test_a_pdf_goes_at_its_print_by_time_and_the_printed_document_still_verifies(stub):
    """The PDF is nine tenths of an issuance's row and is never needed past print-by:
    no request returns it then, while the verification site reads the content."""
    url, stub_data = stub
    client = client_for(url, stub_data)
    session = open_session(client, CardFile.load(card_path(stub_data, "R0001")))
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type="residence_record", copies=1)
    document = client.issue(request)
    client.confirm_printed(request.request_id)
    run_purge(stub_data, time.time())
    assert registry_rows(stub_data, "SELECT length(pdf) FROM issuances") == [(len(document.pdf),)]

    print_by = registry_rows(stub_data, "SELECT print_by FROM issuances")[0][0]
    removed = run_purge(stub_data, print_by + 1)
    assert removed["issuance_pdfs"] == 1
    assert registry_rows(stub_data, "SELECT length(pdf), state FROM issuances") == [(0, "printed")]
    [(code,)] = registry_rows(stub_data, "SELECT code FROM issuances")
    with TestClient(build_public_app(ServiceConfig(stub_data)), base_url="https://verify") as site:
        answer = site.post("/v1/verifications", json={"code": code}).json()
    assert answer["valid"] and answer["serial"] == document.manifest.serial


def test_pdfs_are_dropped_a_small_batch_at_a_time_until_none_is_left(stub_data):
    """A PDF frees ~25 pages: a hundred of them hold the write lock ~50 ms."""
    with closing(sqlite3.connect(stub_data / "registry.sqlite")) as conn, conn:
        for n in range(250):
            conn.execute("INSERT INTO issuances VALUES (?,?,?,?,?,?,?,?,?,?,'printed',?,?)", (
                f"req-{n:05d}", "S", TERMINAL, "{}", f"999001-20261124-{n:010d}", b"%PDF" * 1000, "{}", b"",
                "{}", "", 0.0, 1.0))
    assert run_purge(stub_data, time.time())["issuance_pdfs"] == 250
    assert registry_rows(stub_data, "SELECT count(*) FROM issuances WHERE length(pdf) > 0") == [(0,)]
