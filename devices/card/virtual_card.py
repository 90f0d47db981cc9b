"""A software My Number card: answers APDUs the way its JPKI AP and card-info input
support AP do. The card-face AP is not emulated: selecting it answers 6A 82, as a
card without it would, so no client comes to rely on contents we do not model.

It backs both the in-process transport and the vpcd virtual card, so the kiosk
meets the same card behaviour with or without pcscd in between.
"""
from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from devices.card import apdu as A
from devices.card import card_info_files
from devices.card.cardfile import (
    AUTH_PIN_MAX_TRIES,
    CARD_INFO_PIN_MAX_TRIES,
    SIGNATURE_PASSWORD_MAX_TRIES,
    CardFile,
)

ATR = bytes.fromhex("3BE000FF8131FE4514")

SW_NO_CURRENT_EF = 0x6986
SW_INCORRECT_P1P2 = 0x6A86

_PKCS1_TYPE1_OVERHEAD = 11  # 00 01, at least 8 FF, 00


@dataclass(frozen=True)
class _Pin:
    """Names of the card-file fields holding a PIN and its counter."""
    secret: str
    tries_left: str
    max_tries: int


@dataclass(frozen=True)
class _Application:
    aid: bytes
    data_files: dict[int, Callable[[CardFile], bytes]]  # EF -> its content
    read_needs: dict[int, int]  # data EF -> the PIN EF verified before reading it
    pins: dict[int, _Pin]  # PIN EF -> where it lives in the card file
    keys: dict[int, int]  # key EF -> the PIN EF verified before signing with it

    @property
    def fids(self) -> set[int]:
        return {*self.data_files, *self.pins, *self.keys}


