"""The wire contract between kiosk and issuance center: request and answer shapes,
the refusal codes, and the signed manifest that binds a printed document, page by
page, to one card and one request.

Both sides import this module, as they would share an API specification.
"""
from __future__ import annotations

import json
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, field_validator

API = "/v1"

DocumentType = Literal[
    "residence_record",  # 住民票の写し
    "residence_record_items",  # 住民票記載事項証明書
    "seal_certificate",  # 印鑑登録証明書
    "tax_certificate",  # 課税・所得証明書
    "family_register_full",  # 戸籍全部事項証明書
    "family_register_individual",  # 戸籍個人事項証明書
    "family_register_annex",  # 戸籍の附票の写し
]
DOCUMENT_TYPES: tuple[str, ...] = DocumentType.__args__

# What a resident may add to a 住民票: 世帯主・続柄; 本籍・筆頭者 (Japanese members);
# the My Number (where the municipality allows it); for foreign members their
# nationality or region, residence card number, status of residence and period.
ResidenceOption = Literal["relationship", "domicile", "my_number", "nationality", "residence_card",
                          "residence_status"]
RESIDENCE_OPTIONS: tuple[str, ...] = ResidenceOption.__args__

# Stable refusal codes. The kiosk maps each to a screen; anything else is a bug.
REFUSAL_CODES = frozenset({
    # the request itself
    "bad_request", "terminal_unauthenticated", "terminal_revoked", "internal_error",
    # challenge and card authentication
    "challenge_invalid", "challenge_expired", "challenge_replayed", "challenge_other_terminal",
    "certificate_invalid", "certificate_untrusted", "certificate_expired", "certificate_not_yet_valid",
    "certificate_revoked", "certificate_policy", "signature_invalid",
    # the resident (a protection measure is reported as counter_only, like any other
    # case the store terminal may not serve, so the code reveals nothing)
    "resident_unknown", "age_limit", "moved_out", "counter_only", "not_yet_usable",
    # the document
    "document_not_offered", "service_closed", "family_register_not_enrolled", "seal_not_registered",
    "tax_record_unavailable", "option_not_allowed", "member_not_in_household", "copies_out_of_range",
    # the protocol's own records
    "session_invalid", "request_conflict", "request_unknown", "request_closed", "request_expired",
    "code_invalid", "document_unknown",
})


class Refusal(BaseModel):
    """Every 4xx/5xx answer. `code` is what the kiosk maps to a screen; `message` is
    for logs and engineers; `opening_hours` is set when the code is service_closed."""

    code: str
    message: str
    opening_hours: str | None = None


class DocumentOptions(BaseModel):
    """What the resident chose. `members` None means the whole household."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    members: tuple[str, ...] | None = None
    include: tuple[ResidenceOption, ...] = ()

    @field_validator("members", "include")
    @classmethod
    def _canonical(cls, value):
        return None if value is None else tuple(sorted(set(value)))


class PageDigest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    number: int  # 1-based
    sha256: str  # of the page's decoded content stream (printouts.pdf_pages.page_digests)


class Manifest(BaseModel):
    """Everything the kiosk must check before a page leaves the printer."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = 2
    request_id: str
    session_id: str
    terminal_id: str
    certificate_sha256: str  # of the card's authentication certificate (DER)
    document_type: DocumentType
    options: DocumentOptions
    copies: int
    fee_yen: int  # for all copies
    pages: tuple[PageDigest, ...]
    pdf_sha256: str
    serial: str
    issued_at: str  # ISO 8601, UTC
    print_by: str  # ISO 8601, UTC: unconfirmed after this, the center voids the request
    municipality: str  # code of the municipality that certifies the document

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
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


class MemberChoice(BaseModel):
    """A household member the resident may tick on a 住民票."""

    id: str
    name: str
    is_cardholder: bool


class DocumentOffer(BaseModel):
    """A document of the resident's municipality (or, for family-register documents,
    of the municipality holding the register). Unavailable ones say why, so the kiosk
    can tell the resident (closed now and when it opens, not registered, ...)."""

    type: DocumentType
    fee_yen: int  # per copy
    available: bool
    refusal: str | None = None  # a REFUSAL_CODES member when not available
    opening_hours: str | None = None
    options: tuple[ResidenceOption, ...] = ()  # the options this resident may toggle
    members: tuple[MemberChoice, ...] = ()  # for 住民票: whom the resident may choose
    max_copies: int = 10


class SessionAnswer(BaseModel):
    session_id: str
    expires_in: float
    documents: list[DocumentOffer]


class IssuanceRequest(BaseModel):
    session_id: str
    request_id: str = Field(min_length=8, max_length=64)  # chosen by the kiosk; a retry returns the same document
    document_type: DocumentType
    copies: int
    options: DocumentOptions = DocumentOptions()


class IssuanceAnswer(BaseModel):
    pdf: str  # base64
    manifest: Manifest
    manifest_signature: str  # base64 DER ECDSA


class OutcomeAnswer(BaseModel):
    request_id: str
    state: Literal["printed", "voided"]


class VerificationRequest(BaseModel):
    code: str  # as printed on the certificate, or read from its printed QR code


class VerificationAnswer(BaseModel):
    """What the public verification site tells whoever holds a printed certificate."""

    genuine: bool  # the code's signature is the municipality's and names a real issuance
    state: Literal["printed", "issued", "voided"]
    serial: str
    document_type: DocumentType
    municipality: str
    issued_at: str
    pages: int
    content: list[str]  # the certified content, line by line, to compare with the paper
