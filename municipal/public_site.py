"""The public verification site: whoever holds a printed certificate types or scans
its code and learns whether it is genuine, whether it was printed or voided, and what
it certifies, to compare with the paper.

Served apart from the kiosk API (`kiosk-municipal serve-public`): a recipient has no
terminal certificate, and this app can read issuances but change nothing.
"""
from __future__ import annotations

import json
import time

from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from municipal.protocol import API, Manifest, VerificationAnswer, VerificationRequest
from municipal.service import ServiceConfig, audit, parse, refusal_response
from municipal.verification import Refused
from municipal.verification_code import code_valid, content_lines, content_sha256, serial_of


def build_public_app(config: ServiceConfig) -> Starlette:
    registry = config.registry
    signer = x509.load_pem_x509_certificate(config.pki.manifest_signer.read_bytes()).public_key()

    async def verify(request: Request):
        body = await parse(request, VerificationRequest)
        try:
            serial = serial_of(body.code)
        except ValueError:
            raise Refused("code_invalid", "this is not a certificate verification code", 400) from None
        with registry.reading() as conn:
            row = conn.execute("SELECT * FROM issuances WHERE serial = ?", (serial,)).fetchone()
        if row is None:
            _audit("unknown")
            raise Refused("document_unknown", "no certificate was issued with this serial", 404)
        content = json.loads(row["content"])
        if not code_valid(body.code, content_sha256(content), signer):
            _audit("forged", row["request_id"])
            raise Refused("code_invalid", "the code's signature does not match the certificate issued", 400)
        manifest = Manifest.model_validate_json(row["manifest"])
        state = row["state"]
        if state == "issued" and row["print_by"] < time.time():
            state = "voided"
        _audit(state, row["request_id"])
        return JSONResponse(VerificationAnswer(
            genuine=state == "printed", state=state, serial=serial, document_type=manifest.document_type,
            municipality=manifest.municipality, issued_at=manifest.issued_at, pages=len(manifest.pages),
            content=content_lines(content)).model_dump())

    def _audit(outcome: str, request_id: str | None = None) -> None:
        with registry.transaction() as conn:
            audit(conn, "verification", outcome, request=request_id)

    return Starlette(routes=[Route(f"{API}/verifications", verify, methods=["POST"])],
                     exception_handlers={Refused: refusal_response})


def serve_public(config: ServiceConfig, host: str, port: int) -> None:
    """HTTPS with the stub's server certificate; no client certificate asked."""
    import uvicorn  # only when serving
    uvicorn.run(build_public_app(config), host=host, port=port, ssl_certfile=str(config.pki.server_cert),
                ssl_keyfile=str(config.pki.server_key), timeout_graceful_shutdown=1, log_level="warning",
                access_log=False)
