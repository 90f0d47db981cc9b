"""Fuzzing the issuance center: generated requests against both of its servers.

Hypothesis strategies make requests to every route of the kiosk API (mutual TLS)
and of the public verification site, and to routes and methods that do not exist:
valid-shaped JSON with fields dropped, retyped or swollen, deep nesting, lone
surrogates, bodies of random bytes, wrong content types, odd headers, and URL ids
that are long, unicode, or carry '/', '%0a' and the like. Valid-shaped bodies use
what a real kiosk holds (an open session, request ids it issues, printed codes, a
card's certificate, an OCSP request for it), so they reach past the first check;
OCSP requests are also built field by field, each field right or wrong.

Every answer must come within ANSWER_TIMEOUT_S, below 500, and a 4xx must be a JSON
refusal with a known code (contract.issuance.REFUSAL_CODES). Afterwards a kiosk must
still be served, and the registry's books must balance (municipal.books).
tests/test_fuzz_center.py runs these strategies for a bounded number of examples;
run as a module, this is the long run, for a time:

    .venv/bin/python -m benchmarks.fuzz_center [--minutes 10] [--data DIR]

It prints requests/s, the counts by route and status, and each distinct failure
(its kind, route and status) with the smallest request that showed it.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import re
import shutil
import sqlite3
import ssl
import tempfile
import time
import uuid
import warnings
from collections import Counter
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from devices.card.cardfile import CardFile
from kiosk.clock import WallClock
from kiosk.embedded import TERMINAL_ID, free_port, running_municipal, running_stub
from kiosk.issuance_client import IssuanceClient
from municipal.books import books_problems
from municipal.cli import card_path, init
from municipal.pki import PkiFiles
from contract.issuance import (API, DOCUMENT_TYPES, REFUSAL_CODES, RESIDENCE_OPTIONS, IssuanceRequest,
                                Refusal)

ANSWER_TIMEOUT_S = 10.0  # no answer by then is a hang
# The public site limits each client address to a few queries a minute: the fuzz
# spreads its queries over loopback addresses (all of 127/8 is the machine's own) so
# that most of them reach the handler.
PUBLIC_ADDRESSES = ["127.0.0.1", *(f"127.0.1.{n}" for n in range(1, 64))]
KIOSK_RESIDENT = "R0001"  # the fuzz's own kiosk serves this resident (a household of several)
JAPAN_TIME = dt.datetime.fromisoformat("2026-11-24T10:00:00+09:00")  # a Tuesday morning: every document open
REQUEST_ID_POOL = 24  # ids the fuzz issues, prints and voids under, so they collide
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW")
# Framing headers stay honest: a lying Content-Length makes any server wait for bytes
# that never come, which is the header-timeout's business, not a handler's.
FRAMING_HEADERS = {"content-length", "transfer-encoding", "host", "connection", "upgrade", "expect", "te",
                   "trailer", "keep-alive"}


# --- what is sent ---------------------------------------------------------------------

@dataclass(frozen=True)
class JsonBody:
    """A JSON value, serialised at send time: ASCII (lone surrogates as \\ud800
    escapes) or UTF-8 (surrogates as the bytes no UTF-8 decoder takes)."""
    value: object
    ascii: bool = True

    def encode(self) -> bytes:
        return json.dumps(self.value, ensure_ascii=self.ascii).encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class FuzzRequest:
    server: str  # "api" (mutual TLS) or "public"
    route: str  # the route it aims at, for the counts: "POST /v1/issuances/{id}/void"
    method: str
    path: str  # percent-encoded as sent, query included
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes | JsonBody = b""
    fresh_challenge: bool = False  # challenge_id becomes a challenge fetched just before

    def content(self, challenge_id: str | None = None) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if challenge_id is not None and isinstance(self.body.value, dict):
            return JsonBody({**self.body.value, "challenge_id": challenge_id}, self.body.ascii).encode()
        return self.body.encode()

    def size(self) -> int:
        return len(self.path) + sum(len(name) + len(value) for name, value in self.headers) + len(self.content())

    def __repr__(self) -> str:
        headers = ", ".join(f"{name}: {_shortened(value)}" for name, value in self.headers)
        fresh = ", challenge_id: a fresh challenge" if self.fresh_challenge else ""
        return (f"FuzzRequest({self.server}: {self.method} {_shortened(self.path)}, headers [{headers}], "
                f"body {_shortened(self.content())}{fresh})")


def _shortened(text: str | bytes, keep: int = 120) -> str:
    return repr(text) if len(text) <= keep else f"{text[:keep]!r}... ({len(text)} in all)"


# --- what the kiosk knows, so that valid-shaped requests reach past the first check ----

@dataclass(frozen=True)
class Known:
    session_id: str  # open, of the fuzz's terminal
    certificate: str  # base64 of the kiosk resident's card certificate
    members: tuple[str, ...]  # resident ids of that household
    request_ids: tuple[str, ...]  # the pool the fuzz issues, prints and voids under
    codes: tuple[str, ...]  # verification codes of documents issued
    ocsp_request: bytes  # DER: an OCSP request about the card's certificate


# --- strategies -----------------------------------------------------------------------

_surrogates = st.characters(categories=["Cs"])  # lone surrogates: valid in JSON escapes, in no UTF-8
texts = st.one_of(st.text(max_size=40), st.lists(st.one_of(st.characters(), _surrogates), max_size=8).map("".join))
odd_strings = st.sampled_from(["", " ", "\x00", "\ud800", "\udfff", "é", "🙂", "\u202e", "1", "true", "null",
                               "../../etc/passwd", "%0a", "a/b", "KV1..", "-" * 64])
huge_strings = st.integers(60_000, 3_000_000).map(lambda n: "A" * n)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([2 ** 63, -2 ** 63 - 1, 10 ** 400]),
                    st.floats(), texts, odd_strings)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)
field_values = st.one_of(json_values, huge_strings)


def weighted(*options: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each as likely as its weight says (one_of() flattens
    nested choices and drops repeats, so it cannot weigh them)."""
    return st.sampled_from([strategy for weight, strategy in options for _ in range(weight)]).flatmap(lambda s: s)


