"""The public verification site: whoever holds a printed certificate types or scans
its code and learns whether it is valid (genuine and printed), which municipality
certifies it and what it certifies, to compare with the paper.

Served apart from the kiosk API (`kiosk-municipal serve-public`): a recipient has no
terminal certificate, and this app can read issuances but change nothing.

- Only a valid document shows its content. A genuine code of a document never
  confirmed printed, voided, or past its print-by time answers its state and nothing
  else.
- A code that is malformed, names no issuance, or whose signature is not the serial's
  municipality's gets one refusal, byte for byte, so the site tells nobody which
  serials exist. A well-formed code costs the same whether or not its serial exists:
  a registry read, a certificate's content parsed and digested, one signature check.
- Nothing is written per query (a flood of them once slowed the kiosks' commits):
  outcomes are counted in memory and logged as one line, at most once a minute and at
  shutdown. Each client address has a token bucket (municipal.rate_limit).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import asynccontextmanager

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from municipal.http_guard import PUBLIC_BODY_LIMIT, BodyLimit, http_error
from contract.issuance import API, Manifest, VerificationAnswer, VerificationRequest, signers_by_municipality
from municipal.rate_limit import RateLimiter
from municipal.service import ServiceConfig, internal_error_handler, parse, refusal_response
from municipal.verification import Refused
from municipal.verification_code import certified_content, code_valid, content_lines, content_sha256, serial_of
from printouts import fictional_records

log = logging.getLogger("municipal.public")

# A person checks a certificate in a few tries (a typo, a second scan); a clerk
# checking a pile scans one every few seconds. 30 a minute with a burst of 10 serves
# both, and holds a flood from one address to one query every 2 s.
QUERIES_PER_MINUTE = 30
QUERY_BURST = 10
MAX_CLIENTS = 10_000  # buckets kept: ~2 MB at most
COUNTS_EVERY_S = 60.0
OUTCOMES = ("valid", "not_valid", "refused", "rate_limited")
# Unknown serial, forged signature, malformed code: the same answer.
NO_SUCH_CODE = ("code_invalid", "the code is not that of a certificate the municipalities issued", 400)


class VerificationCounts:
    """Queries by outcome since start: identifiers of nothing, so no personal data."""

    def __init__(self, clock: Callable[[], float]):
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._clock = clock
        self._logged_at = clock()
        self._logged = dict(self.counts)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1
        if self._clock() - self._logged_at >= COUNTS_EVERY_S:
            self.log()

    def log(self) -> None:
        self._logged_at = self._clock()
        if self.counts != self._logged:
            log.info("verifications since start %s", " ".join(f"{k}={n}" for k, n in self.counts.items()))
            self._logged = dict(self.counts)


def client_of(scope) -> str:
    """Whom the rate limit counts: the client's IPv4 address, or its IPv6 /64 (one
    subscriber's network, where another address costs nothing)."""
    host = (scope.get("client") or ("unknown", 0))[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def build_public_app(config: ServiceConfig, clock: Callable[[], float] = time.monotonic) -> Starlette:
    """`clock` (monotonic seconds) drives the rate limit and the counts' log line."""
    registry = config.registry
    with registry.reading() as conn:
        names = dict(conn.execute("SELECT code, name FROM municipalities").fetchall())
    certs = signers_by_municipality(x509.load_pem_x509_certificates(config.pki.manifest_signer.read_bytes()))
    signers = {code: certs[code].public_key() for code in names if code in certs}
    # What a code is checked against when its serial names no issuance or no
    # municipality: a fictional certificate's content, parsed and digested as a real
    # one is, and a key that signed nothing.
    decoy = json.dumps(certified_content(fictional_records.residence_record()), ensure_ascii=False)
    throwaway = ec.generate_private_key(ec.SECP256R1()).public_key()
    limiter = RateLimiter(QUERIES_PER_MINUTE, QUERY_BURST, MAX_CLIENTS, clock)
    counts = VerificationCounts(clock)

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            counts.log()

    async def verify(request: Request):
        wait = limiter.wait_for(client_of(request.scope))
        if wait:
            counts.add("rate_limited")
            retry_after = math.ceil(wait)
            raise HTTPException(429, f"too many verifications from this address; try again in {retry_after} s",
                                headers={"Retry-After": str(retry_after)})
        try:
            answer = answer_for((await parse(request, VerificationRequest)).code)
        except Refused:
            counts.add("refused")
            raise
        counts.add("valid" if answer.valid else "not_valid")
        return JSONResponse(answer.model_dump(exclude_none=True))

    def answer_for(code: str) -> VerificationAnswer:
        try:
            serial = serial_of(code)
        except ValueError:
            raise Refused(*NO_SUCH_CODE) from None
        with registry.reading() as conn:
            row = conn.execute("SELECT state, print_by, manifest, content FROM issuances WHERE serial = ?",
                               (serial,)).fetchone()
        municipality = serial.partition("-")[0]
        content = json.loads(row["content"] if row is not None else decoy)
        if not code_valid(code, content_sha256(content), signers.get(municipality, throwaway)) or row is None:
            raise Refused(*NO_SUCH_CODE)
        state = row["state"]
        if state == "issued" and row["print_by"] < time.time():
            state = "voided"  # the center voids it on its next write; it is void already
        if state != "printed":
            return VerificationAnswer(valid=False, state=state, serial=serial)
        manifest = Manifest.model_validate_json(row["manifest"])
        return VerificationAnswer(
            valid=True, state=state, serial=serial, municipality=municipality, municipality_name=names[municipality],
            document_type=manifest.document_type, issued_at=manifest.issued_at, pages=len(manifest.pages),
            content=content_lines(content))

    return Starlette(routes=[Route(f"{API}/verifications", verify, methods=["POST"])],
                     middleware=[Middleware(BodyLimit, limit=PUBLIC_BODY_LIMIT)],
                     exception_handlers={Refused: refusal_response, HTTPException: http_error,
                                         Exception: internal_error_handler(registry)},
                     lifespan=lifespan)


def serve_public(config: ServiceConfig, host: str, port: int) -> None:
    """HTTPS with the stub's server certificate; no client certificate asked."""
    from municipal.server import serve_https  # uvicorn only when serving
    serve_https(build_public_app(config), config.pki, host, port, client_certificates=False)
