"""The issuance center's HTTP API (Starlette), played by the stub.

challenge (single use, short-lived, bound to the terminal) → session (certificate
chain, validity, revocation, policy, signature; the resident's rules) → issuance (PDF
plus a manifest signed by the municipality, bound to terminal, card, request and
every page) → printed / void.

No handler keeps state between requests: each one reads its own rows, renders
outside any lock (in renderer processes when configured: municipal.rendering), and
writes in one short transaction (waiting for the write lock without blocking the
event loop). A retried request id returns
the stored document; an issuance not confirmed by its print-by time is voided.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from municipal.documents import prepare_document
from municipal.housekeeping import AUDIT_RETENTION_DAYS, DAY_S, PURGE_EVERY_S, Lives, keep_bounded
from municipal.http_guard import API_BODY_LIMIT, BodyLimit, http_error
from municipal.pki import JST, PkiFiles, cert_sha256
from contract.issuance import (API, REQUEST_ID_PATTERN, ChallengeAnswer, IssuanceAnswer, IssuanceRequest, Manifest,
                                OutcomeAnswer, PageDigest, SessionAnswer, SessionRequest, sign_manifest)
from municipal.registry import Registry
from municipal.rendering import CertificateRenderer
from municipal.revocation import check_card_not_revoked, check_session_card_not_revoked, revocation_routes
from municipal.rules import check_request, check_resident, document_offers
from municipal.terminals import check_terminal, terminal_id_of
from municipal.verification import Refused, verify_auth_certificate, verify_challenge_signature

log = logging.getLogger("municipal")

CHALLENGE_TTL_S = 60.0
SESSION_TTL_S = 600.0  # several documents in one visit without a new PIN
PRINT_DEADLINE_S = 600.0  # printing can take minutes; unconfirmed after this, the request is void
SERIAL_ATTEMPTS = 3  # a serial has 40 random bits per municipality and day: a second collision is a bug
# Test-only faults, switched on from the command line, to prove the kiosk refuses them.
KNOWN_FAULTS = {"manifest-other-card", "manifest-fee"}


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    faults: frozenset[str] = field(default_factory=frozenset)
    # The wall clock is the real one plus this (`serve --clock-offset-s`): the demo plays
    # a weekday morning at night, tests a fixed day. See japan_clock for what reads it.
    clock_offset: dt.timedelta = dt.timedelta(0)
    print_deadline_s: float = PRINT_DEADLINE_S
    render_processes: int = 0  # 0: certificates render on the event loop
    # The audit's retention (challenges, sessions and voided request ids go after their
    # own life), and how often the registry is purged (shorter only in benchmarks/soak.py).
    audit_retention_days: float = AUDIT_RETENTION_DAYS
    purge_every_s: float = PURGE_EVERY_S

    @property
    def housekeeping_lives(self) -> Lives:
        return Lives(voided_request_s=SESSION_TTL_S, audit_s=self.audit_retention_days * DAY_S)

    @property
    def pki(self) -> PkiFiles:
        return PkiFiles(self.data_dir / "pki")

    @property
    def registry(self) -> Registry:
        return Registry(self.data_dir / "registry.sqlite")


def japan_clock(offset: dt.timedelta = dt.timedelta(0)):
    """The center's wall clock (Japan time), the real one plus `offset`, as the kiosk
    that shares the offset reads it: opening hours, ages and the certificate's date,
    and the manifest's issued-at and print-by. What stays on the real clock: the card
    certificate's validity (its CA signed it on the real clock), and every lifetime
    the registry stores as epoch seconds (challenges, sessions, the print-by that
    voids a document, the audit), which are intervals, not dates anyone reads."""
    return lambda: dt.datetime.now(JST) + offset


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Refused("bad_request", f"{what} is not base64", 400) from None




def audit(conn, event: str, outcome: str, terminal=None, session=None, request=None) -> None:
    """Identifiers and outcomes only: never a name, address, date of birth or number."""
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?)", (time.time(), event, terminal, session, request, outcome))
    log.info("%s outcome=%s terminal=%s session=%s request=%s", event, outcome, terminal, session, request)


def refusal_response(request: Request, exc: Refused) -> JSONResponse:
    body = {"code": exc.code, "message": exc.message}
    if getattr(exc, "opening_hours", None):
        body["opening_hours"] = exc.opening_hours
    return JSONResponse(body, status_code=exc.status)


async def parse(request: Request, model):
    """The body as `model`, parsed by pydantic's own JSON reader: invalid JSON (a lone
    surrogate, bytes that are not UTF-8, nesting past its depth limit) and wrong types
    ("2" or true for a number) are a bad request."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError:
        raise Refused("bad_request", f"the body is not a valid {model.__name__}", 400) from None


