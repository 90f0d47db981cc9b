"""The card layer: clients of the JPKI and card-info input support APs over PC/SC or
in-process transports, and a virtual card."""
from devices.card.errors import (
    CardError,
    CardProtocolError,
    CardRemoved,
    InvalidPinFormat,
    NoCard,
    NotMyNumberCard,
    OldJukiCard,
    PinBlocked,
    ReaderUnavailable,
    WrongPin,
)
from devices.card.card_info_client import BasicFacts, CardInfoClient
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport
from devices.card.virtual_card import VirtualCard

__all__ = [
    "CardError", "CardProtocolError", "CardRemoved", "InvalidPinFormat", "NoCard",
    "NotMyNumberCard", "OldJukiCard", "PinBlocked", "ReaderUnavailable", "WrongPin",
    "BasicFacts", "CardInfoClient", "JpkiClient",
    "CardTransport", "InProcessTransport", "PcscTransport", "VirtualCard",
]
