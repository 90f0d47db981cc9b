"""Client-side commands both card applications share: SELECT of an EF, READ BINARY,
the tries left on a PIN, and VERIFY that wipes its secret."""
from __future__ import annotations

from typing import Callable

from devices.card import apdu as A
from devices.card.errors import CardProtocolError, InvalidPinFormat, PinBlocked, WrongPin
from devices.card.transports import CardTransport


class CardCommands:
    def __init__(self, transport: CardTransport):
        self.transport = transport

    def send(self, command: bytes | bytearray) -> A.Response:
        return A.Response.parse(self.transport.transmit(command))

    def select_aid(self, aid: bytes) -> bool:
        return self.send(A.select_aid(aid)).sw == A.SW_OK

    def select_ef(self, fid: int) -> None:
        response = self.send(A.select_fid(fid))
        if response.sw != A.SW_OK:
            raise CardProtocolError(f"cannot select EF {fid:04X}", response.sw)

    def read_binary(self, offset: int, length: int) -> bytes:
        response = self.send(A.read_binary(offset, length))
        # 62 82: the file ended before Le bytes; some cards say so for a short last read.
        if response.sw not in (A.SW_OK, A.SW_END_OF_FILE):
            raise CardProtocolError(f"cannot read {length} bytes at {offset}", response.sw)
        if not response.data or len(response.data) > length:
            raise CardProtocolError(f"asked {length} bytes at {offset}, got {len(response.data)}")
        return response.data

    def read_whole(self, header_length: int, total_length: Callable[[bytes], int]) -> bytes:
        """The selected EF's first object: its header tells total_length how long it is."""
        data = self.read_binary(0, header_length)
        total = total_length(data)
        while len(data) < total:
            data += self.read_binary(len(data), min(A.MAX_SHORT_LE, total - len(data)))
        return data[:total]

    def tries_left(self, pin_fid: int) -> int:
        """What the card reports, read without spending a try."""
        self.select_ef(pin_fid)
        response = self.send(A.empty_verify())
        if response.sw == A.SW_PIN_BLOCKED:
            return 0
        if response.sw1 == A.SW1_VERIFY_FAILED and response.sw2 & 0xF0 == 0xC0:
            return response.sw2 & 0x0F
        raise CardProtocolError("unexpected answer to an empty VERIFY", response.sw)

    def verify(self, pin_fid: int, secret: bytearray, what: str, rule: str,
               is_well_formed: Callable[[bytearray], bool]) -> None:
        """VERIFY `secret` against the PIN EF. The format is checked first, so a typo never
        costs a try; the bytearray is zeroed before this returns, whatever happens."""
        if not isinstance(secret, bytearray):
            raise TypeError(f"pass the {what} as a bytearray, so it can be wiped")
        command = bytearray()
        try:
            if not is_well_formed(secret):
                raise InvalidPinFormat(f"the {what} is {rule}")
            self.select_ef(pin_fid)
            command = A.verify(secret)
            response = self.send(command)
        finally:
            wipe(secret)
            wipe(command)
        if response.sw == A.SW_OK:
            return
        if response.sw == A.SW_PIN_BLOCKED or response.sw == A.verify_failed_sw(0):
            raise PinBlocked(f"the {what} is blocked; only the municipal office can unblock it")
        if response.sw1 == A.SW1_VERIFY_FAILED and response.sw2 & 0xF0 == 0xC0:
            raise WrongPin(response.sw2 & 0x0F)
        raise CardProtocolError("unexpected answer to VERIFY", response.sw)


def is_four_digits(pin: bytearray) -> bool:
    return len(pin) == 4 and all(0x30 <= b <= 0x39 for b in pin)


def is_signature_password(password: bytearray) -> bool:
    """6 to 16 characters, A-Z and 0-9 only."""
    return 6 <= len(password) <= 16 and all(0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A for b in password)


def wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
