"""The issuance center at its edges, as a hostile or buggy client finds them: requests
of other terminals, malformed ids and bodies, oversized and slow requests, failed TLS
handshakes and forged log lines. Each answer is a JSON refusal with a 4xx status,
never a 500 or a hang, and leaves the registry as it was.

Both servers run as real processes over TLS on loopback, as deployed."""
from __future__ import annotations

import concurrent.futures
import json
import socket
import sqlite3
import ssl
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devices.card.cardfile import CardFile
from kiosk.embedded import free_port, running_municipal, running_stub
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path
from municipal.pki import PkiFiles
from contract.issuance import IssuanceRequest
from tests.fixtures.stub import TEST_CLOCK
from tests.test_issuance_service import client_for, open_session, write_terminal

TERMINAL = "KIOSK-0001"


def tls_context(pki: PkiFiles, client_cert: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.root))
    if client_cert:
        context.load_cert_chain(pki.terminal_cert, pki.terminal_key)
    return context


@contextmanager
def public_site(data: Path):
    port = free_port()
    with running_municipal(["serve-public", "--dir", str(data), "--port", str(port)], port):
        yield f"https://127.0.0.1:{port}"


@pytest.fixture
def servers(stub):
    """(API client with the terminal's certificate, public-site client, stub data)."""
    url, data = stub
    pki = PkiFiles(data / "pki")
    with public_site(data) as public_url, \
            httpx.Client(base_url=url, verify=tls_context(pki), timeout=20) as api, \
            httpx.Client(base_url=public_url, verify=tls_context(pki, client_cert=False), timeout=20) as public:
        yield api, public, data


