"""The issuance center's HTTP API (Starlette), played by the stub.

challenge → session (certificate chain, validity, policy, signature) → issuance (PDF
plus a manifest signed by the municipality, bound to terminal, card and request) →
printed / void. Each handler reads and writes only its own rows in one transaction.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from municipal.documents import render_document
from municipal.pki import PkiFiles, cert_sha256
from municipal.protocol import (API, ChallengeAnswer, IssuanceAnswer, IssuanceRequest, Manifest,
                                OfferedDocument, SessionAnswer, SessionRequest, sign_manifest)
from municipal.registry import Registry
from municipal.verification import Refused, verify_auth_certificate, verify_challenge_signature

log = logging.getLogger("municipal")

CHALLENGE_TTL_S = 60.0
SESSION_TTL_S = 300.0
# Test-only faults, switched on from the command line, to prove the kiosk refuses them.
KNOWN_FAULTS = {"manifest-other-card"}


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    faults: frozenset[str] = field(default_factory=frozenset)

    @property
    def pki(self) -> PkiFiles:
        return PkiFiles(self.data_dir / "pki")

    @property
    def registry(self) -> Registry:
        return Registry(self.data_dir / "registry.sqlite")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Refused("bad_request", f"{what} is not base64", 400) from None


def _terminal_id(request: Request) -> str:
    """The kiosk's identity is the CN of the client certificate TLS verified."""
    der = request.scope.get("extensions", {}).get("tls", {}).get("client_cert_der")
    if not der:
        raise Refused("terminal_unauthenticated", "no terminal certificate", 401)
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def _audit(conn, event: str, outcome: str, terminal=None, session=None, request=None) -> None:
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?)",
                 (time.time(), event, terminal, session, request, outcome))
    log.info("%s outcome=%s terminal=%s session=%s request=%s", event, outcome, terminal, session, request)


