"""A virtual My Number card kept in a file: keys, certificates, PINs and their
counters, and what the card-info input support AP holds.

The municipal stub's PKI (playing J-LIS) is the only writer of new card files; the
virtual card rewrites its own file when a PIN counter changes, so a blocked card
stays blocked across removal and restart. Card files are never migrated:
`kiosk-municipal init` regenerates them, so load() accepts only the current format.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from devices.card import my_number
from devices.card.card_info_files import SEXES

FORMAT = 2
AUTH_PIN_MAX_TRIES = 3
SIGNATURE_PASSWORD_MAX_TRIES = 5
CARD_INFO_PIN_MAX_TRIES = 3
TOKEN_MY_NUMBER_CARD = "JPKIAPICCTOKEN2"

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIGNATURE_PASSWORD = re.compile(r"[A-Z0-9]{6,16}")


@dataclass(kw_only=True)
class CardFile:
    card_id: str  # an identifier for logs and tests; never personal data
    token: str = TOKEN_MY_NUMBER_CARD
    # JPKI AP, user authentication
    auth_certificate_der: bytes
    auth_ca_certificate_der: bytes
    auth_private_key_pem: bytes
    auth_pin: str
    auth_pin_tries_left: int = AUTH_PIN_MAX_TRIES
    # JPKI AP, digital signature
    signature_certificate_der: bytes
    signature_ca_certificate_der: bytes
    signature_private_key_pem: bytes
    signature_password: str
    signature_password_tries_left: int = SIGNATURE_PASSWORD_MAX_TRIES
    # card-info input support AP
    card_info_pin: str
    card_info_pin_tries_left: int = CARD_INFO_PIN_MAX_TRIES
    my_number: str
    name: str
    address: str
    birth_date: str  # YYYYMMDD, ASCII, as the card-info AP stores it
    sex: str  # ISO 5218

    _BYTES_FIELDS = ("auth_certificate_der", "auth_ca_certificate_der", "auth_private_key_pem",
                     "signature_certificate_der", "signature_ca_certificate_der",
                     "signature_private_key_pem")

    def __post_init__(self) -> None:
        problems = []
        if not _FOUR_DIGITS.fullmatch(self.auth_pin):
            problems.append("the authentication PIN is not 4 digits")
        if not _FOUR_DIGITS.fullmatch(self.card_info_pin):
            problems.append("the card-info PIN is not 4 digits")
        if not _SIGNATURE_PASSWORD.fullmatch(self.signature_password):
            problems.append("the signature password is not 6-16 of A-Z 0-9")
        for field, most in (("auth_pin_tries_left", AUTH_PIN_MAX_TRIES),
                            ("signature_password_tries_left", SIGNATURE_PASSWORD_MAX_TRIES),
                            ("card_info_pin_tries_left", CARD_INFO_PIN_MAX_TRIES)):
            if not 0 <= getattr(self, field) <= most:
                problems.append(f"{field} is not between 0 and {most}")
        if not my_number.is_valid(self.my_number):
            problems.append("the My Number is not 12 digits with a valid check digit")
        if not _is_yyyymmdd(self.birth_date):
            problems.append("the birth date is not YYYYMMDD")
        if self.sex not in SEXES:
            problems.append(f"the sex code is not one of {SEXES} (ISO 5218)")
        if problems:
            raise ValueError(f"card file {self.card_id}: " + "; ".join(problems))

    @classmethod
    def load(cls, path: str | Path) -> "CardFile":
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"{path}: card file format {raw.get('format')!r}, this kiosk reads "
                             f"format {FORMAT}; recreate the cards with `kiosk-municipal init --force`")
        del raw["format"]
        for name in cls._BYTES_FIELDS:
            raw[name] = base64.b64decode(raw[name])
        return cls(**raw)

    def save(self, path: str | Path) -> None:
        """Write atomically, so a power cut never leaves half a card."""
        data = asdict(self)
        for name in self._BYTES_FIELDS:
            data[name] = base64.b64encode(data[name]).decode("ascii")
        data = {"format": FORMAT, **data}
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def _is_yyyymmdd(text: str) -> bool:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return False
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True
