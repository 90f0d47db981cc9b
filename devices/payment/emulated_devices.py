"""Emulated ccTalk devices on one bus, with the controls a test or a person uses.

`CcTalkBus.answer(frame)` takes one complete frame from the host and returns the bytes
that go back on the wire: a reply, a NAK, or nothing (not addressed to a device here, a
corrupted frame, or the bus has "disappeared"). The pty emulator and the simulated
driver both carry frames to it; neither knows what the devices do.

On the bus: a coin acceptor (address 2) that knows 1, 5, 10, 50, 100 and 500 yen
coins, a bill validator (address 40) that knows 1000 and 5000 yen notes and holds each
in escrow until the host routes it, and one single-coin hopper per coin for change
(addresses 3-6: 10, 50, 100, 500 yen) that counts the coins it holds.
"""
from __future__ import annotations

import threading
from collections import deque

from devices.payment import cctalk
from devices.payment.cash import COINS
from devices.payment.cctalk import Header

KNOWN_COINS = (1, 5, 10, 50, 100, 500)
KNOWN_NOTES = (1000, 5000)
DEFAULT_LEVELS = {10: 100, 50: 50, 100: 100, 500: 40}
LOW_LEVEL_TRIGGER = 20  # coins left when the low level sensor uncovers
HIGH_LEVEL_TRIGGER = 1000
SORTER_PATH = 1  # where an accepted coin goes: the cashbox (change comes from the hoppers' own float)


class _Nak(Exception):
    """The device answers NAK: a header it does not know, or data of the wrong length."""


def _arg(data: bytes, size: int) -> bytes:
    if len(data) != size:
        raise _Nak
    return data


class _Device:
    category = ""

    def __init__(self, address: int):
        self.address = address

    def answer(self, header: int, data: bytes) -> bytes:
        if header == Header.SIMPLE_POLL:
            return b""
        if header == Header.REQUEST_EQUIPMENT_CATEGORY_ID:
            return self.category.encode("ascii")
        raise _Nak


class _EventDevice(_Device):
    """What the coin acceptor and bill validator share: an id per position, inhibits,
    and the numbered buffer of the last five events."""

    kind: cctalk.ValidatorKind

    def __init__(self, address: int, values):
        super().__init__(address)
        self.category = self.kind.category
        self._ids = {p: cctalk.monetary_id("JP", v, self.kind.value_digits) for p, v in enumerate(values, 1)}
        self._enabled: set[int] = set()  # power-up: every position inhibited...
        self._accepting = False  # ...and the master inhibit on
        self._counter = 0
        self._events: deque[tuple[int, int]] = deque(maxlen=cctalk.EVENT_PAIRS)

    def answer(self, header: int, data: bytes) -> bytes:
        if header == self.kind.read_events:
            return cctalk.encode_event_buffer(cctalk.EventBuffer(self._counter, tuple(self._events)))
        if header == self.kind.request_id:
            return self._ids.get(_arg(data, 1)[0], b"." * (self.kind.value_digits + 3))
        if header == Header.MODIFY_INHIBIT_STATUS:
            self._enabled = cctalk.enabled_positions(_arg(data, 2))
            return b""
        if header == Header.MODIFY_MASTER_INHIBIT_STATUS:
            self._accepting = bool(_arg(data, 1)[0] & 1)
            return b""
        return super().answer(header, data)

    def post(self, a: int, b: int) -> None:
        self._counter = cctalk.next_counter(self._counter)
        self._events.appendleft((a, b))

    def _position(self, value: int) -> int | None:
        return next((p for p, raw in self._ids.items() if cctalk.parse_monetary_id(raw)[1] == value), None)

    def _takes(self, position: int) -> bool:
        return self._accepting and position in self._enabled


class CoinAcceptor(_EventDevice):
    kind = cctalk.COIN_KIND

    def __init__(self, address: int = cctalk.COIN_ACCEPTOR):
        super().__init__(address, KNOWN_COINS)
        self.jammed = False

    def answer(self, header: int, data: bytes) -> bytes:
        if header == Header.REQUEST_STATUS:
            return b"\x00"  # OK: no coin return lever or anti-string alarm
        return super().answer(header, data)

    def insert(self, value: int) -> bool:
        """True if the coin was credited; otherwise the mechanism gave it back."""
        if self.jammed:
            return False  # the coin cannot get past the jam
        position = self._position(value)
        if position is None:
            self.post(0, cctalk.REJECT_COIN)
            return False
        if not self._takes(position):
            self.post(0, cctalk.FIRST_INHIBITED_COIN_TYPE + position - 1)
            return False
        self.post(position, SORTER_PATH)
        return True


class NoteValidator(_EventDevice):
    kind = cctalk.BILL_KIND

    def __init__(self, address: int = cctalk.BILL_VALIDATOR):
        super().__init__(address, KNOWN_NOTES)
        self._escrow: int | None = None

    def answer(self, header: int, data: bytes) -> bytes:
        if header == Header.ROUTE_BILL:
            return self._route(_arg(data, 1)[0])
        return super().answer(header, data)

    def insert(self, value: int) -> bool:
        """True if the note was drawn into escrow, where it waits for the host."""
        position = self._position(value)
        if position is None:
            self.post(0, 2)  # not recognised
        elif not self._accepting:
            self.post(0, cctalk.BILL_MASTER_INHIBITED)
        elif position not in self._enabled:
            self.post(0, cctalk.BILL_INHIBITED)
        elif self._escrow is None:
            self._escrow = position
            self.post(position, cctalk.BILL_IN_ESCROW)
            return True
        return False

    def _route(self, route: int) -> bytes:
        if self._escrow is None:
            return bytes([cctalk.ROUTE_ESCROW_EMPTY])
        if route == cctalk.ROUTE_STACK:
            self.post(self._escrow, cctalk.BILL_STACKED)
        elif route == cctalk.ROUTE_RETURN:
            self.post(0, cctalk.BILL_RETURNED_FROM_ESCROW)
        else:
            raise _Nak  # 255, hold longer in escrow, is not emulated
        self._escrow = None
        return b""


