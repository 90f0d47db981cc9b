"""A software My Number card: answers APDUs the way the JPKI application does.

It backs both the in-process transport and the vpcd virtual card, so the kiosk
meets the same card behaviour with or without pcscd in between.
"""
from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from devices.card import apdu as A
from devices.card.cardfile import AUTH_PIN_MAX_TRIES, CardFile

ATR = bytes.fromhex("3BE000FF8131FE4514")

SW_NO_CURRENT_EF = 0x6986
SW_INCORRECT_P1P2 = 0x6A86

_READABLE_FIDS = (A.FID_TOKEN, A.FID_AUTH_CERT, A.FID_AUTH_CA_CERT)
_SELECTABLE_FIDS = _READABLE_FIDS + (A.FID_AUTH_KEY, A.FID_AUTH_PIN)
_PKCS1_TYPE1_OVERHEAD = 11  # 00 01, at least 8 FF, 00


@dataclass(frozen=True)
class _Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None when the command carries no Le; 256 for an Le byte of 00

    @classmethod
    def parse(cls, raw: bytes) -> "_Command | None":
        """Short APDU cases 1-4; None when the length bytes do not add up."""
        if len(raw) < 4:
            return None
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0:
            return None
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, body[1:], None)
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, body[1:-1], body[-1] or 256)
        return None


class VirtualCard:
    def __init__(self, card_path: str | Path):
        self._path = Path(card_path)
        self._file = CardFile.load(self._path)
        key = load_pem_private_key(self._file.auth_private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{card_path}: the authentication key is not RSA")
        self._key = key
        self._lock = threading.Lock()  # the vpcd thread and tests may both touch it
        self._reset_state()

    @property
    def atr(self) -> bytes:
        return ATR

    def reset(self) -> None:
        """Power off, power on or warm reset: the card forgets selections and the PIN."""
        with self._lock:
            self._reset_state()

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            return self._dispatch(apdu)

    def _reset_state(self) -> None:
        self._jpki_selected = False
        self._current_fid: int | None = None
        self._pin_verified = False

    def _dispatch(self, raw: bytes) -> bytes:
        cmd = _Command.parse(bytes(raw))
        if cmd is None:
            return A.status(A.SW_WRONG_LENGTH)
        handlers = {
            A.INS_SELECT: (A.CLA_ISO, self._select),
            A.INS_READ_BINARY: (A.CLA_ISO, self._read_binary),
            A.INS_VERIFY: (A.CLA_ISO, self._verify),
            A.INS_COMPUTE_SIGNATURE: (A.CLA_PROPRIETARY, self._compute_signature),
        }
        if cmd.cla not in (A.CLA_ISO, A.CLA_PROPRIETARY):
            return A.status(A.SW_CLA_NOT_SUPPORTED)
        if cmd.ins not in handlers:
            return A.status(A.SW_INS_NOT_SUPPORTED)
        expected_cla, handler = handlers[cmd.ins]
        if cmd.cla != expected_cla:
            return A.status(A.SW_CLA_NOT_SUPPORTED)
        return handler(cmd)

    def _select(self, cmd: _Command) -> bytes:
        if cmd.p2 != A.P2_NO_FCI or cmd.p1 not in (A.P1_SELECT_BY_AID, A.P1_SELECT_BY_FID):
            return A.status(SW_INCORRECT_P1P2)
        if not cmd.data or cmd.le is not None:
            return A.status(A.SW_WRONG_LENGTH)
        if cmd.p1 == A.P1_SELECT_BY_AID:
            if cmd.data != A.JPKI_AID:
                return A.status(A.SW_NOT_FOUND)
            self._reset_state()  # re-selecting the AP is how clients log out
            self._jpki_selected = True
            return A.status(A.SW_OK)
        if len(cmd.data) != 2:
            return A.status(A.SW_WRONG_LENGTH)
        fid = int.from_bytes(cmd.data, "big")
        if not self._jpki_selected or fid not in _SELECTABLE_FIDS:
            return A.status(A.SW_NOT_FOUND)
        self._current_fid = fid
        return A.status(A.SW_OK)

    def _read_binary(self, cmd: _Command) -> bytes:
        if cmd.data or cmd.le is None:
            return A.status(A.SW_WRONG_LENGTH)
        if cmd.p1 & 0x80:  # short EF identifier addressing: not offered by this AP
            return A.status(SW_INCORRECT_P1P2)
        if self._current_fid == A.FID_AUTH_KEY:
            return A.status(A.SW_SECURITY_NOT_SATISFIED)
        if self._current_fid not in _READABLE_FIDS:
            return A.status(SW_NO_CURRENT_EF)
        content = self._file_content(self._current_fid)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(content):
            return A.status(A.SW_WRONG_P1P2)
        return A.status(A.SW_OK, content[offset:offset + cmd.le])

    def _file_content(self, fid: int) -> bytes:
        if fid == A.FID_TOKEN:
            return self._file.token.encode("ascii").ljust(A.TOKEN_LENGTH, b" ")
        if fid == A.FID_AUTH_CERT:
            return self._file.auth_certificate_der
        return self._file.auth_ca_certificate_der

    def _verify(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 != A.P2_VERIFY_SPECIFIC_PIN:
            return A.status(SW_INCORRECT_P1P2)
        if cmd.le is not None:
            return A.status(A.SW_WRONG_LENGTH)
        if self._current_fid != A.FID_AUTH_PIN:
            return A.status(SW_NO_CURRENT_EF)
        tries = self._file.auth_pin_tries_left
        if tries == 0:
            return A.status(A.SW_PIN_BLOCKED)
        if not cmd.data:
            return A.status(A.verify_failed_sw(tries))
        if hmac.compare_digest(cmd.data, self._file.auth_pin.encode("ascii")):
            self._pin_verified = True
            self._set_tries(AUTH_PIN_MAX_TRIES)
            return A.status(A.SW_OK)
        self._pin_verified = False
        self._set_tries(tries - 1)
        return A.status(A.verify_failed_sw(tries - 1))

    def _set_tries(self, tries: int) -> None:
        if self._file.auth_pin_tries_left != tries:
            self._file.auth_pin_tries_left = tries
            self._file.save(self._path)

    def _compute_signature(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return A.status(SW_INCORRECT_P1P2)
        modulus_len = (self._key.key_size + 7) // 8
        if not cmd.data or len(cmd.data) > modulus_len - _PKCS1_TYPE1_OVERHEAD:
            return A.status(A.SW_WRONG_LENGTH)
        if self._current_fid != A.FID_AUTH_KEY:
            return A.status(SW_NO_CURRENT_EF)
        if not self._pin_verified:
            return A.status(A.SW_SECURITY_NOT_SATISFIED)
        return A.status(A.SW_OK, self._pkcs1_type1_sign(cmd.data, modulus_len))

    def _pkcs1_type1_sign(self, digest_info: bytes, modulus_len: int) -> bytes:
        """Raw RSA over the padded DigestInfo, as the chip does (no hashing of its own)."""
        padding_len = modulus_len - 3 - len(digest_info)
        block = b"\x00\x01" + b"\xff" * padding_len + b"\x00" + digest_info
        numbers = self._key.private_numbers()
        signature = pow(int.from_bytes(block, "big"), numbers.d, numbers.public_numbers.n)
        return signature.to_bytes(modulus_len, "big")