def build_app(config: ServiceConfig) -> Starlette:
    registry = config.registry
    auth_ca = x509.load_pem_x509_certificate(config.pki.auth_ca.read_bytes())
    signer_key = config.pki.load("municipal-signer").key

    async def parse(request: Request, model):
        try:
            return model.model_validate(await request.json())
        except (ValidationError, ValueError):
            raise Refused("bad_request", f"the body is not a valid {model.__name__}", 400) from None

    def refusal_response(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    def audited(event: str):
        """Record every refusal in the audit log, in its own transaction."""
        def wrap(handler):
            async def endpoint(request: Request):
                try:
                    return await handler(request)
                except Refused as exc:
                    with registry.transaction() as conn:
                        _audit(conn, event, exc.code, request.scope.get("kiosk.terminal"))
                    raise
            return endpoint
        return wrap

    @audited("challenge")
    async def new_challenge(request: Request):
        terminal = _terminal_id(request)
        challenge_id, nonce = secrets.token_urlsafe(16), secrets.token_bytes(32)
        with registry.transaction() as conn:
            conn.execute("INSERT INTO challenges VALUES (?,?,?,?,0)",
                         (challenge_id, terminal, nonce, time.time() + CHALLENGE_TTL_S))
            _audit(conn, "challenge", "issued", terminal)
        return JSONResponse(ChallengeAnswer(challenge_id=challenge_id, challenge=_b64(nonce),
                                            expires_in=CHALLENGE_TTL_S).model_dump(), status_code=201)

    @audited("session")
    async def new_session(request: Request):
        terminal = request.scope["kiosk.terminal"] = _terminal_id(request)
        body = await parse(request, SessionRequest)
        cert_der = _unb64(body.certificate, "certificate")
        signature = _unb64(body.signature, "signature")
        with registry.transaction() as conn:
            row = conn.execute("SELECT * FROM challenges WHERE id = ?", (body.challenge_id,)).fetchone()
            if row is None or row["terminal"] != terminal:
                raise Refused("challenge_invalid", "unknown challenge for this terminal")
            if row["used"]:
                raise Refused("challenge_invalid", "the challenge was already used")
            # Spent on first sight, whatever follows: a challenge is never answered twice.
            conn.execute("UPDATE challenges SET used = 1 WHERE id = ?", (body.challenge_id,))
        if row["expires_at"] < time.time():
            raise Refused("challenge_invalid", "the challenge expired")
        cert = verify_auth_certificate(cert_der, auth_ca, dt.datetime.now(dt.timezone.utc))
        verify_challenge_signature(cert, row["nonce"], signature)
        fingerprint = cert_sha256(cert_der)
        with registry.transaction() as conn:
            card = conn.execute("SELECT resident FROM cards WHERE cert_sha256 = ?", (fingerprint,)).fetchone()
            if card is None:
                raise Refused("resident_unknown", "no resident holds this certificate")
            session_id = secrets.token_urlsafe(16)
            conn.execute("INSERT INTO sessions VALUES (?,?,?,?,?)",
                         (session_id, terminal, card["resident"], fingerprint, time.time() + SESSION_TTL_S))
            offered = conn.execute(
                "SELECT d.type, d.fee_yen FROM offered_documents d JOIN households h ON h.municipality ="
                " d.municipality JOIN residents r ON r.household = h.id WHERE r.id = ? ORDER BY d.type",
                (card["resident"],)).fetchall()
            _audit(conn, "session", "opened", terminal, session_id)
        answer = SessionAnswer(session_id=session_id, expires_in=SESSION_TTL_S,
                               documents=[OfferedDocument(type=d["type"], fee_yen=d["fee_yen"]) for d in offered])
        return JSONResponse(answer.model_dump(), status_code=201)

    def _session(conn, session_id: str, terminal: str):
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row["terminal"] != terminal or row["expires_at"] < time.time():
            raise Refused("session_invalid", "no open session for this terminal", 401)
        return row

    @audited("issuance")
    async def issue(request: Request):
        terminal = request.scope["kiosk.terminal"] = _terminal_id(request)
        body = await parse(request, IssuanceRequest)
        if not 1 <= body.copies <= 10:
            raise Refused("bad_request", "copies must be 1 to 10", 400)
        with registry.transaction() as conn:
            session = _session(conn, body.session_id, terminal)
            done = conn.execute("SELECT * FROM issuances WHERE request_id = ?", (body.request_id,)).fetchone()
            if done is not None:
                if (done["session"], done["document_type"], done["copies"]) != (
                        body.session_id, body.document_type, body.copies):
                    raise Refused("request_conflict", "this request id was used for another request", 409)
                _audit(conn, "issuance", "replayed", terminal, body.session_id, body.request_id)
                return _issuance_response(done["pdf"], done["manifest"], done["signature"])
            fee = conn.execute(
                "SELECT d.fee_yen FROM offered_documents d JOIN households h ON h.municipality = d.municipality"
                " JOIN residents r ON r.household = h.id WHERE r.id = ? AND d.type = ?",
                (session["resident"], body.document_type)).fetchone()
            if fee is None:
                raise Refused("document_not_offered", "this document is not offered to this resident")
            rendered = render_document(conn, body.document_type, session["resident"])
            fingerprint = session["cert_sha256"]
            if "manifest-other-card" in config.faults:
                other = conn.execute("SELECT cert_sha256 FROM cards WHERE cert_sha256 != ? LIMIT 1",
                                     (fingerprint,)).fetchone()
                fingerprint = other["cert_sha256"]
            manifest = Manifest(
                request_id=body.request_id, session_id=body.session_id, terminal_id=terminal,
                certificate_sha256=fingerprint, document_type=body.document_type, copies=body.copies,
                pages=rendered.pages, pdf_sha256=hashlib.sha256(rendered.pdf).hexdigest(),
                serial=rendered.serial, issued_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                municipality=rendered.municipality)
            signature = sign_manifest(manifest, signer_key)
            manifest_json = manifest.model_dump_json()
            conn.execute("INSERT INTO issuances VALUES (?,?,?,?,?,?,?,?,?,'issued',?)",
                         (body.request_id, body.session_id, terminal, body.document_type, body.copies,
                          rendered.serial, rendered.pdf, manifest_json, signature, time.time()))
            _audit(conn, "issuance", "issued", terminal, body.session_id, body.request_id)
        return _issuance_response(rendered.pdf, manifest_json, signature)

    def _issuance_response(pdf: bytes, manifest_json: str, signature: bytes) -> JSONResponse:
        answer = IssuanceAnswer(pdf=_b64(pdf), manifest=Manifest.model_validate_json(manifest_json),
                                manifest_signature=_b64(signature))
        return JSONResponse(answer.model_dump())

    def outcome(new_state: str):
        @audited(new_state)
        async def endpoint(request: Request):
            terminal = request.scope["kiosk.terminal"] = _terminal_id(request)
            request_id = request.path_params["request_id"]
            with registry.transaction() as conn:
                row = conn.execute("SELECT state FROM issuances WHERE request_id = ? AND terminal = ?",
                                   (request_id, terminal)).fetchone()
                if row is None:
                    raise Refused("request_unknown", "no such issuance for this terminal", 404)
                if row["state"] not in ("issued", new_state):
                    raise Refused("request_closed", f"the issuance is already {row['state']}", 409)
                conn.execute("UPDATE issuances SET state = ? WHERE request_id = ?", (new_state, request_id))
                _audit(conn, new_state, "recorded", terminal, request=request_id)
            return JSONResponse({"request_id": request_id, "state": new_state})
        return endpoint

    request_id_path = "{request_id:str}"
    routes = [
        Route(f"{API}/challenges", new_challenge, methods=["POST"]),
        Route(f"{API}/sessions", new_session, methods=["POST"]),
        Route(f"{API}/issuances", issue, methods=["POST"]),
        Route(f"{API}/issuances/{request_id_path}/printed", outcome("printed"), methods=["POST"]),
        Route(f"{API}/issuances/{request_id_path}/void", outcome("voided"), methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={Refused: refusal_response})
