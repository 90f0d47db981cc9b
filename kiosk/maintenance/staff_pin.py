"""The staff PIN, kept only as a salted scrypt hash in the configuration.

Format: scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>. `kiosk staff-pin` makes a
new salt every time, so each install's hash is its own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

MIN_DIGITS, MAX_DIGITS = 4, 8
# About 50 ms and 16 MiB per check on a desktop core (a few times that on a Pi): the
# check runs off the frame loop, and the lockout limits tries anyway.
N, R, P = 2**14, 8, 1
_FORMAT = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)")


def valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    if not valid_pin(pin):
        raise ValueError(f"a staff PIN is {MIN_DIGITS} to {MAX_DIGITS} digits")
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_format(stored: str) -> str:
    """The stored hash, or ValueError saying what is wrong with it (for the config)."""
    match = _FORMAT.fullmatch(stored)
    if not match:
        raise ValueError("not a staff PIN hash: make one with `kiosk staff-pin`")
    n = int(match[1])
    if n < 2 or n & (n - 1) or n > 2**20:
        raise ValueError("the scrypt cost n must be a power of two up to 2^20")
    return stored


def verify_pin(pin: bytes | bytearray, stored: str) -> bool:
    n, r, p, salt, expected = _FORMAT.fullmatch(check_format(stored)).groups()
    digest = hashlib.scrypt(pin, salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                            dklen=len(base64.b64decode(expected)), maxmem=256 * 2**20)
    return hmac.compare_digest(digest, base64.b64decode(expected))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
