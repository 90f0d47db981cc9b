"""The wire contract between kiosk and issuance center: request and answer shapes,
the refusal codes, and the signed manifest that binds a printed document, page by
page, to one card and one request.

Both sides import this module, as they would share an API specification.
"""
from __future__ import annotations

import json
from typing import Annotated, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator, model_validator

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
    "bad_request", "not_found", "method_not_allowed", "body_too_large", "terminal_unauthenticated",
    "terminal_revoked", "terminal_unknown", "internal_error",
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
    "code_invalid",
    # the public verification site
    "rate_limited",
})


# Identifiers a client sends (in a body or a URL): request ids are the kiosk's own
# (a UUID today); challenge and session ids are the center's tokens.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN)]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
MAX_MEMBERS = 64  # more than any household; a longer list is not a choice but an attack
# The largest honest body is a session request: a card certificate (~1.3 KB DER) in base64.
MAX_CERTIFICATE_B64 = 16384
MAX_SIGNATURE_B64 = 1024


class Refusal(BaseModel):
    """Every 4xx/5xx answer. `code` is what the kiosk maps to a screen; `message` is
    for logs and engineers; `opening_hours` is set when the code is service_closed."""

    code: str
    message: str
    opening_hours: str | None = None


class DocumentOptions(BaseModel):
    """What the resident chose. `members` None means the whole household."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    members: tuple[MemberId, ...] | None = Field(None, max_length=MAX_MEMBERS)
    include: tuple[ResidenceOption, ...] = Field((), max_length=len(RESIDENCE_OPTIONS))

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


def signers_by_municipality(certificates: list[x509.Certificate]) -> dict[str, x509.Certificate]:
    """Each municipality signs its own documents: its signing certificate names its
    code in the subject's serialNumber."""
    signers = {}
    for cert in certificates:
        codes = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
        if len(codes) == 1:
            signers[codes[0].value] = cert
    return signers


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
    challenge_id: Token
    certificate: str = Field(max_length=MAX_CERTIFICATE_B64)  # base64 DER of the card's authentication certificate
    signature: str = Field(max_length=MAX_SIGNATURE_B64)  # base64 RSA PKCS#1 v1.5 SHA-256 signature over the challenge


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
    municipality: str  # code of the municipality that certifies it (and signs its manifest)
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
    session_id: Token
    request_id: RequestId  # chosen by the kiosk; a retry returns the same document
    document_type: DocumentType
    copies: StrictInt  # a JSON number: "2" and true are not numbers of copies
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
    """What the public verification site tells whoever holds a certificate whose code
    verified (any other code is refused as code_invalid). Only a valid document says
    who certifies what; any other answer is its state and serial, nothing more."""

    model_config = ConfigDict(extra="forbid")
    valid: bool  # genuine (signed by the serial's municipality) and confirmed printed
    state: Literal["printed", "issued", "voided"]  # issued: not (yet) confirmed printed
    serial: str
    municipality: str | None = None  # code of the municipality whose key signed the code
    municipality_name: str | None = None  # e.g. 架空県みどり市
    document_type: DocumentType | None = None
    issued_at: str | None = None
    pages: int | None = None
    content: list[str] | None = None  # the certified content, line by line, to compare with the paper

    @model_validator(mode="after")
    def _content_only_when_valid(self):
        told = (self.municipality, self.municipality_name, self.document_type, self.issued_at, self.pages,
                self.content)
        if self.valid != (self.state == "printed"):
            raise ValueError("valid means genuine and printed")
        if {v is not None for v in told} != {self.valid}:
            raise ValueError("a valid answer says who certifies what; any other says none of it")
        return self
