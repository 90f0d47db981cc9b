"""How APDUs reach a card: straight into a VirtualCard, or through PC/SC (pcscd).

Every transport keeps a short trace of exchanges for diagnostics. VERIFY data is
masked before it is recorded, so a PIN never reaches a trace or a log.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from typing import Callable

from smartcard import scard
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers as pcsc_readers

from devices.card import apdu as A
from devices.card.card_faults import CardPulled
from devices.card.errors import CardError, CardProtocolError, CardRemoved, NoCard, ReaderUnavailable
from devices.card.virtual_card import VirtualCard

TRACE_LENGTH = 200
_MAX_GET_RESPONSES = 64  # a loop guard: a certificate needs a handful
_CARD_GONE_SETTLE_MS = 2000  # pcscd polls vpcd every 0.4 s
TraceHook = Callable[[str, str], None]
PresenceListener = Callable[[bool], None]

# PC/SC results meaning the reader or the daemon is gone, not just the card.
_READER_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_NO_READERS_AVAILABLE,
}


class CardTransport(ABC):
    def __init__(self, on_exchange: TraceHook | None = None):
        self.trace: deque[tuple[str, str]] = deque(maxlen=TRACE_LENGTH)
        self._on_exchange = on_exchange

    @abstractmethod
    def connect(self) -> None:
        """Power the card up; raises NoCard or ReaderUnavailable."""

    @abstractmethod
    def disconnect(self) -> None:
        """Power the card down (it forgets a verified PIN); safe to call twice."""

    @abstractmethod
    def card_present(self) -> bool:
        """A quick look at the reader, without connecting."""

    @abstractmethod
    def _exchange(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the response with its status word."""

    def transmit(self, apdu: bytes) -> bytes:
        """Full response including SW; raises CardRemoved or ReaderUnavailable."""
        try:
            response = self._exchange(apdu)
        except CardError as e:
            self._record(apdu, type(e).__name__)
            raise
        self._record(apdu, response.hex(" ").upper())
        return response

    def _record(self, apdu: bytes, outcome: str) -> None:
        command = A.masked_hex(apdu)
        self.trace.append((command, outcome))
        if self._on_exchange is not None:
            self._on_exchange(command, outcome)


class InProcessTransport(CardTransport):
    """A VirtualCard on an imaginary reader; tests insert and remove it at will."""

    def __init__(self, card: VirtualCard, on_exchange: TraceHook | None = None):
        super().__init__(on_exchange)
        self.card = card
        self._inserted = True
        self._connected = False
        self._presence_listeners: list[PresenceListener] = []

    def add_presence_listener(self, listener: PresenceListener) -> None:
        """listener(present) runs in the caller's thread whenever the card goes in or out."""
        self._presence_listeners.append(listener)

    def remove_presence_listener(self, listener: PresenceListener) -> None:
        self._presence_listeners.remove(listener)

    def insert(self) -> None:
        self._set_inserted(True)

    def remove(self) -> None:
        self._connected = False
        self.card.reset()
        self._set_inserted(False)

    def _set_inserted(self, inserted: bool) -> None:
        changed, self._inserted = self._inserted != inserted, inserted
        if changed:
            for listener in list(self._presence_listeners):
                listener(inserted)

    def card_present(self) -> bool:
        return self._inserted

    def connect(self) -> None:
        if not self._inserted:
            raise NoCard("no card on the in-process reader")
        self.card.reset()
        self._connected = True

    def disconnect(self) -> None:
        if self._connected:
            self.card.reset()
        self._connected = False

    def _exchange(self, apdu: bytes) -> bytes:
        if not self._connected:
            raise CardRemoved("the card is not connected")
        try:
            return self.card.process(apdu)
        except CardPulled as e:  # a FaultyCard leaving the reader mid-exchange
            self.remove()
            raise CardRemoved(str(e)) from e