def rows(data: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(data / "registry.sqlite")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"], body


def issued_request(client, data: Path, resident: str = "R0001") -> str:
    session = open_session(client, CardFile.load(card_path(data, resident)))
    request_id = str(uuid.uuid4())
    client.issue(IssuanceRequest(session_id=session.session_id, request_id=request_id,
                                 document_type="residence_record", copies=1))
    return request_id


# --- terminals and requests ---------------------------------------------------------

def test_a_terminal_cannot_void_or_confirm_another_terminals_request(stub, tmp_path):
    url, data = stub
    owner = client_for(url, data)
    other = client_for(url, data, *write_terminal(data, tmp_path, PkiFiles(data / "pki").load("root"), "KIOSK-0002"))
    request_id = issued_request(owner, data)
    for act in (other.void, other.confirm_printed):
        with pytest.raises(ServiceRefused) as refused:
            act(request_id)
        assert refused.value.code == "request_unknown"
    assert rows(data, "SELECT state FROM issuances WHERE request_id = ?", request_id) == [("issued",)]
    assert rows(data, "SELECT * FROM voided_requests WHERE request_id = ?", request_id) == []
    owner.confirm_printed(request_id)  # the owner's own confirmation is not blocked
    assert rows(data, "SELECT state FROM issuances WHERE request_id = ?", request_id) == [("printed",)]


def test_voiding_an_unused_id_binds_only_the_terminal_that_voided_it(stub, tmp_path):
    url, data = stub
    owner = client_for(url, data)
    other = client_for(url, data, *write_terminal(data, tmp_path, PkiFiles(data / "pki").load("root"), "KIOSK-0002"))
    request_id = str(uuid.uuid4())
    other.void(request_id)  # "pre-voided" by a terminal that never used it
    session = open_session(owner, CardFile.load(card_path(data, "R0001")))
    document = owner.issue(IssuanceRequest(session_id=session.session_id, request_id=request_id,
                                           document_type="residence_record", copies=1))
    assert document.manifest.request_id == request_id


@pytest.mark.parametrize("request_id, status, code", [
    ("a" * 5000, 400, "bad_request"), ("abc%0aFORGED12", 400, "bad_request"), ("short", 400, "bad_request"),
    ("%ED%A0%80abcdefgh", 400, "bad_request"), ("abcdefgh~ijk", 400, "bad_request"),
    ("abcdefgh%2Fijk", 404, "not_found")])  # the server reads %2F as '/': no such route
def test_a_request_id_in_a_url_is_held_to_the_body_format(servers, request_id, status, code):
    api, _, data = servers
    for action in ("void", "printed"):
        assert_refused(api.post(f"/v1/issuances/{request_id}/{action}"), status, code)
    assert rows(data, "SELECT count(*) FROM voided_requests") == [(0,)]
    assert rows(data, "SELECT coalesce(max(length(request)), 0) FROM audit")[0][0] <= 64


# --- bad input: a JSON refusal with a 4xx, on both servers -----------------------------

DEEP = '{"challenge_id": ' + "[" * 30000 + "]" * 30000 + "}"  # 60 KB: within the API's body limit
BAD_BODIES = {
    "nested 1,000 deep": '{"code": ' + "[" * 1000 + "]" * 1000 + "}",
    "lone surrogate": '{"code": "\\ud800", "challenge_id": "\\ud800", "session_id": "\\ud800"}',
    "not UTF-8": b'{"code": "\xff\xfe"}',
    "not JSON": "code=1",
    "a list": "[]",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_a_malformed_body_is_a_json_bad_request(servers, name):
    api, public, _ = servers
    body = BAD_BODIES[name]
    for client, path in ((api, "/v1/sessions"), (api, "/v1/issuances"), (public, "/v1/verifications")):
        assert_refused(client.post(path, content=body), 400, "bad_request")


def test_json_nested_thirty_thousand_deep_is_refused_without_a_500(servers):
    api, _, _ = servers
    assert_refused(api.post("/v1/sessions", content=DEEP), 400, "bad_request")


@pytest.mark.parametrize("copies", ['"2"', "true", "2.0", "null"])
def test_copies_must_be_a_json_number(servers, copies):
    api, _, data = servers
    client = client_for(str(api.base_url).rstrip("/"), data)
    session = open_session(client, CardFile.load(card_path(data, "R0001")))
    body = (f'{{"session_id": "{session.session_id}", "request_id": "{uuid.uuid4()}",'
            f' "document_type": "residence_record", "copies": {copies}}}')
    assert_refused(api.post("/v1/issuances", content=body), 400, "bad_request")
    assert rows(data, "SELECT count(*) FROM issuances") == [(0,)]


def test_unknown_routes_and_methods_are_json_refusals(servers):
    api, public, _ = servers
    for client in (api, public):
        assert_refused(client.get("/v1/no-such-thing"), 404, "not_found")
        assert_refused(client.get("/"), 404, "not_found")
    assert_refused(api.get("/v1/challenges"), 405, "method_not_allowed")
    assert_refused(api.delete("/v1/issuances"), 405, "method_not_allowed")
    assert_refused(public.get("/v1/verifications"), 405, "method_not_allowed")


def raw_request(url: str, context: ssl.SSLContext, head: bytes, body: bytes = b"") -> bytes:
    """Sends `head` and `body` only (whatever Content-Length says) and returns what the
    server answered before closing."""
    host, port = url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = tls.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize("server, limit", [("api", 64 * 1024), ("public", 4 * 1024)])
def test_a_body_over_the_limit_is_refused_before_it_is_read(stub, server, limit):
    url, data = stub
    pki = PkiFiles(data / "pki")
    with public_site(data) as public_url:
        target, context, path = ((url, tls_context(pki), "/v1/sessions") if server == "api"
                                 else (public_url, tls_context(pki, client_cert=False), "/v1/verifications"))
        # 8 MiB announced, 1 KiB sent: the answer comes without the rest ever being sent.
        head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                f"Content-Length: {8 * 1024 * 1024}\r\n\r\n").encode()
        answer = raw_request(target, context, head, b" " * 1024)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "body_too_large"
        # Chunked, with no length announced: refused once the bytes pass the limit.
        with httpx.Client(base_url=target, verify=context, timeout=20) as client:
            def chunks():
                for _ in range(limit // 1024 + 2):
                    yield b" " * 1024
            assert_refused(client.post(path, content=chunks()), 413, "body_too_large")
            assert_refused(client.post(path, content=b" " * (limit + 1)), 413, "body_too_large")


def closed_by_server(url: str, context: ssl.SSLContext | None, trickle: bytes | None) -> str:
    """Connects, sends part of a request (a byte of it every half second if `trickle`),
    and waits up to 60 s for the server to close: returns 'closed' or 'still open'."""
    host, port = url.removeprefix("https://").split(":")
    raw = socket.create_connection((host, int(port)), timeout=60)
    sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
    try:
        if trickle is None:
            return "closed" if sock.recv(1) == b"" else "answered"
        sock.settimeout(0.5)
        started = time.monotonic()
        for byte in (trickle * 1000):
            if time.monotonic() - started > 60:
                return "still open"
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1) == b"":
                    return "closed"
            except TimeoutError:
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                return "closed"
        return "still open"
    finally:
        sock.close()


def test_a_connection_without_complete_headers_is_closed_on_both_servers(stub):
    """Slowloris: a header byte every half second never completes a request; nor does
    a client that connects and never starts TLS. The server closes each after its
    header deadline (10 s), and the kiosk's own requests still work."""
    url, data = stub
    pki = PkiFiles(data / "pki")
    header = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
    with public_site(data) as public_url, concurrent.futures.ThreadPoolExecutor(4) as pool:
        waits = [pool.submit(closed_by_server, url, tls_context(pki), header),
                 pool.submit(closed_by_server, public_url, tls_context(pki, client_cert=False), header),
                 pool.submit(closed_by_server, url, None, None),
                 pool.submit(closed_by_server, public_url, None, None)]
        client_for(url, data).health()  # served meanwhile
        assert [w.result() for w in waits] == ["closed"] * 4


def wait_for_line(log: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no log line with {text!r} in {log.read_text(errors='replace')!r}")


def test_failed_handshakes_are_counted_by_reason_in_the_log(stub_data, tmp_path):
    log = tmp_path / "stub.log"
    port = free_port()
    pki = PkiFiles(stub_data / "pki")
    with running_stub(stub_data, port, log_file=log, clock=TEST_CLOCK) as url:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/v1/health", verify=tls_context(pki, client_cert=False))
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/v1/health")
        wait_for_line(log, "reason=tls_peer_did_not_return_a_certificate")
        wait_for_line(log, "reason=tls_http_request")


def test_a_client_string_cannot_write_a_log_line_of_its_own(stub_data, tmp_path):
    """A forged line would read as the center's own record of a printed certificate."""
    log = tmp_path / "stub.log"
    port = free_port()
    pki = PkiFiles(stub_data / "pki")
    forged = "2026-01-01 00:00:00,000 municipal printed outcome=recorded terminal=KIOSK-0001"
    with running_stub(stub_data, port, log_file=log, clock=TEST_CLOCK) as url:
        with httpx.Client(base_url=url, verify=tls_context(pki), timeout=20) as api:
            for path in (f"/v1/issuances/abcdefgh%0a{forged}/void", f"/v1/issuances/abcdefgh%0d%0a{forged}/void",
                         f"/v1/x%0a{forged}"):
                assert api.post(path).status_code in (400, 404)
            api.post("/v1/sessions", content=json.dumps({"challenge_id": f"x\n{forged}", "certificate": "",
                                                         "signature": ""}))
            wait_for_line(log, "outcome=bad_request")
    assert not [line for line in log.read_text().splitlines() if line.startswith("2026-01-01")]


def test_a_municipalitys_signing_certificate_cannot_open_a_tls_connection(stub):
    """It is signed by the same root as the terminals, but its key usage is document
    signing only: TLS itself refuses it, before any application check."""
    url, data = stub
    pki = PkiFiles(data / "pki")
    context = ssl.create_default_context(cafile=str(pki.root))
    context.load_cert_chain(pki.folder / "municipal-signer-999001.pem", pki.folder / "municipal-signer-999001.key")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/v1/health", verify=context)
