"""What a card monitor reports about its reader; the kiosk turns these into state-machine events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class CardInserted:
    reader: str
    atr: bytes


@dataclass(frozen=True)
class CardRemovedEvent:
    reader: str


@dataclass(frozen=True)
class ReaderLost:
    """The reader was unplugged, is unknown, or pcscd is gone. Any card in it counts as removed."""

    reader: str
    reason: str
    service_gone: bool  # pcscd itself is unreachable, not just this reader


@dataclass(frozen=True)
class ReaderBack:
    """The reader answers again; a CardInserted follows if a card sits in it."""

    reader: str


CardEvent = Union[CardInserted, CardRemovedEvent, ReaderLost, ReaderBack]
CardEventCallback = Callable[[CardEvent], None]