_JPKI = _Application(
    aid=A.JPKI_AID,
    data_files={
        A.FID_TOKEN: lambda card: card.token.encode("ascii").ljust(A.TOKEN_LENGTH, b" "),
        A.FID_AUTH_CERT: lambda card: card.auth_certificate_der,
        A.FID_AUTH_CA_CERT: lambda card: card.auth_ca_certificate_der,
        A.FID_SIGNATURE_CERT: lambda card: card.signature_certificate_der,
        A.FID_SIGNATURE_CA_CERT: lambda card: card.signature_ca_certificate_der,
    },
    read_needs={A.FID_SIGNATURE_CERT: A.FID_SIGNATURE_PASSWORD},
    pins={
        A.FID_AUTH_PIN: _Pin("auth_pin", "auth_pin_tries_left", AUTH_PIN_MAX_TRIES),
        A.FID_SIGNATURE_PASSWORD: _Pin("signature_password", "signature_password_tries_left",
                                       SIGNATURE_PASSWORD_MAX_TRIES),
    },
    keys={A.FID_AUTH_KEY: A.FID_AUTH_PIN, A.FID_SIGNATURE_KEY: A.FID_SIGNATURE_PASSWORD},
)
_CARD_INFO = _Application(
    aid=A.CARD_INFO_AID,
    data_files={
        A.FID_CARD_INFO_MY_NUMBER: lambda card: card_info_files.encode_my_number(card.my_number),
        A.FID_CARD_INFO_BASIC_FACTS: lambda card: card_info_files.encode_basic_facts(
            card.name, card.address, card.birth_date, card.sex),
    },
    read_needs={A.FID_CARD_INFO_MY_NUMBER: A.FID_CARD_INFO_PIN,
                A.FID_CARD_INFO_BASIC_FACTS: A.FID_CARD_INFO_PIN},
    pins={A.FID_CARD_INFO_PIN: _Pin("card_info_pin", "card_info_pin_tries_left", CARD_INFO_PIN_MAX_TRIES)},
    keys={},
)
_APPLICATIONS = {app.aid: app for app in (_JPKI, _CARD_INFO)}


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
        self._keys = {
            A.FID_AUTH_KEY: _rsa_key(self._file.auth_private_key_pem, card_path, "authentication"),
            A.FID_SIGNATURE_KEY: _rsa_key(self._file.signature_private_key_pem, card_path, "signature"),
        }
        self._lock = threading.Lock()  # the vpcd thread and tests may both touch it
        self._reset_state()

    @property
    def atr(self) -> bytes:
        return ATR

    def reset(self) -> None:
        """Power off, power on or warm reset: the card forgets selections and PINs."""
        with self._lock:
            self._reset_state()

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            return self._dispatch(apdu)

    def _reset_state(self) -> None:
        self._application: _Application | None = None
        self._current_fid: int | None = None
        self._verified: set[int] = set()  # PIN EFs verified since the AP was selected

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
            application = _APPLICATIONS.get(cmd.data)
            if application is None:
                return A.status(A.SW_NOT_FOUND)  # a failed SELECT keeps the current state
            self._reset_state()  # selecting an AP is how clients log out of every PIN
            self._application = application
            return A.status(A.SW_OK)
        if len(cmd.data) != 2:
            return A.status(A.SW_WRONG_LENGTH)
        fid = int.from_bytes(cmd.data, "big")
        if self._application is None or fid not in self._application.fids:
            return A.status(A.SW_NOT_FOUND)
        self._current_fid = fid
        return A.status(A.SW_OK)

    def _read_binary(self, cmd: _Command) -> bytes:
        if cmd.data or cmd.le is None:
            return A.status(A.SW_WRONG_LENGTH)
        if cmd.p1 & 0x80:  # short EF identifier addressing: not offered by these APs
            return A.status(SW_INCORRECT_P1P2)
        app, fid = self._application, self._current_fid
        if app is None or fid is None:
            return A.status(SW_NO_CURRENT_EF)
        if fid in app.keys:
            return A.status(A.SW_SECURITY_NOT_SATISFIED)
        if fid not in app.data_files:
            return A.status(SW_NO_CURRENT_EF)
        needed_pin = app.read_needs.get(fid)
        if needed_pin is not None and needed_pin not in self._verified:
            return A.status(A.SW_SECURITY_NOT_SATISFIED)
        content = app.data_files[fid](self._file)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(content):
            return A.status(A.SW_WRONG_P1P2)
        return A.status(A.SW_OK, content[offset:offset + cmd.le])

    def _verify(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 != A.P2_VERIFY_SPECIFIC_PIN:
            return A.status(SW_INCORRECT_P1P2)
        if cmd.le is not None:
            return A.status(A.SW_WRONG_LENGTH)
        fid = self._current_fid
        if self._application is None or fid not in self._application.pins:
            return A.status(SW_NO_CURRENT_EF)
        pin = self._application.pins[fid]
        tries = getattr(self._file, pin.tries_left)
        if tries == 0:
            return A.status(A.SW_PIN_BLOCKED)
        if not cmd.data:
            return A.status(A.verify_failed_sw(tries))
        if hmac.compare_digest(cmd.data, getattr(self._file, pin.secret).encode("ascii")):
            self._verified.add(fid)
            self._set_tries(pin, pin.max_tries)
            return A.status(A.SW_OK)
        self._verified.discard(fid)
        self._set_tries(pin, tries - 1)
        return A.status(A.verify_failed_sw(tries - 1))

    def _set_tries(self, pin: _Pin, tries: int) -> None:
        if getattr(self._file, pin.tries_left) != tries:
            setattr(self._file, pin.tries_left, tries)
            self._file.save(self._path)

    def _compute_signature(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return A.status(SW_INCORRECT_P1P2)
        fid = self._current_fid
        if self._application is not _JPKI or fid not in _JPKI.keys:
            return A.status(SW_NO_CURRENT_EF)
        key = self._keys[fid]
        modulus_len = (key.key_size + 7) // 8
        if not cmd.data or len(cmd.data) > modulus_len - _PKCS1_TYPE1_OVERHEAD:
            return A.status(A.SW_WRONG_LENGTH)
        if _JPKI.keys[fid] not in self._verified:
            return A.status(A.SW_SECURITY_NOT_SATISFIED)
        return A.status(A.SW_OK, _pkcs1_type1_sign(key, cmd.data, modulus_len))


def _rsa_key(pem: bytes, card_path, role: str) -> rsa.RSAPrivateKey:
    # The card file is the stub's own test card. Its key's consistency checks cost ~40 ms
    # a key at every kiosk start; a broken key only makes signatures the center refuses.
    key = load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{card_path}: the {role} key is not RSA")
    return key


def _pkcs1_type1_sign(key: rsa.RSAPrivateKey, digest_info: bytes, modulus_len: int) -> bytes:
    """Raw RSA over the padded DigestInfo, as the chip does (no hashing of its own)."""
    padding_len = modulus_len - 3 - len(digest_info)
    block = b"\x00\x01" + b"\xff" * padding_len + b"\x00" + digest_info
    numbers = key.private_numbers()
    signature = pow(int.from_bytes(block, "big"), numbers.d, numbers.public_numbers.n)
    return signature.to_bytes(modulus_len, "big")
