"""`kiosk-card`: what a technician runs at the kiosk to look at the reader and the card.

It never asks for a PIN and never sends one: the tries left come from the empty
VERIFY, which spends none. Every failure is one line on stderr and its own exit code.
"""
from __future__ import annotations

import argparse
import datetime
import sys
from enum import IntEnum
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from smartcard import scard

from devices.card.errors import (
    CardError,
    CardRemoved,
    NoCard,
    NotMyNumberCard,
    OldJukiCard,
    ReaderUnavailable,
)
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport
from devices.card.virtual_card import VirtualCard


class Exit(IntEnum):
    OK = 0
    USAGE = 2  # argparse's own code for a bad command line
    NO_READER = 3  # no reader, or pcscd not running
    NO_CARD = 4
    NOT_JPKI_CARD = 5
    OLD_JUKI_CARD = 6
    CARD_REMOVED = 7
    CARD_ERROR = 8  # the card answered something unexpected
    BAD_CARD_FILE = 9


# Most specific first: the first isinstance match wins.
_FAILURES: list[tuple[type[CardError], Exit, str]] = [
    (ReaderUnavailable, Exit.NO_READER, "no reader ({}); is pcscd running? scripts/start-pcscd.sh starts it"),
    (NoCard, Exit.NO_CARD, "no card ({}); place the card on the reader"),
    (OldJukiCard, Exit.OLD_JUKI_CARD, "old Juki card (Basic Resident Register card), not a My Number card"),
    (NotMyNumberCard, Exit.NOT_JPKI_CARD, "not a JPKI card ({})"),
    (CardRemoved, Exit.CARD_REMOVED, "card removed during the read ({}); place it again and rerun"),
    (CardError, Exit.CARD_ERROR, "unexpected answer from the card ({})"),
]


def failure(error: CardError) -> tuple[Exit, str]:
    code, message = next((code, message) for kind, code, message in _FAILURES if isinstance(error, kind))
    return code, message.format(error)


def list_readers() -> list[tuple[str, bytes | None]]:
    """(reader name, ATR or None when empty) for every PC/SC reader, without connecting."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise ReaderUnavailable(f"PC/SC: {scard.SCardGetErrorMessage(hresult).strip()}")
    try:
        hresult, names = scard.SCardListReaders(context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult == scard.SCARD_S_SUCCESS:
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names])
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailable(f"PC/SC: {scard.SCardGetErrorMessage(hresult).strip()}")
    finally:
        scard.SCardReleaseContext(context)
    return [(name, bytes(atr) if state & scard.SCARD_STATE_PRESENT else None)
            for name, state, atr in states]


def show_readers(out: TextIO) -> None:
    readers = list_readers()
    if not readers:
        raise ReaderUnavailable("pcscd runs but lists no reader; plug the reader in")
    width = max(len(name) for name, _ in readers)
    for name, atr in readers:
        status = f"card present  ATR {atr.hex(' ').upper()}" if atr is not None else "no card"
        print(f"{name:<{width}}  {status}", file=out)


def show_card(client: JpkiClient, out: TextIO) -> None:
    """Print what the card tells without a PIN, line by line as it is read."""
    try:
        client.open()
    except OldJukiCard:
        print(f"token: {client.token.decode('ascii', 'replace')}", file=out)
        raise
    print("card type: My Number card", file=out)
    print(f"token: {client.token.decode('ascii')}", file=out)
    print(f"auth PIN tries left: {client.auth_pin_tries_left()}", file=out)
    certificate = _load(client.read_auth_certificate())
    print(f"auth certificate subject: {certificate.subject.rfc4514_string()}", file=out)
    print(f"auth certificate issuer: {certificate.issuer.rfc4514_string()}", file=out)
    print(f"auth certificate serial: {certificate.serial_number:X}", file=out)
    print(f"auth certificate valid from: {certificate.not_valid_before_utc.isoformat()}", file=out)
    expired = certificate.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc)
    print(f"auth certificate valid until: {certificate.not_valid_after_utc.isoformat()}"
          f"{'  EXPIRED' if expired else ''}", file=out)
    print(f"auth certificate SHA-256: {certificate.fingerprint(hashes.SHA256()).hex()}", file=out)
    ca_certificate = _load(client.read_auth_ca_certificate())
    print(f"auth CA certificate subject: {ca_certificate.subject.rfc4514_string()}", file=out)


def _load(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)  # the client already checked it parses


def show_trace(transport: CardTransport, out: TextIO) -> None:
    print("APDU trace (PIN masked):", file=out)
    for command, response in transport.trace:
        print(f"  > {command}\n  < {response}", file=out)


def info(transport: CardTransport, trace: bool, out: TextIO, err: TextIO) -> Exit:
    client = JpkiClient(transport)
    try:
        show_card(client, out)
        return Exit.OK
    except CardError as e:
        code, message = failure(e)
        print(f"kiosk-card: {message}", file=err)
        return code
    finally:
        client.close()
        if trace:
            show_trace(transport, out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-card", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("readers", help="list PC/SC readers, whether a card is present, and its ATR")
    p_info = sub.add_parser("info", help="card type, token, PIN tries left, certificates (no PIN asked)")
    source = p_info.add_mutually_exclusive_group()
    source.add_argument("--reader", default="", metavar="SUBSTR",
                        help="first PC/SC reader whose name contains SUBSTR (default: the first reader)")
    source.add_argument("--card-file", metavar="FILE",
                        help="a virtual card file, read in-process (no pcscd needed)")
    p_info.add_argument("--trace", action="store_true", help="print the APDU trace (PIN masked)")
    return parser


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = _parser().parse_args(argv)
    if args.command == "readers":
        try:
            show_readers(out)
        except ReaderUnavailable as e:
            print(f"kiosk-card: {failure(e)[1]}", file=err)
            return Exit.NO_READER
        return Exit.OK
    if args.card_file is None:
        return info(PcscTransport(args.reader), args.trace, out, err)
    try:
        card = VirtualCard(args.card_file)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"kiosk-card: cannot load card file {args.card_file}: {e}", file=err)
        return Exit.BAD_CARD_FILE
    return info(InProcessTransport(card), args.trace, out, err)


if __name__ == "__main__":
    sys.exit(main())
