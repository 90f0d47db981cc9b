"""Checks on a card's authentication certificate and its signature over a challenge,
as the JPKI validation service would make them. Each failure has its own code."""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from municipal.pki import JPKI_AUTH_POLICY


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def verify_auth_certificate(der: bytes, ca: x509.Certificate, now: dt.datetime) -> x509.Certificate:
    """The card's authentication certificate, checked in the order a verifier trusts
    it: issuer and CA signature (certificate_untrusted), then validity
    (certificate_not_yet_valid, certificate_expired), then policy and key usage
    (certificate_policy). Revocation is municipal.revocation's check."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):  # InvalidVersion: an X.509 v2, say
        raise Refused("certificate_invalid", "the certificate does not parse") from None
    if cert.issuer != ca.subject:
        raise Refused("certificate_untrusted", "the certificate was not issued by the JPKI authentication CA")
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        raise Refused("certificate_untrusted", "the certificate's CA signature does not verify") from None
    if now < cert.not_valid_before_utc:
        raise Refused("certificate_not_yet_valid", "the certificate's validity has not begun")
    if now > cert.not_valid_after_utc:
        raise Refused("certificate_expired", "the certificate has expired")
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise Refused("certificate_policy", "the certificate lacks its policy or key usage") from None
    if JPKI_AUTH_POLICY not in [p.policy_identifier for p in policies]:
        raise Refused("certificate_policy", "the certificate is not under the authentication policy")
    if not usage.digital_signature:
        raise Refused("certificate_policy", "the certificate's key usage excludes digitalSignature")
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise Refused("certificate_invalid", "the certificate's key is not RSA")
    return cert


def verify_challenge_signature(cert: x509.Certificate, challenge: bytes, signature: bytes) -> None:
    try:
        cert.public_key().verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise Refused("signature_invalid", "the card's signature over the challenge does not verify") from None