class Hopper(_Device):
    """A single-coin hopper that counts its coins. Pays at once: the host still polls
    header 166 until nothing remains, as it must with a real one."""

    category = cctalk.PAYOUT_CATEGORY

    def __init__(self, address: int, denomination: int, coins: int):
        super().__init__(address)
        self.denomination = denomination
        self.coins = coins
        self._enabled = False
        self._status = cctalk.HopperStatus(event_counter=0, remaining=0, paid=0, unpaid=0)

    def answer(self, header: int, data: bytes) -> bytes:
        if header == Header.REQUEST_HOPPER_COIN:
            return cctalk.monetary_id("JP", self.denomination, cctalk.COIN_KIND.value_digits)
        if header == Header.REQUEST_PAYOUT_ABSOLUTE_COUNT:
            return self.coins.to_bytes(2, "little")
        if header == Header.REQUEST_PAYOUT_HIGH_LOW_STATUS:
            low = cctalk.LEVEL_LOW if self.coins <= LOW_LEVEL_TRIGGER else 0
            high = cctalk.LEVEL_HIGH if self.coins >= HIGH_LEVEL_TRIGGER else 0
            return bytes([low | high | cctalk.LOW_SENSOR_FITTED | cctalk.HIGH_SENSOR_FITTED])
        if header == Header.REQUEST_HOPPER_STATUS:
            return self._status.encode()
        if header == Header.ENABLE_HOPPER:
            self._enabled = _arg(data, 1)[0] == cctalk.ENABLE_HOPPER_CODE
            return b""
        if header == Header.TEST_HOPPER:
            register1 = (cctalk.PAYOUT_TIMEOUT if self._status.unpaid else 0) | (
                0 if self._enabled else cctalk.PAYOUT_DISABLED
            )
            return bytes([register1, 0])
        if header == Header.DISPENSE_HOPPER_COINS:
            self._dispense(_arg(data, 1)[0])  # the unencrypted form: [N coins]
            return b""
        return super().answer(header, data)

    def _dispense(self, count: int) -> None:
        if not self._enabled:
            return  # ignored, and the event counter says so
        paid = min(count, self.coins)
        self.coins -= paid
        counter = cctalk.next_counter(self._status.event_counter)
        self._status = cctalk.HopperStatus(counter, remaining=0, paid=paid, unpaid=count - paid)


class CcTalkBus:
    """The devices and their controls. Thread-safe: the wire and the controls may be
    driven from different threads."""

    def __init__(self, levels=DEFAULT_LEVELS, *, notes: bool = True):
        self._lock = threading.Lock()
        self._coins = CoinAcceptor()
        self._notes = NoteValidator() if notes else None
        self._hoppers = {d: Hopper(cctalk.FIRST_HOPPER + i, d, levels.get(d, 0)) for i, d in enumerate(COINS)}
        devices = [self._coins, self._notes, *self._hoppers.values()]
        self._devices = {device.address: device for device in devices if device}
        self._present = True
        self._garbage = b""

    def answer(self, raw: bytes) -> bytes:
        with self._lock:
            if not self._present:
                return b""
            try:
                frame = cctalk.decode(raw)
            except cctalk.CcTalkFrameError:
                return b""  # a device ignores a frame that fails its checksum
            device = self._devices.get(frame.destination)
            if device is None:
                return b""
            try:
                header, data = cctalk.ACK, device.answer(frame.header, frame.data)
            except _Nak:
                header, data = cctalk.NAK, b""
            reply = cctalk.encode(cctalk.Frame(frame.source, device.address, header, data))
            garbage, self._garbage = self._garbage, b""
            return garbage + reply

    # --- controls ------------------------------------------------------------------

    def insert_coin(self, value: int) -> bool:
        with self._lock:
            return self._coins.insert(value)

    def insert_fraud_coin(self, code: int = cctalk.REJECT_SLUG) -> None:
        """The acceptor caught a fake: an error code in its buffer, no credit."""
        with self._lock:
            self._coins.post(0, code)

    def jam(self, code: int = cctalk.CREDIT_SENSOR_BLOCKED) -> None:
        """A coin stuck in the acceptor: reported once, and no coin gets through after it."""
        with self._lock:
            self._coins.jammed = True
            self._coins.post(0, code)

    def clear_jam(self) -> None:
        with self._lock:
            self._coins.jammed = False

    def insert_note(self, value: int = 1000) -> bool:
        if self._notes is None:
            raise RuntimeError("this bus has no bill validator")
        with self._lock:
            return self._notes.insert(value)

    def set_hopper_level(self, denomination: int, coins: int) -> None:
        """0 empties the hopper; LOW_LEVEL_TRIGGER or fewer uncovers its low level sensor."""
        with self._lock:
            self._hoppers[denomination].coins = coins

    def hopper_levels(self) -> dict[int, int]:
        with self._lock:
            return {d: hopper.coins for d, hopper in self._hoppers.items()}

    def disappear(self) -> None:
        """Every device stops answering, as if the cable were pulled."""
        with self._lock:
            self._present = False

    def reappear(self) -> None:
        with self._lock:
            self._present = True

    def send_garbage(self, data: bytes = b"\xa5") -> None:
        """Line noise: `data` goes out just before the next reply."""
        with self._lock:
            self._garbage += data
