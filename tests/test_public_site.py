"""The public verification site tells the truth and nothing more: a valid (printed)
certificate's content and who certifies it; for any other, its state only; for a
code that is not a genuine one, one refusal that says nothing of which serials
exist. It writes nothing per query and holds each client address to a rate.

Documents are issued by the real stub once for the module; the site runs in-process
(starlette's TestClient) with a clock the tests move."""
from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import ssl
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from starlette.testclient import TestClient

from devices.card.cardfile import CardFile
from kiosk.embedded import free_port, running_municipal, running_stub
from municipal import public_site
from municipal.cli import card_path
from municipal.pki import PkiFiles
from contract.issuance import IssuanceRequest, VerificationAnswer
from municipal.public_site import build_public_app
from municipal.rate_limit import RateLimiter
from municipal.service import ServiceConfig
from municipal.verification_code import content_sha256, make_code
from tests.fixtures.stub import TEST_CLOCK
from tests.test_issuance_service import client_for, open_session

MIDORI, AOBA, SHIRAKAWA = "999001", "999002", "999003"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _issue(client, session, document_type: str):
    request = IssuanceRequest(session_id=session.session_id, request_id=str(uuid.uuid4()),
                              document_type=document_type, copies=1)
    return request.request_id, client.issue(request)


@pytest.fixture(scope="module")
def issued(stub_template, tmp_path_factory):
    """The stub's data after issuing: one printed document per municipality, and
    genuine documents never printed, voided, and past their print-by time."""
    data = tmp_path_factory.mktemp("public-site") / "stub"
    shutil.copytree(stub_template, data)
    docs = {}
    with running_stub(data, free_port(), clock=TEST_CLOCK) as url:
        client = client_for(url, data)
        for name, resident, document_type in (
                ("printed", "R0001", "residence_record"),  # みどり市
                ("printed_aoba", "R0101", "family_register_full"),  # his register is in あおば町
                ("printed_shirakawa", "R0801", "residence_record"),  # she lives in しらかわ村
                ("not_printed", "R0001", "seal_certificate"),
                ("voided", "R0001", "tax_certificate"),
                ("expired", "R0001", "residence_record_items")):
            session = open_session(client, CardFile.load(card_path(data, resident)))
            request_id, docs[name] = _issue(client, session, document_type)
            if name.startswith("printed"):
                client.confirm_printed(request_id)
            elif name == "voided":
                client.void(request_id)
            elif name == "expired":
                expired_request = request_id
    # Its print-by time has passed and the center has not yet swept it: void already.
    with sqlite3.connect(data / "registry.sqlite") as db:
        db.execute("UPDATE issuances SET print_by = ? WHERE request_id = ?", (time.time() - 1, expired_request))
    with sqlite3.connect(data / "registry.sqlite") as db:
        codes = dict(db.execute("SELECT serial, code FROM issuances"))
        contents = {serial: json.loads(c) for serial, c in db.execute("SELECT serial, content FROM issuances")}
    return SimpleNamespace(data=data, docs=docs, code={name: codes[d.manifest.serial] for name, d in docs.items()},
                           content={name: contents[d.manifest.serial] for name, d in docs.items()})


def site(data, clock=None, client=("203.0.113.5", 50000)) -> TestClient:
    return TestClient(build_public_app(ServiceConfig(data), clock or Clock()), client=client)


def ask(http: TestClient, code: str):
    return http.post("/v1/verifications", json={"code": code})


def signer_key(data, municipality: str):
    return PkiFiles(data / "pki").municipal_signer(municipality).key


# --- what a valid document, and any other, answers --------------------------------------

@pytest.mark.parametrize("name, municipality, municipality_name", [
    ("printed", MIDORI, "架空県みどり市"),
    ("printed_aoba", AOBA, "架空県あおば町"),
    ("printed_shirakawa", SHIRAKAWA, "架空県しらかわ村"),
])
def test_each_municipalitys_printed_document_verifies_with_its_own_key_and_names_it(
        issued, name, municipality, municipality_name):
    response = ask(site(issued.data), issued.code[name])
    assert response.status_code == 200
    answer = VerificationAnswer.model_validate_json(response.content)
    manifest = issued.docs[name].manifest
    assert (answer.valid, answer.state, answer.serial) == (True, "printed", manifest.serial)
    assert (answer.municipality, answer.municipality_name) == (municipality, municipality_name)
    assert manifest.serial.startswith(municipality) and manifest.municipality == municipality
    assert (answer.document_type, answer.pages) == (manifest.document_type, len(manifest.pages))
    assert answer.content and any(manifest.serial in line for line in answer.content)


