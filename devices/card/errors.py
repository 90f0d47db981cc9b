"""Typed card errors: the kiosk screens map each one to a message for the resident."""
from __future__ import annotations


class CardError(Exception):
    """Base of every error the card layer raises."""


class NoCard(CardError):
    """The reader is there but holds no card."""


class CardRemoved(CardError):
    """The card left the reader during an exchange."""


class ReaderUnavailable(CardError):
    """No matching reader, or the PC/SC service is gone."""


class NotMyNumberCard(CardError):
    """The card has no JPKI application."""


class OldJukiCard(CardError):
    """A Basic Resident Register (Juki) card: JPKI token without the trailing 2."""


class WrongPin(CardError):
    def __init__(self, tries_left: int):
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left


class PinBlocked(CardError):
    """Only the municipal office can unblock it."""


class InvalidPinFormat(CardError):
    """Rejected locally, so a typo never costs the resident a try."""


class CardProtocolError(CardError):
    """A malformed answer or an unexpected status word."""

    def __init__(self, message: str, sw: int | None = None):
        if sw is not None:
            message = f"{message} (SW {sw:04X})"
        super().__init__(message)
        self.sw = sw
