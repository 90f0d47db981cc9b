"""Builds the devices and clients the configuration names. The only place that
chooses between real and simulated drivers."""
from __future__ import annotations

from typing import Callable

from cryptography import x509

from devices.card.card_events import CardEvent, CardInserted, ReaderBack, ReaderLost
from devices.card.card_monitor import CardMonitor, card_monitor_for
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport
from devices.card.virtual_card import VirtualCard
from devices.payment import PaymentDevice, SimulatedPaymentDevice
from devices.printer import DocumentPrinter, ReceiptPrinter, open_printer
from kiosk.clock import WallClock
from kiosk.config import (CardConfig, IssuanceConfig, KioskConfig, PaymentConfig, PrinterConfig,
                          ReceiptPrinterConfig)
from kiosk.events import CardPresence, WorkerReport
from kiosk.issuance_client import IssuanceClient
from kiosk.journal import Journal
from kiosk.paid_issuance import Settings
from kiosk.session_worker import SessionWorker
from contract.issuance import signers_by_municipality


def card_transport(config: CardConfig) -> CardTransport:
    if config.transport == "inprocess":
        return InProcessTransport(VirtualCard(config.card_file))
    return PcscTransport(reader_match=config.reader)


def document_printer(config: PrinterConfig) -> DocumentPrinter:
    if config.kind == "folder":
        return open_printer("folder", directory=config.directory, paper=config.paper_sheets,
                            seconds_per_sheet=config.seconds_per_sheet)
    return open_printer("cups", queue=config.queue)


def payment_device(config: PaymentConfig) -> PaymentDevice:
    """Raises PaymentError if the ccTalk devices do not answer."""
    if config.kind == "simulated":
        return SimulatedPaymentDevice()
    return PaymentDevice.open(config.port, echo=config.echo)


def receipt_printer(config: ReceiptPrinterConfig) -> ReceiptPrinter:
    if config.kind == "folder":
        from devices.printer.receipt_folder import FolderReceiptPrinter

        return FolderReceiptPrinter(config.directory)
    from devices.printer.escpos_receipt import EscposReceiptPrinter

    return EscposReceiptPrinter(config.port, baudrate=config.baudrate)


def card_presence(event: CardEvent) -> CardPresence | None:
    """What the kiosk needs of a monitor event: is a usable card on the reader?"""
    if isinstance(event, CardInserted):
        return CardPresence(True)
    if isinstance(event, ReaderLost):
        return CardPresence(False, reader_lost=True)
    if isinstance(event, ReaderBack):
        return None  # a CardInserted follows if a card is there
    return CardPresence(False)


def devices(config: KioskConfig, report: Callable[[WorkerReport | CardPresence], None],
            clock: WallClock = WallClock.real()) -> tuple[SessionWorker, CardMonitor]:
    """The session worker and the monitor of its card reader, sharing one transport."""
    transport = card_transport(config.card)

    def on_card_event(event: CardEvent) -> None:
        presence = card_presence(event)
        if presence is not None:
            report(presence)

    return session_worker(config, transport, report, clock), card_monitor_for(transport, on_card_event)


def session_worker(config: KioskConfig, transport: CardTransport, report: Callable[[WorkerReport], None],
                   clock: WallClock = WallClock.real()) -> SessionWorker:
    """`clock`: the wall clock of receipts, transaction numbers, the journal and the
    manifest's print-by check; the demo's may be played (kiosk.demo_clock)."""
    iss = config.issuance
    client = issuance_client(iss)
    signers = signers_by_municipality(x509.load_pem_x509_certificates(iss.manifest_signer_cert.read_bytes()))
    receipts = config.receipt_printer
    settings = Settings(terminal_id=config.terminal_id, manifest_signers=signers,
                        print_timeout_s=config.printer.timeout_s, payment_timeout_s=config.payment.timeout_s,
                        reprint_wait_s=config.printer.reprint_wait_s,
                        store_name=receipts.store_name, store_number=receipts.store_number, clock=clock)
    return SessionWorker(transport, client, document_printer(config.printer), payment=payment_device(config.payment),
                         journal=Journal(config.journal, clock), settings=settings, report=report,
                         receipt_printer=receipt_printer(receipts))


def issuance_client(config: IssuanceConfig) -> IssuanceClient:
    return IssuanceClient(config.url, ca_cert=config.ca_cert, client_cert=config.client_cert,
                          client_key=config.client_key, timeout=config.timeout_s)
