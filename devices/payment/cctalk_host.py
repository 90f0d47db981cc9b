"""The host's view of each ccTalk device on the bus: the coin acceptor and the bill
validator (both report through a buffered event list) and the payout hoppers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from devices.payment import cctalk
from devices.payment.cctalk import Header
from devices.payment.cctalk_link import CcTalkLink
from devices.payment.events import Credit, FraudCoin, Jammed, PaymentEvent, PaymentProtocolError, Rejected

POSITIONS = range(1, 17)  # coin and bill types a device can hold


class _Peripheral:
    category = ""  # what header 245 answers

    def __init__(self, link: CcTalkLink, address: int, device: str):
        self._link = link
        self.address = address
        self.device = device

    def _ask(self, header: int, data: bytes = b"") -> bytes:
        return self._link.request(self.address, header, data, device=self.device)

    def _parsed(self, parse, header: int, data: bytes = b""):
        reply = self._ask(header, data)
        try:
            return parse(reply)
        except ValueError as exc:
            raise PaymentProtocolError(
                f"the {self.device} (address {self.address}) answered header {header} "
                f"with {reply.hex(' ') or 'no data'}: {exc}"
            ) from exc

    def _check_category(self) -> None:
        found = self._ask(Header.REQUEST_EQUIPMENT_CATEGORY_ID).decode("ascii", errors="replace")
        if found != self.category:
            raise PaymentProtocolError(f"address {self.address} is a {found!r}, not the {self.device} expected")


class EventSource(_Peripheral):
    """A coin acceptor or bill validator: its ids, inhibits and buffered events."""

    def __init__(self, link: CcTalkLink, address: int, kind: cctalk.ValidatorKind):
        super().__init__(link, address, kind.name)
        self.kind = kind
        self.category = kind.category
        self.values: dict[int, int] = {}  # position -> yen, for the Japanese coins or bills it knows
        self._last_counter = 0

    def identify(self) -> None:
        self._check_category()
        for position in POSITIONS:
            known = self._parsed(cctalk.parse_monetary_id, self.kind.request_id, bytes([position]))
            if known and known[0] == "JP":
                self.values[position] = known[1]

    def accept_only(self, values) -> None:
        mask = cctalk.inhibit_mask(p for p, v in self.values.items() if v in values)
        self._ask(Header.MODIFY_INHIBIT_STATUS, mask)

    def set_accepting(self, accepting: bool) -> None:
        """Master inhibit: off, the device returns everything whatever the mask says."""
        self._ask(Header.MODIFY_MASTER_INHIBIT_STATUS, bytes([int(accepting)]))

    def sync(self) -> None:
        """Forget the events so far: they happened outside this payment."""
        self._last_counter = self._buffer().counter

    def read(self) -> tuple[list[tuple[int, int]], int]:
        """New (result A, result B) pairs oldest first, and how many were lost."""
        buffer = self._buffer()
        pairs, lost = cctalk.unread_events(self._last_counter, buffer)
        self._last_counter = buffer.counter
        return pairs, lost

    def route_bill(self, route: int) -> None:
        self._ask(Header.ROUTE_BILL, bytes([route]))

    def _buffer(self) -> cctalk.EventBuffer:
        return self._parsed(cctalk.decode_event_buffer, self.kind.read_events)


def coin_event(a: int, b: int, values: dict[int, int]) -> PaymentEvent | None:
    if a:  # a credit: A is the coin's position, B the sorter path
        if a not in values:
            raise PaymentProtocolError(f"the coin acceptor credited position {a}, which holds no yen coin")
        return Credit(values[a], "coin")
    if b == cctalk.NULL_EVENT:
        return None
    if b in cctalk.COIN_JAM_CODES:
        return Jammed(cctalk.COIN_KIND.name, cctalk.COIN_JAM_CODES[b])
    if b in cctalk.COIN_FRAUD_CODES:
        return FraudCoin(b, cctalk.COIN_FRAUD_CODES[b])
    if cctalk.FIRST_INHIBITED_COIN_TYPE <= b < cctalk.FIRST_INHIBITED_COIN_TYPE + 32:
        return Rejected(values.get(b - cctalk.FIRST_INHIBITED_COIN_TYPE + 1), "coin not accepted")
    return Rejected(None, cctalk.COIN_REJECT_CODES.get(b, f"coin acceptor error code {b}"))


def bill_event(a: int, b: int, values: dict[int, int]) -> PaymentEvent:
    """Every pair but a bill held in escrow, which the payment routes."""
    if a:
        if a not in values:
            raise PaymentProtocolError(f"the note validator stacked bill type {a}, which is no yen note")
        return Credit(values[a], "note")
    if b in cctalk.BILL_JAM_CODES:
        return Jammed(cctalk.BILL_KIND.name, cctalk.BILL_JAM_CODES[b])
    return Rejected(None, cctalk.BILL_REJECT_CODES.get(b, f"note validator code {b}"))


@dataclass(frozen=True)
class HopperLevel:
    denomination: int
    coins: int
    low: bool  # the low level sensor is uncovered: refill soon


class Hopper(_Peripheral):
    """A single-coin payout hopper."""

    category = cctalk.PAYOUT_CATEGORY
    _POLL_S = 0.02

    def __init__(self, link: CcTalkLink, address: int):
        super().__init__(link, address, "hopper")
        self.denomination = 0

    def identify(self) -> None:
        self._check_category()
        coin = self._parsed(cctalk.parse_monetary_id, Header.REQUEST_HOPPER_COIN)
        if not coin or coin[0] != "JP":
            raise PaymentProtocolError(f"the hopper at address {self.address} holds {coin}, not yen coins")
        self.denomination = coin[1]
        self.device = f"{self.denomination}-yen hopper"

    def level(self) -> HopperLevel:
        coins = self._parsed(_count, Header.REQUEST_PAYOUT_ABSOLUTE_COUNT)
        sensors = self._parsed(_one_byte, Header.REQUEST_PAYOUT_HIGH_LOW_STATUS)
        return HopperLevel(self.denomination, coins, low=bool(sensors & cctalk.LEVEL_LOW))

    def dispense(self, count: int, timeout: float) -> tuple[int, str | None]:
        """Pay `count` coins (the unencrypted form of header 167); the coins that came out,
        and why not all of them did."""
        before = self._status()
        self._ask(Header.ENABLE_HOPPER, bytes([cctalk.ENABLE_HOPPER_CODE]))
        try:
            self._ask(Header.DISPENSE_HOPPER_COINS, bytes([count]))
            status = self._status()
            if status.event_counter == before.event_counter:
                return 0, "the hopper did not start the payout"
            deadline = time.monotonic() + timeout
            while status.remaining and time.monotonic() < deadline:
                time.sleep(self._POLL_S)
                status = self._status()
        finally:
            self._ask(Header.ENABLE_HOPPER, b"\x00")
        if status.remaining:
            return status.paid, f"still paying after {timeout} s"
        if status.unpaid:
            faults = self._parsed(cctalk.hopper_faults, Header.TEST_HOPPER)
            return status.paid, f"{status.unpaid} coins unpaid ({', '.join(faults) or 'no fault reported'})"
        return status.paid, None

    def _status(self) -> cctalk.HopperStatus:
        return self._parsed(cctalk.HopperStatus.decode, Header.REQUEST_HOPPER_STATUS)


def _count(data: bytes) -> int:
    if len(data) != 2:
        raise ValueError(f"a coin count has 2 data bytes, not {len(data)}")
    return int.from_bytes(data, "little")


def _one_byte(data: bytes) -> int:
    if len(data) != 1:
        raise ValueError(f"expected 1 data byte, not {len(data)}")
    return data[0]