@pytest.mark.parametrize("name, state", [
    ("not_printed", "issued"),  # genuine, within its print-by time, never confirmed printed
    ("voided", "voided"),
    ("expired", "voided"),  # past its print-by time, not yet swept by the center
])
def test_a_document_not_printed_is_not_valid_and_shows_none_of_its_content(issued, name, state):
    response = ask(site(issued.data), issued.code[name])
    assert response.status_code == 200
    assert response.json() == {"valid": False, "state": state, "serial": issued.docs[name].manifest.serial}
    for personal in ("山田", "太郎", "1980", "若葉町", issued.docs[name].manifest.document_type):
        assert personal not in response.text


# --- no oracle for which serials exist ----------------------------------------------------

def _refusals(issued, http):
    """Codes that are not a genuine one, each made a different way."""
    printed = issued.docs["printed"].manifest.serial
    aoba = issued.docs["printed_aoba"].manifest.serial
    prefix, serial, signature = issued.code["printed"].split(".")
    midori_key = signer_key(issued.data, MIDORI)
    codes = {
        "forged signature": f"{prefix}.{serial}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        "another municipality's key": make_code(aoba, content_sha256(issued.content["printed_aoba"]), midori_key),
        "a signature over other content": make_code(printed, content_sha256({"name": "forged"}), midori_key),
        # Signed by the right key, yet no such issuance: exactly as a forgery.
        "unknown serial": make_code(f"{MIDORI}-20261124-00000000AA", content_sha256({}), midori_key),
        "unknown municipality": f"{prefix}.999999-20261124-00000000AA.{signature}",
        "malformed": "hello",
        "no signature": f"{prefix}.{serial}.",
        "signature not base32": f"{prefix}.{serial}.{signature[:-1]}!",
        "signature too short": f"{prefix}.{serial}.{signature[:20]}",
        "a serial that is not ASCII": f"{prefix}.{serial[:-2]}\U000a1635{serial[-1]}.{signature}",
    }
    return {what: ask(http, code) for what, code in codes.items()}


def test_unknown_serials_forged_signatures_and_malformed_codes_get_one_identical_refusal(issued):
    http = site(issued.data)
    answers = _refusals(issued, http)
    seen = {(r.status_code, tuple(sorted(r.headers.items())), r.content) for r in answers.values()}
    assert len(seen) == 1, {what: (r.status_code, r.content) for what, r in answers.items()}
    response = answers["unknown serial"]
    assert (response.status_code, response.json()["code"]) == (400, "code_invalid")


def test_a_code_signed_with_another_municipalitys_key_is_refused(issued):
    http = site(issued.data)
    for name, other in (("printed_aoba", MIDORI), ("printed", AOBA)):
        serial = issued.docs[name].manifest.serial
        code = make_code(serial, content_sha256(issued.content[name]), signer_key(issued.data, other))
        response = ask(http, code)
        assert (response.status_code, response.json()["code"]) == (400, "code_invalid"), name


def test_an_unknown_serial_costs_the_same_signature_check_as_a_known_one(issued, monkeypatch):
    """So the time an answer takes does not tell whether the serial exists."""
    checked = []
    real = public_site.code_valid
    monkeypatch.setattr(public_site, "code_valid", lambda *args: checked.append(args[2]) or real(*args))
    http = site(issued.data)
    prefix, serial, signature = issued.code["printed"].split(".")
    unknown = f"{MIDORI}-20261124-00000000AA"
    for code in (f"{prefix}.{serial}.{signature[::-1]}", f"{prefix}.{unknown}.{signature}",
                 f"{prefix}.999999-20261124-00000000AA.{signature}"):
        assert ask(http, code).status_code == 400
    assert len(checked) == 3


# --- nothing written per query ------------------------------------------------------------

def test_queries_write_nothing_to_the_registry(issued):
    def registry():
        with sqlite3.connect(issued.data / "registry.sqlite") as db:
            return (db.execute("SELECT count(*), max(rowid) FROM audit").fetchone(),
                    db.execute("SELECT request_id, state, print_by FROM issuances ORDER BY request_id").fetchall())
    before = registry()
    http = site(issued.data)
    for name in ("printed", "not_printed", "voided", "expired"):
        assert ask(http, issued.code[name]).status_code == 200
    assert ask(http, "hello").status_code == 400
    assert registry() == before