def mostly(valid: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    """A field's valid value four times in five: a body reaches its deeper checks only
    when most of its fields pass the first ones."""
    return weighted((4, valid), (1, other))


def mutated(valid: st.SearchStrategy[dict]) -> st.SearchStrategy[object]:
    """A valid-shaped body as is, with fields dropped, retyped or added, or replaced whole."""
    def apply(body: dict, changes) -> dict:
        body = dict(body)
        for kind, key, value in changes:
            if kind == "drop":
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def changes_of(body: dict):
        keys = st.sampled_from(sorted(body)) if body else texts
        change = st.one_of(st.tuples(st.just("drop"), keys, st.none()),
                           st.tuples(st.just("set"), keys, field_values),
                           st.tuples(st.just("add"), texts, json_values))
        return st.lists(change, min_size=1, max_size=3).map(lambda changes: apply(body, changes))

    return weighted((2, valid), (2, valid.flatmap(changes_of)), (1, json_values))


def deep_nesting(n: int, kind: str) -> bytes:
    return b"[" * n + b"]" * n if kind == "list" else b'{"a":' * n + b"1" + b"}" * n


raw_bodies = st.one_of(
    st.just(b""), st.binary(max_size=2000),
    st.builds(deep_nesting, st.integers(1, 50_000), st.sampled_from(["list", "object"])),
    st.sampled_from([b"{", b"null", b"[]", b'"\\ud800"', b"NaN", b"1e999", b"\xff\xfe{\x00}\x00", b'{"a":1,"a":2}']),
)


def json_bodies(values: st.SearchStrategy[object]) -> st.SearchStrategy[JsonBody]:
    return st.builds(JsonBody, values, st.booleans())


def bodies(valid: st.SearchStrategy[dict] | None = None) -> st.SearchStrategy[bytes | JsonBody]:
    """Three in four valid-shaped for a route that takes one, else half JSON, half raw."""
    if valid is None:
        return weighted((1, json_bodies(json_values)), (1, raw_bodies))
    return weighted((3, json_bodies(mutated(valid))), (1, raw_bodies))


def url_ids(known: Known) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(known.request_ids), texts, odd_strings,
        st.text("abcXYZ019-_", min_size=65, max_size=6000),  # long, in the id alphabet
        st.lists(st.one_of(odd_strings, st.sampled_from(["/", "%0a", "%00", "%2F", "%", "?", "#", ".."])),
                 min_size=1, max_size=5).map("".join),
    )


def encoded_path(path: str) -> str:
    """'/' and '%' go through as they are, so ids can split a path or carry escapes."""
    return quote(path, safe="/%", errors="surrogatepass")


