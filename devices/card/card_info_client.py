"""The card-info input support AP (券面事項入力補助AP): behind its 4-digit PIN, the
holder's My Number and the four basic facts, as typed into forms."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from devices.card import apdu as A
from devices.card import card_info_files as F
from devices.card import my_number
from devices.card.card_commands import CardCommands, is_four_digits
from devices.card.errors import CardProtocolError, NotMyNumberCard
from devices.card.transports import CardTransport


@dataclass(frozen=True)
class BasicFacts:
    name: str
    address: str
    birth_date: datetime.date
    sex: str  # ISO 5218: "1", "2" or "9"


class CardInfoClient:
    def __init__(self, transport: CardTransport):
        self.transport = transport
        self._card = CardCommands(transport)

    def open(self) -> None:
        """Connect and select the card-info input support AP."""
        self.transport.connect()
        if not self._card.select_aid(A.CARD_INFO_AID):
            raise NotMyNumberCard("the card has no card-info input support application")

    def close(self) -> None:
        self.transport.disconnect()

    def __enter__(self) -> "CardInfoClient":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def pin_tries_left(self) -> int:
        """What the card reports, read without spending a try."""
        return self._card.tries_left(A.FID_CARD_INFO_PIN)

    def verify_pin(self, pin: bytearray) -> None:
        """Verify the 4-digit card-info PIN. The bytearray is zeroed, whatever happens."""
        self._card.verify(A.FID_CARD_INFO_PIN, pin, "card-info PIN", "4 digits", is_four_digits)

    def read_my_number(self) -> str:
        """The 12 digits, after checking the check digit; needs a verified PIN."""
        tag, value, _ = F.parse_tlv(self._read_object(A.FID_CARD_INFO_MY_NUMBER))
        if tag != F.TAG_MY_NUMBER:
            raise CardProtocolError(f"the My Number file starts with tag {tag:04X}")
        number = value.decode("ascii", errors="replace")
        if not my_number.is_valid(number):
            raise CardProtocolError("the card holds a My Number with a bad check digit or format")
        return number

    def read_basic_facts(self) -> BasicFacts:
        """Name, address, birth date and sex; needs a verified PIN."""
        tag, body, _ = F.parse_tlv(self._read_object(A.FID_CARD_INFO_BASIC_FACTS))
        if tag != F.TAG_BASIC_FACTS:
            raise CardProtocolError(f"the basic facts file starts with tag {tag:04X}")
        values: dict[int, bytes] = {}
        offset = 0
        while offset < len(body):
            tag, value, offset = F.parse_tlv(body, offset)
            values[tag] = value
        try:
            facts = BasicFacts(
                name=values[F.TAG_NAME].decode("utf-8"),
                address=values[F.TAG_ADDRESS].decode("utf-8"),
                birth_date=_parse_birth_date(values[F.TAG_BIRTH_DATE]),
                sex=values[F.TAG_SEX].decode("ascii"),
            )
        except KeyError as e:
            raise CardProtocolError(f"the basic facts lack tag {e.args[0]:04X}") from e
        except ValueError as e:  # UnicodeDecodeError included
            raise CardProtocolError(f"unreadable basic facts: {e}") from e
        if facts.sex not in F.SEXES:
            raise CardProtocolError(f"sex code {facts.sex!r} is not ISO 5218")
        return facts

    def _read_object(self, fid: int) -> bytes:
        self._card.select_ef(fid)
        return self._card.read_whole(F.TLV_HEADER_MAX, F.tlv_total_length)


def _parse_birth_date(value: bytes) -> datetime.date:
    text = value.decode("ascii")
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"birth date {text!r} is not YYYYMMDD")
    return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
