"""The code printed on every page of a certificate: the serial and the municipality's
signature over the serial and the digest of the certified content.

Whoever holds the paper can have it checked (`/v1/verifications` on the public
site): the signature proves the municipality issued that serial with that content,
and the site shows the content to compare with the paper. Uppercase base32, '.' and
'-' only, so it fits a QR code's alphanumeric mode.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

PREFIX = "KV1"
_SERIAL = re.compile(r"[0-9A-Z]{1,16}(-[0-9A-Z]{1,16}){0,3}", re.ASCII)  # <municipality>-<yyyymmdd>-<hex>
_P256_HALF = 32


def certified_content(record) -> dict:
    """The record as plain JSON values (dates as ISO strings), the issuance's identity
    (serial, date) included: what the code's digest covers."""
    def plain(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return {"type": type(record).__name__, **plain(dataclasses.asdict(record))}


def content_sha256(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_lines(content: dict, prefix: str = "") -> list[str]:
    """The content flattened to "path: value" lines, for a person comparing it with paper."""
    lines = []
    items = content.items() if isinstance(content, dict) else enumerate(content)
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, (dict, list)):
            lines += content_lines(value, path)
        elif value is not None:
            lines.append(f"{path}: {value}")
    return lines


def _message(serial: str, digest: str) -> bytes:
    return f"{PREFIX}|{serial}|{digest}".encode("ascii")


def make_code(serial: str, digest: str, key: ec.EllipticCurvePrivateKey) -> str:
    r, s = decode_dss_signature(key.sign(_message(serial, digest), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(_P256_HALF, "big") + s.to_bytes(_P256_HALF, "big")
    return f"{PREFIX}.{serial}.{base64.b32encode(raw).decode('ascii').rstrip('=')}"


def serial_of(code: str) -> str:
    """The serial a code names, or ValueError if it is not shaped like a code."""
    parts = code.strip().upper().split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not _SERIAL.fullmatch(parts[1]):
        raise ValueError("not a certificate verification code")
    return parts[1]


def code_valid(code: str, digest: str, public_key: ec.EllipticCurvePublicKey) -> bool:
    try:
        serial = serial_of(code)
        encoded = code.strip().upper().split(".")[2]
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (ValueError, binascii.Error):
        return False
    if len(raw) != 2 * _P256_HALF:
        return False
    signature = encode_dss_signature(int.from_bytes(raw[:_P256_HALF], "big"), int.from_bytes(raw[_P256_HALF:], "big"))
    try:
        public_key.verify(signature, _message(serial, digest), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
