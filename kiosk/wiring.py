"""Builds the devices and clients the configuration names. The only place that
chooses between real and simulated drivers."""
from __future__ import annotations

from typing import Callable

from cryptography import x509

from devices.card.card_events import CardEvent, CardInserted, ReaderBack, ReaderLost
from devices.card.card_monitor import CardMonitor, card_monitor_for
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport
from devices.card.virtual_card import VirtualCard
from devices.printer import DocumentPrinter, open_printer
from kiosk.config import CardConfig, IssuanceConfig, KioskConfig, PrinterConfig
from kiosk.events import CardPresence, WorkerReport
from kiosk.issuance_client import IssuanceClient
from kiosk.session_worker import SessionWorker


def card_transport(config: CardConfig) -> CardTransport:
    if config.transport == "inprocess":
        return InProcessTransport(VirtualCard(config.card_file))
    return PcscTransport(reader_match=config.reader)


def document_printer(config: PrinterConfig) -> DocumentPrinter:
    if config.kind == "folder":
        return open_printer("folder", directory=config.directory)
    return open_printer("cups", queue=config.queue)


def card_presence(event: CardEvent) -> CardPresence | None:
    """What the kiosk needs of a monitor event: is a usable card on the reader?"""
    if isinstance(event, CardInserted):
        return CardPresence(True)
    if isinstance(event, ReaderLost):
        return CardPresence(False, reader_lost=True)
    if isinstance(event, ReaderBack):
        return None  # a CardInserted follows if a card is there
    return CardPresence(False)


def devices(config: KioskConfig, report: Callable[[WorkerReport | CardPresence], None]
            ) -> tuple[SessionWorker, CardMonitor]:
    """The session worker and the monitor of its card reader, sharing one transport."""
    transport = card_transport(config.card)

    def on_card_event(event: CardEvent) -> None:
        presence = card_presence(event)
        if presence is not None:
            report(presence)

    return session_worker(config, transport, report), card_monitor_for(transport, on_card_event)


def session_worker(config: KioskConfig, transport: CardTransport,
                   report: Callable[[WorkerReport], None]) -> SessionWorker:
    iss = config.issuance
    client = IssuanceClient(iss.url, ca_cert=iss.ca_cert, client_cert=iss.client_cert,
                            client_key=iss.client_key, timeout=iss.timeout_s)
    signer = x509.load_pem_x509_certificate(iss.manifest_signer_cert.read_bytes())
    return SessionWorker(transport, client, document_printer(config.printer),
                         terminal_id=config.terminal_id, manifest_signer=signer,
                         print_timeout_s=config.printer.timeout_s, report=report)


def issuance_client(config: IssuanceConfig) -> IssuanceClient:
    return IssuanceClient(config.url, ca_cert=config.ca_cert, client_cert=config.client_cert,
                          client_key=config.client_key, timeout=config.timeout_s)
