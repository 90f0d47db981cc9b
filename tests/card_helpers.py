"""Small pieces the card tests share: raw APDU sending, and a transport that is
always "present" for scripted answers."""
from __future__ import annotations

from devices.card.transports import CardTransport


def send(slot, *commands: bytes) -> str:
    """Send commands in turn; the last one's response as upper-case hex."""
    for command in commands:
        response = slot.transport.transmit(command)
    return response.hex().upper()


class ScriptedTransport(CardTransport):
    """A card that is always there; subclasses script its answers in _exchange."""

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def card_present(self) -> bool:
        return True