def check_request_id(request_id: str) -> str:
    """A request id in a URL is held to the same format as in a body."""
    if re.fullmatch(REQUEST_ID_PATTERN, request_id) is None:
        raise Refused("bad_request", "the request id is not 8-64 letters, digits, '-' or '_'", 400)
    return request_id


def internal_error_handler(registry: Registry):
    """A bug answers 500 with a code, never a stack trace, and is audited with an
    error id that is also in the log beside the traceback."""
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        error_id = secrets.token_hex(4)
        log.error("internal_error id=%s %s %s", error_id, request.method, request.url.path, exc_info=exc)
        async with registry.writing() as conn:
            audit(conn, request.scope.get("kiosk.event", "request"), f"internal_error:{error_id}",
                  request.scope.get("kiosk.terminal"), request.scope.get("kiosk.session"),
                  request.scope.get("kiosk.request"))
        return JSONResponse({"code": "internal_error", "message": f"internal error {error_id}"}, status_code=500)
    return handle


def build_app(config: ServiceConfig) -> Starlette:
    registry = config.registry
    auth_ca = x509.load_pem_x509_certificate(config.pki.auth_ca.read_bytes())
    with registry.reading() as conn:
        signer_keys = {row["code"]: config.pki.municipal_signer(row["code"]).key
                       for row in conn.execute("SELECT code FROM municipalities")}
    japan_now = japan_clock(config.clock_offset)

    def wall_clock_utc(epoch: float) -> str:
        """A real instant as the shared wall clock names it, in UTC."""
        moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc) + config.clock_offset
        return moment.isoformat(timespec="seconds")

    renderer = CertificateRenderer(config.render_processes)

    @asynccontextmanager
    async def lifespan(app):
        await renderer.start()
        housekeeping = asyncio.create_task(keep_bounded(registry, config.housekeeping_lives, config.purge_every_s))
        try:
            yield
        finally:
            housekeeping.cancel()
            renderer.close()

    def terminal_of(request: Request) -> str:
        """The kiosk's identity is the CN of the client certificate TLS verified, if it
        is a registered terminal's (municipal.terminals); a revoked terminal is refused
        on its next request."""
        der = request.scope.get("extensions", {}).get("tls", {}).get("client_cert_der")
        if not der:
            raise Refused("terminal_unauthenticated", "no terminal certificate", 401)
        cert = x509.load_der_x509_certificate(der)
        request.scope["kiosk.terminal"] = terminal_id_of(cert)  # audited even when refused
        with registry.reading() as conn:
            return check_terminal(conn, cert)

    def audited(event: str):
        """Record every refusal in the audit log, in its own transaction."""
        def wrap(handler):
            async def endpoint(request: Request):
                request.scope["kiosk.event"] = event
                try:
                    return await handler(request)
                except Refused as exc:
                    async with registry.writing() as conn:
                        audit(conn, event, exc.code, request.scope.get("kiosk.terminal"),
                              request.scope.get("kiosk.session"), request.scope.get("kiosk.request"))
                    raise
            return endpoint
        return wrap

    async def health(request: Request):
        """For the kiosk's self-test: answers only a terminal TLS and the registry accept."""
        terminal = terminal_of(request)
        return JSONResponse({"status": "ok", "terminal": terminal})

    @audited("challenge")
    async def new_challenge(request: Request):
        terminal = terminal_of(request)
        challenge_id, nonce = secrets.token_urlsafe(16), secrets.token_bytes(32)
        async with registry.writing() as conn:
            conn.execute("INSERT INTO challenges VALUES (?,?,?,?,0)",
                         (challenge_id, terminal, nonce, time.time() + CHALLENGE_TTL_S))
            audit(conn, "challenge", "issued", terminal)
        return JSONResponse(ChallengeAnswer(challenge_id=challenge_id, challenge=_b64(nonce),
                                            expires_in=CHALLENGE_TTL_S).model_dump(), status_code=201)

    async def spend_challenge(challenge_id: str, terminal: str) -> bytes:
        async with registry.writing() as conn:
            row = conn.execute("SELECT * FROM challenges WHERE id = ?", (challenge_id,)).fetchone()
            if row is None:
                raise Refused("challenge_invalid", "unknown challenge")
            if row["terminal"] != terminal:
                raise Refused("challenge_other_terminal", "the challenge was issued to another terminal")
            if row["used"]:
                raise Refused("challenge_replayed", "the challenge was already used")
            # Spent on first sight, whatever follows: a challenge is never answered twice.
            conn.execute("UPDATE challenges SET used = 1 WHERE id = ?", (challenge_id,))
        if row["expires_at"] < time.time():
            raise Refused("challenge_expired", "the challenge expired")
        return row["nonce"]

    @audited("session")
    async def new_session(request: Request):
        terminal = terminal_of(request)
        body = await parse(request, SessionRequest)
        cert_der = _unb64(body.certificate, "certificate")
        signature = _unb64(body.signature, "signature")
        nonce = await spend_challenge(body.challenge_id, terminal)
        cert = verify_auth_certificate(cert_der, auth_ca, dt.datetime.now(dt.timezone.utc))
        fingerprint = cert_sha256(cert_der)
        now = japan_now()
        with registry.reading() as conn:
            check_card_not_revoked(conn, cert)
            verify_challenge_signature(cert, nonce, signature)
            card = conn.execute("SELECT resident, issued_on FROM cards WHERE cert_sha256 = ?",
                                (fingerprint,)).fetchone()
            if card is None:
                raise Refused("resident_unknown", "no resident holds this certificate")
            resident = conn.execute("SELECT * FROM residents WHERE id = ?", (card["resident"],)).fetchone()
            household = conn.execute("SELECT * FROM households WHERE id = ?", (resident["household"],)).fetchone()
            municipality = conn.execute("SELECT * FROM municipalities WHERE code = ?",
                                        (household["municipality"],)).fetchone()
            check_resident(resident, household, municipality, card["issued_on"], now.date())
            offers = document_offers(conn, resident, now)
        session_id = secrets.token_urlsafe(16)
        async with registry.writing() as conn:
            conn.execute("INSERT INTO sessions VALUES (?,?,?,?,?)",
                         (session_id, terminal, card["resident"], fingerprint, time.time() + SESSION_TTL_S))
            audit(conn, "session", "opened", terminal, session_id)
        answer = SessionAnswer(session_id=session_id, expires_in=SESSION_TTL_S, documents=offers)
        return JSONResponse(answer.model_dump(mode="json"), status_code=201)

    def open_session(conn, session_id: str, terminal: str):
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row["terminal"] != terminal or row["expires_at"] < time.time():
            raise Refused("session_invalid", "no open session for this terminal", 401)
        return row

    def stored_answer(conn, row, request_json: str, terminal: str) -> JSONResponse:
        """The answer to a retried request id: the same document, or why not."""
        if row["terminal"] != terminal or row["request"] != request_json:
            raise Refused("request_conflict", "this request id was used for another request", 409)
        if row["state"] == "voided":
            raise Refused("request_closed", "the request was voided", 409)
        if row["print_by"] < time.time():  # printed or void by now; its PDF is not kept past this
            raise Refused("request_expired", "the request passed its print-by time", 409)
        return JSONResponse(IssuanceAnswer(pdf=_b64(row["pdf"]), manifest=Manifest.model_validate_json(row["manifest"]),
                                           manifest_signature=_b64(row["signature"])).model_dump(mode="json"))

    @audited("issuance")
    async def issue(request: Request):
        terminal = terminal_of(request)
        body = await parse(request, IssuanceRequest)
        request.scope["kiosk.session"], request.scope["kiosk.request"] = body.session_id, body.request_id
        request_json = body.model_dump_json(exclude={"request_id"})
        now = japan_now()
        with registry.reading() as conn:
            session = open_session(conn, body.session_id, terminal)
            check_session_card_not_revoked(conn, session["cert_sha256"])
            if voided_before_issue(conn, terminal, body.request_id):
                raise Refused("request_closed", "the request was voided", 409)
            done = conn.execute("SELECT * FROM issuances WHERE request_id = ?", (body.request_id,)).fetchone()
            if done is not None:
                answer = stored_answer(conn, done, request_json, terminal)
                audit_replay = True
            else:
                audit_replay = False
                resident = conn.execute("SELECT * FROM residents WHERE id = ?", (session["resident"],)).fetchone()
                offer = check_request(document_offers(conn, resident, now), body.document_type, body.copies,
                                      body.options)
                prepared = prepare_document(conn, body.document_type, session["resident"], body.options,
                                            now.date(), signer_keys)
        if audit_replay:
            async with registry.writing() as conn:
                audit(conn, "issuance", "replayed", terminal, body.session_id, body.request_id)
            return answer
        fee_yen = offer.fee_yen * body.copies
        if "manifest-fee" in config.faults:  # signed, but ten times the fee the resident was offered
            fee_yen *= 10
        for _ in range(SERIAL_ATTEMPTS):
            rendered = await renderer.render(prepared.record, prepared.code)
            fingerprint = session["cert_sha256"]
            if "manifest-other-card" in config.faults:
                with registry.reading() as conn:
                    fingerprint = conn.execute("SELECT cert_sha256 FROM cards WHERE cert_sha256 != ? LIMIT 1",
                                               (fingerprint,)).fetchone()["cert_sha256"]
            issued_at = time.time()
            print_by = issued_at + config.print_deadline_s
            manifest = Manifest(
                request_id=body.request_id, session_id=body.session_id, terminal_id=terminal,
                certificate_sha256=fingerprint, document_type=body.document_type, options=body.options,
                copies=body.copies, fee_yen=fee_yen,
                pages=tuple(PageDigest(number=n, sha256=d) for n, d in enumerate(rendered.page_sha256, 1)),
                pdf_sha256=hashlib.sha256(rendered.pdf).hexdigest(), serial=prepared.serial,
                issued_at=wall_clock_utc(issued_at), print_by=wall_clock_utc(print_by),
                municipality=prepared.municipality)
            signature = sign_manifest(manifest, signer_keys[prepared.municipality])
            async with registry.writing() as conn:
                # A concurrent duplicate or a void may have landed while we rendered, or the
                # session ended (and, purged, no longer holds a void back).
                open_session(conn, body.session_id, terminal)
                if voided_before_issue(conn, terminal, body.request_id):
                    raise Refused("request_closed", "the request was voided", 409)
                done = conn.execute("SELECT * FROM issuances WHERE request_id = ?", (body.request_id,)).fetchone()
                if done is not None:
                    audit(conn, "issuance", "replayed", terminal, body.session_id, body.request_id)
                    return stored_answer(conn, done, request_json, terminal)
                if conn.execute("SELECT 1 FROM issuances WHERE serial = ?", (prepared.serial,)).fetchone():
                    # Another document has this serial: make the document again under a new one.
                    audit(conn, "issuance", "serial_collision", terminal, body.session_id, body.request_id)
                else:
                    void_overdue(conn)
                    conn.execute("INSERT INTO issuances VALUES (?,?,?,?,?,?,?,?,?,?,'issued',?,?)", (
                        body.request_id, body.session_id, terminal, request_json, prepared.serial, rendered.pdf,
                        manifest.model_dump_json(), signature, json.dumps(prepared.content, ensure_ascii=False),
                        prepared.code, issued_at, print_by))
                    audit(conn, "issuance", "issued", terminal, body.session_id, body.request_id)
                    return JSONResponse(IssuanceAnswer(pdf=_b64(rendered.pdf), manifest=manifest,
                                                       manifest_signature=_b64(signature)).model_dump(mode="json"))
            with registry.reading() as conn:
                prepared = prepare_document(conn, body.document_type, session["resident"], body.options,
                                            now.date(), signer_keys)
        raise Refused("internal_error", "no free serial for the document", 503)

    def voided_before_issue(conn, terminal: str, request_id: str) -> bool:
        return conn.execute("SELECT 1 FROM voided_requests WHERE terminal = ? AND request_id = ?",
                            (terminal, request_id)).fetchone() is not None

    def void_overdue(conn) -> None:
        """A request not confirmed printed by its print-by time is void as a whole."""
        overdue = conn.execute("SELECT request_id, terminal, session FROM issuances WHERE state = 'issued'"
                               " AND print_by < ?", (time.time(),)).fetchall()
        for row in overdue:
            conn.execute("UPDATE issuances SET state = 'voided' WHERE request_id = ?", (row["request_id"],))
            audit(conn, "voided", "deadline", row["terminal"], row["session"], row["request_id"])

    def outcome(new_state: str):
        @audited(new_state)
        async def endpoint(request: Request):
            terminal = terminal_of(request)
            request_id = check_request_id(request.path_params["request_id"])
            request.scope["kiosk.request"] = request_id
            refusal = None
            # One transaction, committed even if this request is then refused (the
            # overdue voids stand), so a refusal is raised only after it.
            async with registry.writing() as conn:
                void_overdue(conn)
                row = conn.execute("SELECT state, terminal FROM issuances WHERE request_id = ?",
                                   (request_id,)).fetchone()
                if row is not None and row["terminal"] != terminal:
                    # Another terminal's request: refused as unknown, and left as it is.
                    refusal = Refused("request_unknown", "no such issuance for this terminal", 404)
                elif row is None and new_state == "voided":
                    # Voided before it was recorded (the kiosk gave up waiting): the
                    # request id can never produce a document for this terminal now.
                    conn.execute("INSERT OR IGNORE INTO voided_requests VALUES (?,?,?)",
                                 (request_id, terminal, time.time()))
                    audit(conn, "voided", "before_issue", terminal, request=request_id)
                    return JSONResponse(OutcomeAnswer(request_id=request_id, state="voided").model_dump())
                elif row is None:
                    refusal = Refused("request_unknown", "no such issuance for this terminal", 404)
                elif row["state"] not in ("issued", new_state):
                    refusal = Refused("request_closed", f"the issuance is already {row['state']}", 409)
                else:
                    conn.execute("UPDATE issuances SET state = ? WHERE request_id = ?", (new_state, request_id))
                    audit(conn, new_state, "recorded", terminal, request=request_id)
            if refusal is not None:
                raise refusal
            return JSONResponse(OutcomeAnswer(request_id=request_id, state=new_state).model_dump())
        return endpoint

    request_id_path = "{request_id:str}"
    routes = [
        Route(f"{API}/health", health, methods=["GET"]),
        Route(f"{API}/challenges", new_challenge, methods=["POST"]),
        Route(f"{API}/sessions", new_session, methods=["POST"]),
        Route(f"{API}/issuances", issue, methods=["POST"]),
        Route(f"{API}/issuances/{request_id_path}/printed", outcome("printed"), methods=["POST"]),
        Route(f"{API}/issuances/{request_id_path}/void", outcome("voided"), methods=["POST"]),
        *revocation_routes(config),
    ]
    return Starlette(routes=routes, middleware=[Middleware(BodyLimit, limit=API_BODY_LIMIT)],
                     exception_handlers={Refused: refusal_response, HTTPException: http_error,
                                         Exception: internal_error_handler(registry)},
                     lifespan=lifespan)
