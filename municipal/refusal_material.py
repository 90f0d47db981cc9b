"""Cards and terminals the issuance center must refuse, made from an initialised stub
data dir (`kiosk-municipal init`), for the refusal tests.

Each card is a resident's seeded card with one thing wrong, written to
<data>/refusal-cards/<name>.card; REFUSED_CARDS says which refusal code each earns.
`revoked_card` revokes the seeded card itself, which the other cards share their
certificate or key with: give it a data dir of its own, or build it last.
The challenge refusals need no special card: a seeded card (`seeded_card`), the
card's own signature (`card_signature`) and a second terminal (`second_terminal`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ReasonFlags

from devices.card.cardfile import CardFile
from municipal.cli import card_path
from municipal.pki import (JPKI_AUTH_CA_NAME, JPKI_SIGNATURE_POLICY, KeyAndCert, issue_auth_certificate,
                           key_usage, make_ca, private_key_pem)
from municipal.revocation import revoke_resident_card
from municipal.service import ServiceConfig
from municipal.terminals import issue_registered_terminal

RESIDENT = "R0001"
DER = serialization.Encoding.DER


def material_path(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "refusal-cards" / f"{name}.card"


def seeded_card(data_dir: Path, resident: str = RESIDENT) -> CardFile:
    return CardFile.load(card_path(data_dir, resident))


def card_signature(card: CardFile, message: bytes) -> bytes:
    """What the card answers to COMPUTE DIGITAL SIGNATURE over `message`."""
    key = serialization.load_pem_private_key(card.auth_private_key_pem, None)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def _variant(data_dir: Path, name: str, **changes) -> CardFile:
    """The seeded card with `changes`, saved as refusal material `name`."""
    card = dataclasses.replace(seeded_card(data_dir), card_id=f"REFUSAL-{name.upper()}", **changes)
    path = material_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    card.save(path)
    return card


def _reissued(data_dir: Path, name: str, ca: KeyAndCert | None = None, **certificate) -> CardFile:
    """The seeded card whose authentication certificate `ca` (default: the stub's JPKI
    authentication CA) reissued over the same key with `certificate` options, so only
    the certificate is wrong and the card still signs correctly."""
    ca = ca or ServiceConfig(data_dir).pki.load("jpki-auth-ca")
    key = serialization.load_pem_private_key(seeded_card(data_dir).auth_private_key_pem, None)
    cert = issue_auth_certificate(ca, key, **certificate)
    return _variant(data_dir, name, auth_certificate_der=cert.public_bytes(DER),
                    auth_ca_certificate_der=ca.cert.public_bytes(DER))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def expired_card(data_dir: Path) -> CardFile:
    return _reissued(data_dir, "expired", not_before=_now() - dt.timedelta(days=5 * 365),
                     not_after=_now() - dt.timedelta(days=1))


def not_yet_valid_card(data_dir: Path) -> CardFile:
    return _reissued(data_dir, "not-yet-valid", not_before=_now() + dt.timedelta(days=1))


def impostor_ca_card(data_dir: Path) -> CardFile:
    """Issued by a CA with the JPKI authentication CA's name but another key."""
    return _reissued(data_dir, "impostor-ca", make_ca(JPKI_AUTH_CA_NAME))


def other_ca_card(data_dir: Path) -> CardFile:
    """Issued by a CA of another name: the genuine JPKI signature CA, so only the
    issuer, not the key's provenance, tells it apart."""
    return _reissued(data_dir, "other-ca", ServiceConfig(data_dir).pki.load("jpki-sign-ca"))


def wrong_key_usage_card(data_dir: Path) -> CardFile:
    """nonRepudiation only, as on a signature key: not for authentication."""
    usage = key_usage(digital_signature=False, non_repudiation=True)
    return _reissued(data_dir, "wrong-key-usage", usage=usage)


def wrong_policy_card(data_dir: Path) -> CardFile:
    """An authentication certificate under the digital-signature policy."""
    return _reissued(data_dir, "wrong-policy", policy=JPKI_SIGNATURE_POLICY)


def mismatched_key_card(data_dir: Path) -> CardFile:
    """A genuine certificate on a card whose key is another: its signatures never verify."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _variant(data_dir, "mismatched-key", auth_private_key_pem=private_key_pem(other))


def revoked_card(data_dir: Path, resident: str = RESIDENT) -> CardFile:
    """The resident's good seeded card, revoked as `kiosk-municipal revoke-card` does."""
    card = seeded_card(data_dir, resident)
    revoke_resident_card(ServiceConfig(data_dir).registry, card, resident, ReasonFlags.key_compromise)
    return card


def second_terminal(data_dir: Path, terminal_id: str = "KIOSK-0002") -> tuple[Path, Path]:
    """Another registered kiosk's certificate and key from the stub root, in <data>/terminals/."""
    config = ServiceConfig(data_dir)
    return issue_registered_terminal(config.pki, config.registry, terminal_id, Path(data_dir) / "terminals")


REFUSED_CARDS = (
    (expired_card, "certificate_expired"),
    (not_yet_valid_card, "certificate_not_yet_valid"),
    (impostor_ca_card, "certificate_untrusted"),
    (other_ca_card, "certificate_untrusted"),
    (wrong_key_usage_card, "certificate_policy"),
    (wrong_policy_card, "certificate_policy"),
    (mismatched_key_card, "signature_invalid"),
    (revoked_card, "certificate_revoked"),
)