def counts_logged(caplog) -> list[str]:
    """The site's own lines (other loggers, httpx's, may be on at INFO in the suite)."""
    return [r.getMessage() for r in caplog.records if r.name == "municipal.public"]


def test_outcomes_are_counted_and_logged_as_one_line_at_shutdown(issued, caplog):
    caplog.set_level(logging.INFO, logger="municipal.public")
    with site(issued.data) as http:
        for code in (issued.code["printed"], issued.code["voided"], issued.code["expired"], "hello"):
            ask(http, code)
        for _ in range(6):
            ask(http, "hello")
        assert ask(http, "hello").status_code == 429  # the 11th in a burst of 10
        assert not counts_logged(caplog)
    (line,) = counts_logged(caplog)
    assert line == "verifications since start valid=1 not_valid=2 refused=7 rate_limited=1"


def test_counts_are_logged_at_most_once_a_minute_while_queries_come(issued, caplog):
    caplog.set_level(logging.INFO, logger="municipal.public")
    clock = Clock()
    http = site(issued.data, clock)
    ask(http, issued.code["printed"])
    clock.now += 59
    ask(http, "hello")
    assert not counts_logged(caplog)
    clock.now += 1
    ask(http, "hello")
    assert counts_logged(caplog) == [
        "verifications since start valid=1 not_valid=0 refused=2 rate_limited=0"]


# --- rate limit per client address --------------------------------------------------------

def test_the_eleventh_quick_query_from_one_address_is_refused_while_others_are_answered(issued):
    clock = Clock()
    app = build_public_app(ServiceConfig(issued.data), clock)
    flood = TestClient(app, client=("203.0.113.5", 50000))
    other = TestClient(app, client=("198.51.100.7", 50001))
    for _ in range(10):
        assert ask(flood, issued.code["printed"]).status_code == 200
    refused = ask(flood, issued.code["printed"])
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "2"  # 30 a minute: a query every 2 s
    assert ask(other, issued.code["printed"]).status_code == 200
    clock.now += 2
    assert ask(flood, issued.code["printed"]).status_code == 200
    assert ask(flood, issued.code["printed"]).status_code == 429


def test_the_served_site_counts_the_connections_address_not_a_forwarded_for_header(issued):
    """Served directly (no proxy in front), a header is the client's word: a flood
    naming a new address in each query is still one address."""
    port = free_port()
    with running_municipal(["serve-public", "--dir", str(issued.data), "--port", str(port)], port):
        tls = ssl.create_default_context(cafile=str(PkiFiles(issued.data / "pki").root))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=tls, timeout=10) as http:
            statuses = [http.post("/v1/verifications", json={"code": "hello"},
                                  headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code for n in range(11)]
    assert statuses == [400] * 10 + [429]


def test_ipv6_addresses_of_one_network_share_a_bucket(issued):
    app = build_public_app(ServiceConfig(issued.data), Clock())
    answers = [ask(TestClient(app, client=(f"2001:db8:1:2::{n:x}", 50000)), "hello").status_code
               for n in range(1, 12)]
    assert answers == [400] * 10 + [429]
    assert ask(TestClient(app, client=("2001:db8:1:3::1", 50000)), "hello").status_code == 400


def test_a_flood_from_many_addresses_keeps_a_bounded_table_and_idle_ones_go():
    clock = Clock()
    limiter = RateLimiter(per_minute=30, burst=10, max_clients=100, clock=clock)
    for n in range(10_000):
        assert limiter.wait_for(f"10.0.{n // 256}.{n % 256}") == 0.0
    assert len(limiter) == 100
    clock.now += 20  # long enough for any bucket to be full again
    limiter.wait_for("192.0.2.1")
    assert len(limiter) == 1


def test_a_refused_query_spends_nothing():
    clock = Clock()
    limiter = RateLimiter(per_minute=30, burst=10, max_clients=100, clock=clock)
    assert [limiter.wait_for("a") for _ in range(10)] == [0.0] * 10
    assert limiter.wait_for("a") == pytest.approx(2.0)
    clock.now += 1
    assert limiter.wait_for("a") == pytest.approx(1.0)
    clock.now += 1
    assert limiter.wait_for("a") == 0.0
