"""Watches a reader and reports card insertion, removal and reader loss as events.

The PC/SC monitor waits in SCardGetStatusChange in a worker thread (never polling
the card itself); the in-process one listens to InProcessTransport. Both call
on_event from their own thread with the dataclasses of card_events, so the kiosk
does not care which it has.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from smartcard import scard

from devices.card.card_events import (
    CardEvent,
    CardEventCallback,
    CardInserted,
    CardRemovedEvent,
    ReaderBack,
    ReaderLost,
)
from devices.card.transports import CardTransport, InProcessTransport, PcscTransport

WAIT_MS = 500  # how long one status wait may block: bounds how long stop() takes
RETRY_S = 1.0  # pause before re-establishing a lost PC/SC context
IN_PROCESS_READER = "in-process"

_SERVICE_GONE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}

log = logging.getLogger(__name__)


class CardMonitor(ABC):
    def __init__(self, on_event: CardEventCallback):
        self._on_event = on_event

    @abstractmethod
    def start(self) -> None:
        """Begin reporting; the current state comes first (CardInserted if a card is in)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop reporting; returns within about WAIT_MS."""

    def _emit(self, event: CardEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # the receiver's bug must not stop the monitor
            log.exception("card event handler failed on %s", type(event).__name__)


class _ReaderGone(Exception):
    def __init__(self, reason: str, service_gone: bool = False):
        super().__init__(reason)
        self.service_gone = service_gone


def _check(hresult: int, doing: str) -> None:
    if hresult != scard.SCARD_S_SUCCESS:
        raise _ReaderGone(f"{doing}: {scard.SCardGetErrorMessage(hresult)}", hresult in _SERVICE_GONE)


class PcscCardMonitor(CardMonitor):
    """The first PC/SC reader whose name contains reader_match, as PcscTransport picks it."""

    def __init__(self, reader_match: str, on_event: CardEventCallback, retry_s: float = RETRY_S):
        super().__init__(on_event)
        self.reader_match = reader_match
        self.retry_s = retry_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader = reader_match  # the full name once found
        self._present = False
        self._lost = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._present = self._lost = False
        self._thread = threading.Thread(target=self._run, name=f"card-monitor-{self.reader_match}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout=WAIT_MS / 1000 * 10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._watch()
            except _ReaderGone as e:
                self._report_lost(str(e), e.service_gone)
            except Exception as e:  # never let the thread die: report and retry
                log.exception("card monitor failed")
                self._report_lost(f"monitor error: {e}", False)
            self._stopping.wait(self.retry_s)

    def _watch(self) -> None:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "establishing a PC/SC context")
        try:
            reader = self._find_reader(context)
            known_state = scard.SCARD_STATE_UNAWARE
            while not self._stopping.is_set():
                hresult, states = scard.SCardGetStatusChange(context, WAIT_MS, [(reader, known_state)])
                if hresult == scard.SCARD_E_TIMEOUT:
                    continue
                _check(hresult, f"waiting for {reader!r}")
                _, state, atr = states[0]
                if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                    raise _ReaderGone(f"reader {reader!r} went away")
                self._report_back()
                self._report_card(bool(state & scard.SCARD_STATE_PRESENT), bytes(atr))
                known_state = state & ~scard.SCARD_STATE_CHANGED
        finally:
            scard.SCardReleaseContext(context)

    def _find_reader(self, context) -> str:
        hresult, names = scard.SCardListReaders(context, [])
        _check(hresult, "listing readers")
        for name in sorted(names):
            if self.reader_match in name:
                self._reader = name
                return name
        raise _ReaderGone(f"no reader matching {self.reader_match!r}")

    def _report_card(self, present: bool, atr: bytes) -> None:
        if present == self._present:
            return
        self._present = present
        self._emit(CardInserted(self._reader, atr) if present else CardRemovedEvent(self._reader))

    def _report_back(self) -> None:
        if self._lost:
            self._lost = False
            self._emit(ReaderBack(self._reader))

    def _report_lost(self, reason: str, service_gone: bool) -> None:
        self._present = False  # after ReaderBack, a card still in the reader is reported again
        if not self._lost:
            self._lost = True
            self._emit(ReaderLost(self._reader, reason, service_gone))


class InProcessCardMonitor(CardMonitor):
    """Reports InProcessTransport.insert()/remove(), in the thread that calls them."""

    def __init__(self, transport: InProcessTransport, on_event: CardEventCallback):
        super().__init__(on_event)
        self.transport = transport
        self._listening = False

    def start(self) -> None:
        if self._listening:
            return
        self._listening = True
        self.transport.add_presence_listener(self._on_presence)
        if self.transport.card_present():
            self._on_presence(True)

    def stop(self) -> None:
        if self._listening:
            self._listening = False
            self.transport.remove_presence_listener(self._on_presence)

    def _on_presence(self, present: bool) -> None:
        if present:
            self._emit(CardInserted(IN_PROCESS_READER, self.transport.card.atr))
        else:
            self._emit(CardRemovedEvent(IN_PROCESS_READER))


def card_monitor_for(transport: CardTransport, on_event: CardEventCallback) -> CardMonitor:
    """The monitor that watches the reader behind transport."""
    if isinstance(transport, InProcessTransport):
        return InProcessCardMonitor(transport, on_event)
    if isinstance(transport, PcscTransport):
        return PcscCardMonitor(transport.reader_match, on_event)
    raise TypeError(f"no card monitor for {type(transport).__name__}")
