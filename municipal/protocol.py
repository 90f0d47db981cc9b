"""The wire contract between kiosk and issuance center: request and answer shapes,
and the signed manifest that binds a printed document to one card and one request.

Both sides import this module, as they would share an API specification.
"""
from __future__ import annotations

import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict

API = "/v1"


class Manifest(BaseModel):
    """Everything the kiosk must check before a page leaves the printer."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = 1
    request_id: str
    session_id: str
    terminal_id: str
    certificate_sha256: str  # of the card's authentication certificate (DER)
    document_type: str
    copies: int
    pages: int
    pdf_sha256: str
    serial: str
    issued_at: str  # ISO 8601, UTC
    municipality: str  # municipality code

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")


def sign_manifest(manifest: Manifest, key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.sign(manifest.canonical_bytes(), ec.ECDSA(hashes.SHA256()))


def manifest_signature_valid(manifest: Manifest, signature: bytes, public_key: ec.EllipticCurvePublicKey) -> bool:
    try:
        public_key.verify(signature, manifest.canonical_bytes(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class ChallengeAnswer(BaseModel):
    challenge_id: str
    challenge: str  # base64 of the bytes the card signs
    expires_in: float


class SessionRequest(BaseModel):
    challenge_id: str
    certificate: str  # base64 DER of the card's authentication certificate
    signature: str  # base64 RSA PKCS#1 v1.5 SHA-256 signature over the challenge bytes


class OfferedDocument(BaseModel):
    type: str
    fee_yen: int


class SessionAnswer(BaseModel):
    session_id: str
    expires_in: float
    documents: list[OfferedDocument]


class IssuanceRequest(BaseModel):
    session_id: str
    request_id: str  # chosen by the kiosk; retrying with it returns the same document
    document_type: str
    copies: int


class IssuanceAnswer(BaseModel):
    pdf: str  # base64
    manifest: Manifest
    manifest_signature: str  # base64 DER ECDSA


class Refusal(BaseModel):
    """Every 4xx/5xx answer. `code` is what the kiosk maps to a screen."""

    code: str
    message: str
