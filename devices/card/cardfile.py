"""A virtual My Number card kept in a file: keys, certificates, PIN and its counter.

The municipal stub's PKI (playing J-LIS) is the only writer of new card files; the
virtual card rewrites its own file when a PIN counter changes, so a blocked card
stays blocked across removal and restart.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

AUTH_PIN_MAX_TRIES = 3
TOKEN_MY_NUMBER_CARD = "JPKIAPICCTOKEN2"


@dataclass
class CardFile:
    card_id: str  # an identifier for logs and tests; never personal data
    auth_certificate_der: bytes
    auth_ca_certificate_der: bytes
    auth_private_key_pem: bytes
    auth_pin: str
    auth_pin_tries_left: int = AUTH_PIN_MAX_TRIES
    token: str = TOKEN_MY_NUMBER_CARD

    _BYTES_FIELDS = ("auth_certificate_der", "auth_ca_certificate_der", "auth_private_key_pem")

    @classmethod
    def load(cls, path: str | Path) -> "CardFile":
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if raw.get("format") != 1:
            raise ValueError(f"{path}: not a card file of format 1")
        del raw["format"]
        for name in cls._BYTES_FIELDS:
            raw[name] = base64.b64decode(raw[name])
        return cls(**raw)

    def save(self, path: str | Path) -> None:
        """Write atomically, so a power cut never leaves half a card."""
        data = asdict(self)
        for name in self._BYTES_FIELDS:
            data[name] = base64.b64encode(data[name]).decode("ascii")
        data = {"format": 1, **data}
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