_header_names = st.one_of(
    st.sampled_from(["accept", "content-encoding", "authorization", "cookie", "user-agent", "x-request-id",
                     "x-forwarded-for", "x-terminal-id", "range", "accept-language", "origin"]),
    st.from_regex(r"[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,30}", fullmatch=True),
).filter(lambda name: name.lower() not in FRAMING_HEADERS | {"content-type"})
_header_values = st.binary(max_size=200).map(lambda b: bytes(c for c in b if c >= 0x21 and c != 0x7F))
_long_header = st.tuples(_header_names, st.integers(1000, 6000).map(lambda n: b"x" * n))
content_types = st.one_of(st.sampled_from([
    b"application/json", b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
    b"application/json; charset=utf-16", b"application/ocsp-request", b"*/*", b";;;"]), _header_values)


@st.composite
def header_sets(draw, content_type: bytes | None) -> tuple[tuple[str, bytes], ...]:
    headers = draw(st.lists(st.tuples(_header_names, _header_values), max_size=6))
    if draw(st.integers(0, 9)) == 9:  # now and then one long header, well under uvicorn's 16 KiB for all
        headers.append(draw(_long_header))
    kind = draw(st.one_of(st.just(content_type), content_types, st.none()))
    return tuple(headers) + ((("content-type", kind),) if kind is not None else ())


def request_to(server: str, route: str, path: str | st.SearchStrategy[str], body,
               content_type: bytes | None = None, fresh_challenge=st.just(False)) -> st.SearchStrategy[FuzzRequest]:
    """A request aimed at a route ("POST /v1/sessions"): seven times in ten with the
    route's method, else with any."""
    method = route.split()[0]
    paths = path if isinstance(path, st.SearchStrategy) else st.just(path)
    return st.builds(FuzzRequest, st.just(server), st.just(route), st.sampled_from([method] * 20 + list(METHODS)),
                     paths, header_sets(content_type), body, fresh_challenge)


def api_requests(known: Known) -> list[tuple[int, st.SearchStrategy[FuzzRequest]]]:
    """The kiosk API's routes, weighted by how much lies behind their first check."""
    json_type = b"application/json"
    session = st.fixed_dictionaries({
        "challenge_id": mostly(st.text("abcXYZ019-_", max_size=30), texts),
        "certificate": mostly(st.just(known.certificate), st.one_of(st.binary(max_size=1500).map(_b64), texts)),
        "signature": mostly(st.binary(min_size=256, max_size=256).map(_b64), texts),
    })
    options = st.fixed_dictionaries({}, optional={
        "members": st.one_of(st.none(), st.lists(mostly(st.sampled_from(known.members), texts), max_size=5)),
        "include": st.lists(mostly(st.sampled_from(RESIDENCE_OPTIONS), texts), max_size=4),
    })
    issuance = st.fixed_dictionaries({
        "session_id": mostly(st.just(known.session_id), texts),
        "request_id": mostly(st.sampled_from(known.request_ids), texts),
        "document_type": mostly(st.sampled_from(DOCUMENT_TYPES), texts),
        "copies": mostly(st.integers(1, 10), st.integers()),
    }, optional={"options": options})
    outcome_path = st.tuples(url_ids(known), st.sampled_from(["printed", "void"])).map(
        lambda parts: f"{API}/issuances/{encoded_path(parts[0])}/{parts[1]}")
    ocsp_bodies = weighted((1, st.just(known.ocsp_request)), (2, _flipped(known.ocsp_request)),
                           (1, st.integers(0, len(known.ocsp_request)).map(lambda n: known.ocsp_request[:n])),
                           (4, ocsp_requests(known)), (1, raw_bodies))
    return [
        (1, request_to("api", "GET /v1/health", f"{API}/health", bodies())),
        (1, request_to("api", "POST /v1/challenges", f"{API}/challenges", bodies())),
        (3, request_to("api", "POST /v1/sessions", f"{API}/sessions", bodies(session), json_type, st.booleans())),
        (4, request_to("api", "POST /v1/issuances", f"{API}/issuances", bodies(issuance), json_type)),
        (3, request_to("api", "POST /v1/issuances/{id}/{printed,void}", outcome_path, bodies())),
        (1, request_to("api", "GET /v1/crl/{auth,sign}.crl", st.sampled_from([f"{API}/crl/auth.crl",
                                                                              f"{API}/crl/sign.crl"]), bodies())),
        (2, request_to("api", "POST /v1/ocsp", f"{API}/ocsp", ocsp_bodies, b"application/ocsp-request")),
        (2, request_to("api", "GET (unknown route)", unknown_paths(known), bodies())),
    ]


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = (size.bit_length() + 7) // 8
    return bytes([tag, 0x80 | octets]) + size.to_bytes(octets, "big") + content


