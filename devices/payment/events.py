"""What the payment device tells the kiosk: the events of poll() and the typed errors."""
from __future__ import annotations

from dataclasses import dataclass


class PaymentError(Exception):
    """Base of every error the payment layer raises."""


class PaymentDeviceLost(PaymentError):
    """A device on the bus gave no answer within the timeout."""


class PaymentProtocolError(PaymentError):
    """A device answered with bytes that are not the reply asked for; the message names them."""


@dataclass(frozen=True)
class Credit:
    value: int
    medium: str  # "coin" or "note"


@dataclass(frozen=True)
class Rejected:
    """The mechanism gave the coin or note back. `value` when the device said which."""

    value: int | None
    reason: str


@dataclass(frozen=True)
class FraudCoin:
    code: int
    reason: str


@dataclass(frozen=True)
class Jammed:
    device: str
    reason: str


@dataclass(frozen=True)
class EventsLost:
    """More events happened between two reads than the device buffers: credits may be missing."""

    device: str
    count: int


@dataclass(frozen=True)
class DeviceLost:
    reason: str


PaymentEvent = Credit | Rejected | FraudCoin | Jammed | EventsLost | DeviceLost
