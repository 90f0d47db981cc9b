"""What happens to the kiosk: taps from the screen, reports from the device worker.

Worker reports carry the `visit` number they were started for, so a late report
from a session that already ended (timeout, cancel) is recognised and dropped.
Plain data: they reach the frame loop through kiosk.event_queue.
"""
from __future__ import annotations

from dataclasses import dataclass

from contract.issuance import DocumentOffer


@dataclass(frozen=True)
class Tap:
    action: str  # e.g. "start", "digit:7", "doc:residence_record", "lang:en"


@dataclass(frozen=True)
class CardPresence:
    """From the card monitor: a card is on the reader or not. Not tied to a visit."""

    present: bool
    reader_lost: bool = False  # the reader or pcscd is gone, so no card can be read


@dataclass(frozen=True)
class ServiceStatus:
    """From the service watch: whether the issuance center can be reached. Not tied to a visit."""

    reachable: bool


@dataclass(frozen=True)
class WorkerReport:
    visit: int


@dataclass(frozen=True)
class CardReady(WorkerReport):
    tries_left: int


@dataclass(frozen=True)
class CardProblem(WorkerReport):
    code: str  # not_my_number, old_card, card_removed, reader, card_error, pin_blocked


@dataclass(frozen=True)
class PinWrong(WorkerReport):
    tries_left: int


@dataclass(frozen=True)
class Authenticated(WorkerReport):
    documents: tuple[DocumentOffer, ...]


@dataclass(frozen=True)
class ServiceProblem(WorkerReport):
    code: str  # the center's refusal code, or service_unreachable
    hours: str | None = None  # with service_closed: when it opens, e.g. "06:30-23:00", "mon-fri 09:00-17:00"


@dataclass(frozen=True)
class FeeQuoted(WorkerReport):
    """Answer to `quote_fee`: which coins and notes the machine takes for this fee,
    given the change it holds now (so the resident knows before paying)."""

    due: int
    accepted: tuple[int, ...]  # yen values of the coins and notes it takes now
    refused: tuple[int, ...]  # ones it takes on other days but cannot change now


@dataclass(frozen=True)
class PaymentOpened(WorkerReport):
    """The center issued the document, it is bound to this card, and the acceptor is
    open for `due` yen."""

    due: int
    pages: int  # pages of one copy
    accepted: tuple[int, ...]


@dataclass(frozen=True)
class PaymentProgress(WorkerReport):
    credited: int
    due: int


@dataclass(frozen=True)
class PaymentCancelled(WorkerReport):
    """The resident cancelled (or the payment timed out): money back, request voided."""

    refunded: int
    owed: int = 0  # what the hoppers could not give back: staff pay it


@dataclass(frozen=True)
class PaymentProblem(WorkerReport):
    code: str  # payment_unavailable, payment_jammed, payment_lost, change_short
    refunded: int = 0
    owed: int = 0


@dataclass(frozen=True)
class PrintProgress(WorkerReport):
    sheet: int  # sheets out so far, over all copies
    sheets: int


@dataclass(frozen=True)
class PrinterWaiting(WorkerReport):
    """The printer stopped mid-job (paper out): the kiosk waits for staff to fix it, then
    prints the document again, or gives the fee back if that takes too long."""

    code: str  # printer_paper_out


@dataclass(frozen=True)
class Printed(WorkerReport):
    pages: int
    copies: int
    change: int = 0  # yen given back as change
    owed: int = 0  # change the hoppers could not give: staff pay it


@dataclass(frozen=True)
class PrintProblem(WorkerReport):
    code: str  # binding_<check>, printer_<reason>
    refunded: int = 0  # the fee was given back (nothing valid was printed)
    owed: int = 0