def der_integer(n: int) -> bytes:
    """A DER INTEGER's content: two's complement, minimal."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)


_HASH_OIDS = {  # the OIDs' DER contents; "none" names no algorithm at all
    "sha1": bytes.fromhex("2b0e03021a"), "sha256": bytes.fromhex("608648016503040201"),
    "sha384": bytes.fromhex("608648016503040202"), "sha512": bytes.fromhex("608648016503040203"),
    "md5": bytes.fromhex("2a864886f70d0205"), "none": bytes.fromhex("2a03"),
}
_OCSP_NONCE_OID = bytes.fromhex("2b0601050507300102")


def der_cert_id(algorithm: str, name_hash: bytes, key_hash: bytes, serial: bytes) -> bytes:
    hash_algorithm = _der(0x30, _der(0x06, _HASH_OIDS[algorithm]) + b"\x05\x00")
    return _der(0x30, hash_algorithm + _der(0x04, name_hash) + _der(0x04, key_hash) + _der(0x02, serial))


def der_ocsp_request(cert_ids: list[bytes], nonces: list[bytes]) -> bytes:
    """OCSPRequest { TBSRequest { requestList: Request { CertID }..., [2] nonce extensions } }"""
    request_list = _der(0x30, b"".join(_der(0x30, cert_id) for cert_id in cert_ids))
    extensions = b"".join(_der(0x30, _der(0x06, _OCSP_NONCE_OID) + _der(0x04, _der(0x04, nonce))) for nonce in nonces)
    return _der(0x30, _der(0x30, request_list + (_der(0xA2, _der(0x30, extensions)) if nonces else b"")))


def ocsp_requests(known: Known) -> st.SearchStrategy[bytes]:
    """OCSP requests built field by field (RFC 6960 4.1.1), each mostly as the kiosk
    would send it: a hash algorithm that the issuer hashes' lengths do not fit,
    serial numbers negative or not DER, nonces of any length or twice, several
    certificates in one request."""
    real = ocsp.load_der_ocsp_request(known.ocsp_request)
    serials = weighted((2, st.just(der_integer(real.serial_number))),
                       (1, st.integers(-2 ** 80, 2 ** 80).map(der_integer)), (1, st.binary(max_size=30)))
    cert_ids = st.builds(der_cert_id, mostly(st.just("sha256"), st.sampled_from(sorted(_HASH_OIDS))),
                         mostly(st.just(real.issuer_name_hash), st.binary(max_size=70)),
                         mostly(st.just(real.issuer_key_hash), st.binary(max_size=70)), serials)
    return st.builds(der_ocsp_request, mostly(cert_ids.map(lambda cert_id: [cert_id]), st.lists(cert_ids, max_size=3)),
                     st.lists(st.binary(max_size=80), max_size=2))


def public_requests(known: Known) -> list[tuple[int, st.SearchStrategy[FuzzRequest]]]:
    code = weighted((2, st.sampled_from(known.codes)), (2, st.sampled_from(known.codes).flatmap(_altered_code)),
                    (1, texts), (1, odd_strings))
    return [
        (3, request_to("public", "POST /v1/verifications", f"{API}/verifications",
                       bodies(st.fixed_dictionaries({"code": code})), b"application/json")),
        (1, request_to("public", "GET (unknown route)", unknown_paths(known), bodies())),
    ]


def unknown_paths(known: Known) -> st.SearchStrategy[str]:
    segment = st.one_of(texts, odd_strings, url_ids(known))
    return st.one_of(
        st.sampled_from(["/", "/v1", "/v1/", "/v2/health", "/v1/health/", "/v1/crl/other.crl", "/v1/issuances",
                         "/v1/verifications/", "/docs", "/.env", "//v1/health"]),
        segment.map(lambda s: f"{API}/{encoded_path(s)}"),
        segment.map(lambda s: f"{API}/issuances/{encoded_path(s)}"),
        st.tuples(segment, segment).map(lambda p: f"{API}/issuances/{encoded_path(p[0])}/{encoded_path(p[1])}"),
        st.tuples(st.sampled_from([f"{API}/health", f"{API}/challenges"]), texts).map(
            lambda p: f"{p[0]}?{quote(p[1], safe='=&', errors='surrogatepass')}"),
    )


def requests(known: Known) -> st.SearchStrategy[FuzzRequest]:
    return weighted(*api_requests(known), *public_requests(known))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _flipped(data: bytes) -> st.SearchStrategy[bytes]:
    def flip(changes) -> bytes:
        out = bytearray(data)
        for index, value in changes:
            out[index] = value
        return bytes(out)
    return st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=6).map(flip)


def _altered_code(code: str) -> st.SearchStrategy[str]:
    """A printed code with one character changed: to another of its alphabet, or to anything."""
    characters = st.one_of(st.sampled_from("AZ27.-x"), st.characters(), _surrogates)
    return st.tuples(st.integers(0, len(code) - 1), characters).map(
        lambda change: code[:change[0]] + change[1] + code[change[0] + 1:])


# --- sending and judging --------------------------------------------------------------

class CenterFailure(AssertionError):
    """An answer the property forbids; subclasses name the kind, so that hypothesis
    reports each kind as its own bug."""


class ServerError(CenterFailure):
    kind = "5xx"


class UnexplainedRefusal(CenterFailure):
    kind = "4xx without a JSON refusal of a known code"


class NoAnswer(CenterFailure):
    kind = f"no answer within {ANSWER_TIMEOUT_S:.0f} s"


class Dropped(CenterFailure):
    kind = "connection closed without an answer"


@dataclass
class Center:
    """The two servers as one kiosk and the public reach them."""
    data_dir: Path
    api: httpx.Client  # with the terminal's certificate
    public: list[httpx.Client]  # one per loopback address: the site limits queries per address
    _turn: int = 0

    def client(self, server: str) -> httpx.Client:
        if server == "api":
            return self.api
        self._turn += 1
        return self.public[self._turn % len(self.public)]

    def send(self, request: FuzzRequest) -> httpx.Response:
        """The answer, or a CenterFailure for none. A connection dropped before any
        answer is tried once more on a new one: the server may have closed it after
        the previous request (uvicorn does after a 500), which is that request's fault."""
        try:
            return self._send(request)
        except httpx.TimeoutException as exc:
            raise NoAnswer(f"{request.method} {request.path[:100]}: {type(exc).__name__}") from None
        except httpx.TransportError:
            pass
        try:
            return self._send(request)
        except httpx.TimeoutException as exc:
            raise NoAnswer(f"{request.method} {request.path[:100]}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise Dropped(f"{request.method} {request.path[:100]}, twice: {type(exc).__name__}: {exc}") from None

    def _send(self, request: FuzzRequest) -> httpx.Response:
        client = self.client(request.server)
        challenge_id = self.api.post(f"{API}/challenges").json()["challenge_id"] if request.fresh_challenge else None
        url = client.base_url.copy_with(raw_path=request.path.encode("ascii"))
        return client.request(request.method, url, headers=list(request.headers),
                              content=request.content(challenge_id))


def check_answer(request: FuzzRequest, answer: httpx.Response) -> None:
    """Below 500, and a 4xx explains itself as a refusal the kiosk knows."""
    where = f"{request.method} {request.path[:100]} (aimed at {request.route}) answered {answer.status_code}"
    if answer.status_code >= 500:
        raise ServerError(f"{where}: {answer.content[:200]!r}")
    if answer.status_code >= 400 and request.method != "HEAD":  # a HEAD answer has no body
        try:
            code = Refusal.model_validate_json(answer.content).code
        except ValueError:
            raise UnexplainedRefusal(f"{where} with {answer.content[:200]!r}") from None
        if code not in REFUSAL_CODES:
            raise UnexplainedRefusal(f"{where} with the unknown code {code!r}")


def exchange(center: Center, request: FuzzRequest) -> httpx.Response:
    answer = center.send(request)
    check_answer(request, answer)
    return answer


# --- a kiosk of its own ---------------------------------------------------------------

def kiosk_client(url: str, data_dir: Path) -> IssuanceClient:
    pki = PkiFiles(data_dir / "pki")
    return IssuanceClient(url, ca_cert=pki.root, client_cert=pki.terminal_cert, client_key=pki.terminal_key,
                          timeout=ANSWER_TIMEOUT_S)


def card_signature(card: CardFile, message: bytes) -> bytes:
    key = serialization.load_pem_private_key(card.auth_private_key_pem, None)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def serve_a_kiosk(client: IssuanceClient, card: CardFile, request_id: str | None = None) -> str:
    """What a kiosk does for a resident: health, challenge, session, a 住民票 printed.
    Raises if any step is refused; returns the session id."""
    client.health()
    challenge = client.challenge()
    session = client.open_session(challenge, card.auth_certificate_der, card_signature(card, challenge.nonce))
    request = IssuanceRequest(session_id=session.session_id, request_id=request_id or str(uuid.uuid4()),
                              document_type="residence_record", copies=1)
    client.issue(request)
    client.confirm_printed(request.request_id)
    return session.session_id


def known_for(client: IssuanceClient, data_dir: Path) -> Known:
    """Serves the fuzz's kiosk once (so there is a printed code to verify) and keeps
    its session open for the fuzz."""
    card = CardFile.load(card_path(data_dir, KIOSK_RESIDENT))
    pool = tuple(f"fuzz-request-{n}" for n in range(REQUEST_ID_POOL))
    session_id = serve_a_kiosk(client, card, request_id=str(uuid.uuid4()))
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as db:
        codes = tuple(row[0] for row in db.execute("SELECT code FROM issuances"))
        members = tuple(row[0] for row in db.execute(
            "SELECT id FROM residents WHERE household = (SELECT household FROM residents WHERE id = ?)",
            (KIOSK_RESIDENT,)))
    auth_ca = PkiFiles(data_dir / "pki").load("jpki-auth-ca").cert
    certificate = x509.load_der_x509_certificate(card.auth_certificate_der)
    ocsp_der = (ocsp.OCSPRequestBuilder().add_certificate(certificate, auth_ca, hashes.SHA256()).build()
                .public_bytes(serialization.Encoding.DER))
    return Known(session_id=session_id, certificate=_b64(card.auth_certificate_der), members=members,
                 request_ids=pool, codes=codes, ocsp_request=ocsp_der)


@contextmanager
def running_center(data_dir: Path):
    """Both servers on data_dir, and a client for each: (Center, the kiosk's IssuanceClient)."""
    pki = PkiFiles(data_dir / "pki")
    api_port, public_port = free_port(), free_port()
    with ExitStack() as stack:
        url = stack.enter_context(running_stub(data_dir, api_port, clock=WallClock.playing(JAPAN_TIME),
                                               log_file=data_dir / "stub.log"))
        stack.enter_context(running_municipal(["serve-public", "--dir", str(data_dir), "--port", str(public_port)],
                                              public_port, log_file=data_dir / "public.log"))
        terminal = ssl.create_default_context(cafile=str(pki.root))
        terminal.load_cert_chain(str(pki.terminal_cert), str(pki.terminal_key))
        recipient = ssl.create_default_context(cafile=str(pki.root))
        timeout = httpx.Timeout(ANSWER_TIMEOUT_S)
        api = stack.enter_context(httpx.Client(base_url=url, verify=terminal, timeout=timeout))
        public = [stack.enter_context(httpx.Client(
            base_url=f"https://127.0.0.1:{public_port}", timeout=timeout,
            transport=httpx.HTTPTransport(verify=recipient, local_address=address))) for address in PUBLIC_ADDRESSES]
        kiosk = kiosk_client(url, data_dir)
        stack.callback(kiosk.close)
        yield Center(data_dir, api, public), kiosk


# --- the long run ---------------------------------------------------------------------

@dataclass
class Tally:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)  # (route, status or failure kind)
    failures: dict = field(default_factory=dict)  # (kind, route, status) -> smallest request showing it

    def record(self, request: FuzzRequest, status: int | str, failure: CenterFailure | None) -> None:
        self.sent += 1
        self.statuses[(request.route, status)] += 1
        if failure is not None:
            key = (failure.kind, request.route, status)
            size = request.size()
            if key not in self.failures or size < self.failures[key][0]:
                self.failures[key] = (size, request, str(failure))


