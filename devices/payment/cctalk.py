"""The ccTalk wire protocol, pure: frames, checksums, and the data of the headers the
kiosk uses. No I/O; the host (cctalk_link, cctalk_host) and the emulator
(emulated_devices) both build and read their bytes here.

A frame is [destination, data length, source, header, data..., checksum] with the
simple 8-bit checksum: all bytes of the frame sum to 0 mod 256. Replies carry header 0
(ACK) with their data, or header 5 (NAK).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

HOST = 1  # the kiosk's address on the bus
COIN_ACCEPTOR = 2
FIRST_HOPPER = 3  # payout devices take 3, 4, 5, ...
BILL_VALIDATOR = 40

ACK = 0
NAK = 5
ENABLE_HOPPER_CODE = 165  # the one data byte of header 164 that enables; any other disables

MAX_DATA = 255
_FRAME_OVERHEAD = 5  # destination, length, source, header, checksum


class Header(IntEnum):
    SIMPLE_POLL = 254
    REQUEST_STATUS = 248
    REQUEST_EQUIPMENT_CATEGORY_ID = 245
    MODIFY_INHIBIT_STATUS = 231
    READ_BUFFERED_CREDIT_OR_ERROR_CODES = 229
    MODIFY_MASTER_INHIBIT_STATUS = 228
    REQUEST_PAYOUT_HIGH_LOW_STATUS = 217
    REQUEST_PAYOUT_ABSOLUTE_COUNT = 207
    REQUEST_COIN_ID = 184
    REQUEST_HOPPER_COIN = 171
    DISPENSE_HOPPER_COINS = 167
    REQUEST_HOPPER_STATUS = 166
    ENABLE_HOPPER = 164
    TEST_HOPPER = 163
    READ_BUFFERED_BILL_EVENTS = 159
    REQUEST_BILL_ID = 157
    ROUTE_BILL = 154


@dataclass(frozen=True)
class ValidatorKind:
    """What tells a coin acceptor from a bill validator on the wire."""

    name: str  # for messages and events
    category: str  # what header 245 answers
    read_events: Header
    request_id: Header
    value_digits: int  # of the value inside its coin or bill ids


COIN_KIND = ValidatorKind(
    "coin acceptor", "Coin Acceptor", Header.READ_BUFFERED_CREDIT_OR_ERROR_CODES, Header.REQUEST_COIN_ID, 3
)
BILL_KIND = ValidatorKind(
    "note validator", "Bill Validator", Header.READ_BUFFERED_BILL_EVENTS, Header.REQUEST_BILL_ID, 4
)
PAYOUT_CATEGORY = "Payout"


class CcTalkFrameError(ValueError):
    """Bytes that are not a valid frame. `reason` is "truncated", "length", "checksum",
    or "echo" (the bus did not give back the frame the host sent)."""

    def __init__(self, reason: str, message: str, raw: bytes):
        super().__init__(f"{message} (frame {raw.hex(' ') or 'empty'})")
        self.reason = reason
        self.raw = raw


@dataclass(frozen=True)
class Frame:
    destination: int
    source: int
    header: int
    data: bytes = b""


def checksum(body: bytes) -> int:
    """The byte that makes the whole frame sum to 0 mod 256."""
    return -sum(body) & 0xFF


def frame_size(start: bytes) -> int:
    """Total size of the frame whose first two bytes (destination, length) are `start`."""
    return start[1] + _FRAME_OVERHEAD


def encode(frame: Frame) -> bytes:
    if len(frame.data) > MAX_DATA:
        raise ValueError(f"ccTalk carries at most {MAX_DATA} data bytes, not {len(frame.data)}")
    body = bytes([frame.destination, len(frame.data), frame.source, frame.header]) + frame.data
    return body + bytes([checksum(body)])


def decode(raw: bytes) -> Frame:
    raw = bytes(raw)
    if len(raw) < _FRAME_OVERHEAD:
        raise CcTalkFrameError("truncated", f"{len(raw)} bytes, a frame has at least {_FRAME_OVERHEAD}", raw)
    expected = frame_size(raw)
    if len(raw) < expected:
        raise CcTalkFrameError("truncated", f"{len(raw)} of the {expected} bytes its length byte announces", raw)
    if len(raw) > expected:
        raise CcTalkFrameError("length", f"{len(raw)} bytes where its length byte announces {expected}", raw)
    if sum(raw) & 0xFF:
        wanted = checksum(raw[:-1])
        raise CcTalkFrameError("checksum", f"checksum 0x{raw[-1]:02X}, expected 0x{wanted:02X}", raw)
    return Frame(destination=raw[0], source=raw[2], header=raw[3], data=raw[4:-1])


def check_echo(sent: bytes, echoed: bytes) -> None:
    """On a single-wire bus the host reads back its own frame before the reply."""
    if echoed != sent:
        raise CcTalkFrameError("echo", f"the bus echoed {echoed.hex(' ') or 'nothing'} for the frame sent", sent)


# --- Buffered events: header 229 (coins) and 159 (bills) answer the same shape ------
# [event counter] then 5 result pairs (A, B), newest first. The counter is 0 only after
# power-up or reset, counts each event 1..255 and wraps to 1, so the host, which keeps
# the last counter it saw, knows how many events are new and whether some fell off the
# end of the 5-pair buffer between two of its reads.

EVENT_PAIRS = 5


@dataclass(frozen=True)
class EventBuffer:
    counter: int
    results: tuple[tuple[int, int], ...]  # (result A, result B), newest first


def next_counter(counter: int) -> int:
    return counter % 255 + 1


def encode_event_buffer(buffer: EventBuffer) -> bytes:
    pairs = list(buffer.results[:EVENT_PAIRS]) + [(0, 0)] * (EVENT_PAIRS - len(buffer.results))
    return bytes([buffer.counter]) + bytes(b for pair in pairs for b in pair)


def decode_event_buffer(data: bytes) -> EventBuffer:
    if len(data) != 1 + 2 * EVENT_PAIRS:
        raise ValueError(f"a buffered event reply has {1 + 2 * EVENT_PAIRS} data bytes, not {len(data)}")
    pairs = tuple((data[i], data[i + 1]) for i in range(1, len(data), 2))
    return EventBuffer(counter=data[0], results=pairs)


def unread_events(last_counter: int, buffer: EventBuffer) -> tuple[list[tuple[int, int]], int]:
    """The events the host has not seen yet, oldest first, and how many were lost."""
    if buffer.counter in (last_counter, 0):  # nothing new, or the device was reset
        return [], 0
    new = buffer.counter if last_counter == 0 else (buffer.counter - last_counter) % 255
    readable = min(new, EVENT_PAIRS)
    return list(reversed(buffer.results[:readable])), new - readable


# --- Coin acceptor event codes (result A = 0, code in result B) ---------------------
NULL_EVENT = 0
REJECT_COIN = 1
INHIBITED_COIN = 2
CREDIT_SENSOR_BLOCKED = 14
REJECT_SLUG = 25
FIRST_INHIBITED_COIN_TYPE = 128  # 128 + n - 1: the coin of position n was inhibited

COIN_JAM_CODES = {
    CREDIT_SENSOR_BLOCKED: "credit sensor blocked",
    15: "sorter opto blocked",
    26: "reject sensor blocked",
    32: "manifold opto blocked",
}
COIN_FRAUD_CODES = {
    16: "credit sequence error",
    17: "coin going backwards",
    18: "coin too fast over credit sensor",
    19: "coin too slow over credit sensor",
    20: "coin on string mechanism activated",
    REJECT_SLUG: "slug (counterfeit coin) rejected",
    40: "external light attack",
}
COIN_REJECT_CODES = {
    REJECT_COIN: "coin rejected",
    INHIBITED_COIN: "coin inhibited",
    254: "coin return lever pressed",
}

# --- Bill validator events: result A = bill type with B = 0 (stacked) or 1 (held in
# escrow); A = 0 gives a status or error code in B.
BILL_STACKED = 0
BILL_IN_ESCROW = 1
BILL_MASTER_INHIBITED = 0
BILL_RETURNED_FROM_ESCROW = 1
BILL_INHIBITED = 4
ROUTE_RETURN = 0
ROUTE_STACK = 1
ROUTE_ESCROW_EMPTY = 254  # the error byte route bill answers when no bill is held

BILL_JAM_CODES = {
    6: "bill jammed in transport (unsafe mode)",
    7: "bill jammed in stacker",
    16: "bill jammed in transport (safe mode)",
}
BILL_REJECT_CODES = {
    BILL_MASTER_INHIBITED: "note validator inhibited",
    BILL_RETURNED_FROM_ESCROW: "note returned from escrow",
    2: "note not recognised",
    3: "note not recognised (transport problem)",
    BILL_INHIBITED: "note inhibited",
    5: "note inhibited (DIP switches)",
    8: "note pulled backwards",
    9: "note tamper",
    17: "opto fraud detected",
    18: "string fraud detected",
}


# --- Coin and bill ids (headers 184, 157, 171) --------------------------------------
# Six ASCII characters for a coin ("JP100A": country, value, issue), seven for a bill
# ("JP1000A"); an unused position answers dots.

def monetary_id(country: str, value: int, digits: int) -> bytes:
    return f"{country}{value:0{digits}d}A".encode("ascii")


def parse_monetary_id(raw: bytes) -> tuple[str, int] | None:
    text = raw.decode("ascii", errors="replace")
    if text.strip(".") == "":
        return None
    value = text[2:-1]
    if not value.isdigit():
        raise ValueError(f"not a coin or bill id: {raw!r}")
    return text[:2], int(value)


# --- Inhibit masks (header 231): two bytes, LSB first, bit n-1 set = position n enabled.

def inhibit_mask(positions) -> bytes:
    bits = 0
    for position in positions:
        bits |= 1 << (position - 1)
    return bits.to_bytes(2, "little")


def enabled_positions(mask: bytes) -> set[int]:
    if len(mask) != 2:
        raise ValueError(f"an inhibit mask has 2 bytes, not {len(mask)}")
    bits = int.from_bytes(mask, "little")
    return {n + 1 for n in range(16) if bits >> n & 1}


# --- Hoppers ------------------------------------------------------------------------

@dataclass(frozen=True)
class HopperStatus:
    """Header 166: the dispense event counter and the last (or current) payout."""

    event_counter: int
    remaining: int
    paid: int
    unpaid: int

    def encode(self) -> bytes:
        return bytes([self.event_counter, self.remaining, self.paid, self.unpaid])

    @classmethod
    def decode(cls, data: bytes) -> HopperStatus:
        if len(data) != 4:
            raise ValueError(f"hopper status has 4 data bytes, not {len(data)}")
        return cls(*data)


# Header 217, one byte of bits.
LEVEL_LOW = 0x01  # at or below the low level trigger
LEVEL_HIGH = 0x02  # at or above the high level trigger
LOW_SENSOR_FITTED = 0x10
HIGH_SENSOR_FITTED = 0x20

# Header 163: status registers 1 and 2. The faults explain a payout that came up short.
PAYOUT_TIMEOUT = 0x02  # register 1
POWER_UP_DETECTED = 0x40  # register 1
PAYOUT_DISABLED = 0x80  # register 1
_HOPPER_FAULTS = (
    (0, 0x01, "maximum current exceeded"),
    (0, PAYOUT_TIMEOUT, "payout timeout (hopper empty?)"),
    (0, 0x04, "motor reversed to clear a jam"),
    (0, 0x08, "opto path blocked while idle"),
    (0, 0x10, "opto short-circuit while idle"),
    (0, 0x20, "opto blocked during payout"),
    (1, 0x01, "opto short-circuit during payout"),
    (1, 0x08, "finger detected in the exit"),
    (1, 0x10, "motor reverse limit reached"),
    (1, 0x20, "inductive coil fault"),
    (1, 0x40, "NV memory checksum error"),
)


def hopper_faults(registers: bytes) -> list[str]:
    return [name for index, bit, name in _HOPPER_FAULTS if index < len(registers) and registers[index] & bit]