class PcscTransport(CardTransport):
    """The first PC/SC reader whose name contains reader_match, through pyscard."""

    def __init__(self, reader_match: str = "Virtual PCD", on_exchange: TraceHook | None = None):
        super().__init__(on_exchange)
        self.reader_match = reader_match
        self._connection = None

    def _reader_name(self) -> str:
        try:
            names = sorted(str(r) for r in pcsc_readers())
        except (BaseSCardException, SmartcardException) as e:
            raise ReaderUnavailable(f"PC/SC service unavailable: {e}") from e
        for name in names:
            if self.reader_match in name:
                return name
        raise ReaderUnavailable(f"no reader matching {self.reader_match!r} among {names}")

    def card_present(self) -> bool:
        reader = self._reader_name()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailable(scard.SCardGetErrorMessage(hresult))
        try:
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
            )
        finally:
            scard.SCardReleaseContext(context)
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailable(scard.SCardGetErrorMessage(hresult))
        _, event_state, _ = states[0]
        return bool(event_state & scard.SCARD_STATE_PRESENT)

    def connect(self) -> None:
        self.disconnect()
        reader = self._reader_name()
        try:
            connection = next(r for r in pcsc_readers() if str(r) == reader).createConnection()
            connection.connect()
        except StopIteration as e:
            raise ReaderUnavailable(f"reader {reader!r} went away") from e
        except NoCardException as e:
            raise NoCard(f"no card in {reader!r}") from e
        except (CardConnectionException, BaseSCardException) as e:
            if getattr(e, "hresult", None) in _READER_GONE:
                raise ReaderUnavailable(str(e)) from e
            raise NoCard(f"card in {reader!r} does not answer: {e}") from e
        self._connection = connection

    def disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.disconnect()
            connection.release()
        except (SmartcardException, BaseSCardException):
            pass  # the card or the daemon is already gone: nothing left to close

    def _exchange(self, apdu: bytes) -> bytes:
        response = self._transmit_once(apdu)
        if response.sw1 == A.SW1_WRONG_LE:  # T=0 style "resend with Le = SW2"
            response = self._transmit_once(A.with_le(apdu, response.sw2))
        data = response.data
        for _ in range(_MAX_GET_RESPONSES):
            if response.sw1 != A.SW1_MORE_DATA:
                return A.status(response.sw, data)
            response = self._transmit_once(A.get_response(response.sw2 or A.MAX_SHORT_LE))
            data += response.data
        raise CardProtocolError("the card never stops answering 61 xx", response.sw)

    def _transmit_once(self, apdu: bytes) -> A.Response:
        if self._connection is None:
            raise CardRemoved("the card is not connected")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except (CardConnectionException, BaseSCardException) as e:
            hresult = getattr(e, "hresult", None)
            if hresult in _READER_GONE:
                raise ReaderUnavailable(str(e)) from e
            if hresult == scard.SCARD_S_SUCCESS:  # pyscard's "no valid response": under 2 bytes
                raise self._short_answer_error(e) from e
            raise CardRemoved(str(e)) from e
        return A.Response(bytes(data), (sw1 << 8) | sw2)

    def _short_answer_error(self, error: Exception) -> CardError:
        """vpcd answers nothing at all for a card pulled mid-exchange, and pcscd sees it
        gone one poll later; a card still in the reader just gave a malformed answer."""
        if self._card_leaves_within(_CARD_GONE_SETTLE_MS):
            return CardRemoved(f"the card stopped answering: {error}")
        return CardProtocolError(f"malformed answer: {error}")

    def _card_leaves_within(self, timeout_ms: int) -> bool:
        try:
            reader = self._reader_name()
        except ReaderUnavailable:
            return True
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return True
        try:
            hresult, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
            state = states[0][1] if hresult == scard.SCARD_S_SUCCESS else 0
            if state & scard.SCARD_STATE_PRESENT:
                hresult, states = scard.SCardGetStatusChange(
                    context, timeout_ms, [(reader, state & ~scard.SCARD_STATE_CHANGED)])
                state = states[0][1] if hresult == scard.SCARD_S_SUCCESS else state
        finally:
            scard.SCardReleaseContext(context)
        return not state & scard.SCARD_STATE_PRESENT