def fuzz_for(center: Center, known: Known, seconds: float, tally: Tally) -> None:
    """Hypothesis runs of fresh random examples, generating only (the long run keeps
    the smallest request of each failure instead of shrinking), for `seconds`."""
    stop = time.monotonic() + seconds

    @settings(max_examples=100, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(request=requests(known))
    def run(request: FuzzRequest) -> None:
        if time.monotonic() < stop:
            tally.record(request, *judged(center, request))

    while time.monotonic() < stop:
        run()


def judged(center: Center, request: FuzzRequest) -> tuple[int | str, CenterFailure | None]:
    """(status, or the failure's kind when there was no answer; the failure if any)."""
    try:
        answer = center.send(request)
    except CenterFailure as failure:
        return failure.kind, failure
    try:
        check_answer(request, answer)
    except CenterFailure as failure:
        return answer.status_code, failure
    return answer.status_code, None


def server_exceptions(*logs: Path) -> Counter:
    """The exceptions the servers logged with a traceback, by type and the deepest
    frame of the project's own code (never their messages: those hold client input)."""
    causes: Counter = Counter()
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        for block in text.split("Traceback (most recent call last):")[1:]:
            frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', block)
            ours = [frame for frame in frames if "/lib/python" not in frame[0]] or frames or [("?", "?", "?")]
            path, line, function = ours[-1]
            error = next((row.split(":")[0] for row in block.splitlines()[1:] if row and not row[0].isspace()), "?")
            causes[f"{error} in {Path(path).parent.name}/{Path(path).name}:{line} {function}()"] += 1
    return causes


def records_of(data_dir: Path) -> str:
    """How far the fuzz got: the issuances it left, by state, and the requests voided before issue."""
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as db:
        states = dict(db.execute("SELECT state, count(*) FROM issuances GROUP BY state").fetchall())
        voided_before = db.execute("SELECT count(*) FROM voided_requests").fetchone()[0]
        sessions = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    return f"{sessions} sessions, issuances by state {states}, {voided_before} requests voided before issue"


def report(tally: Tally, seconds: float, kiosk_ok: str, records: str, books: list[str], exceptions: Counter) -> str:
    lines = [f"{tally.sent} requests in {seconds:.0f} s: {tally.sent / seconds:.1f} requests/s",
             "by route and status:"]
    by_route: dict[str, Counter] = {}
    for (route, status), n in tally.statuses.items():
        by_route.setdefault(route, Counter())[status] = n
    for route in sorted(by_route):
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(by_route[route].items(), key=str))
        lines.append(f"  {route}: {counts}")
    lines.append(f"distinct failures: {len(tally.failures)}")
    for (kind, route, status), (_, request, message) in sorted(tally.failures.items(), key=str):
        lines += [f"  [{kind}] {route} -> {status}: {message[:300]}", f"    reproduce with {request!r}"]
    lines.append(f"exceptions in the servers' logs: {sum(exceptions.values())}")
    lines += [f"  {n} x {cause}" for cause, n in exceptions.most_common()]
    lines.append(f"a kiosk afterwards: {kiosk_ok}")
    lines.append(f"registry: {records}")
    lines.append(f"registry books: {'consistent' if not books else f'{len(books)} problems'}")
    lines += [f"  {problem}" for problem in books[:30]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--data", type=Path, help="a stub folder to copy (default: a new one)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", "Generating overly large repr")  # of strategies holding certificates
    with tempfile.TemporaryDirectory(prefix="fuzz-center-") as tmp:
        data_dir = Path(tmp) / "stub"
        if args.data:
            shutil.copytree(args.data, data_dir)
        else:
            init(data_dir, TERMINAL_ID)
        tally, seconds, start = Tally(), args.minutes * 60, time.monotonic()
        with running_center(data_dir) as (center, kiosk):
            # A session lives 10 minutes: a new one (and a new Known) every 5.
            while (left := seconds - (time.monotonic() - start)) > 0:
                fuzz_for(center, known_for(kiosk, data_dir), min(left, 300), tally)
            elapsed = time.monotonic() - start
            try:
                serve_a_kiosk(kiosk, CardFile.load(card_path(data_dir, KIOSK_RESIDENT)))
                kiosk_ok = "served (health, challenge, session, issuance, printed)"
            except Exception as exc:  # the report says what broke, whatever it is
                kiosk_ok = f"NOT served: {type(exc).__name__}: {exc}"
        print(report(tally, elapsed, kiosk_ok, records_of(data_dir), books_problems(data_dir),
                     server_exceptions(data_dir / "stub.log", data_dir / "public.log")))


if __name__ == "__main__":
    main()
