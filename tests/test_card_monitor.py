"""Card monitors report insertion, removal and reader loss as typed events, in order.

Covered for ReaderLost: a reader that does not exist, and a pcscd that cannot be
reached (a monitor in a child process pointed at a socket nobody listens on), so the
shared pcscd is never stopped under teammates' test runs.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.card.card_events import CardInserted, CardRemovedEvent, ReaderLost
from devices.card.card_faults import CardFaults, FaultyCard
from devices.card.card_monitor import (
    IN_PROCESS_READER,
    InProcessCardMonitor,
    PcscCardMonitor,
    card_monitor_for,
)
from devices.card.errors import CardRemoved
from devices.card.jpki_client import JpkiClient
from devices.card.transports import InProcessTransport, PcscTransport
from devices.card.virtual_card import ATR, VirtualCard
from tests.fixtures.pcsc import VPCD_READER

REPO = Path(__file__).resolve().parents[1]
EVENT_WAIT_S = 20.0


class Events:
    """Collects events from the monitor's thread; next() waits for one."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()

    def __call__(self, event) -> None:
        self._queue.put(event)

    def next(self, timeout: float = EVENT_WAIT_S):
        return self._queue.get(timeout=timeout)

    def pending(self) -> list:
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events


def test_in_process_monitor_reports_insert_remove_insert(card_file):
    transport = InProcessTransport(VirtualCard(card_file))
    events = Events()
    monitor = card_monitor_for(transport, events)
    assert isinstance(monitor, InProcessCardMonitor)
    monitor.start()
    transport.remove()
    transport.remove()  # no change, no event
    transport.insert()
    monitor.stop()
    transport.remove()  # after stop(): not reported
    assert events.pending() == [
        CardInserted(IN_PROCESS_READER, ATR),
        CardRemovedEvent(IN_PROCESS_READER),
        CardInserted(IN_PROCESS_READER, ATR),
    ]


def test_in_process_monitor_sees_a_card_pulled_mid_exchange(card_file):
    faults = CardFaults()
    transport = InProcessTransport(FaultyCard(VirtualCard(card_file), faults))
    client = JpkiClient(transport)
    client.open()
    events = Events()
    InProcessCardMonitor(transport, events).start()
    faults.set(drop_after_apdus=1)
    with pytest.raises(CardRemoved):
        client.read_auth_certificate()
    assert events.pending() == [CardInserted(IN_PROCESS_READER, ATR), CardRemovedEvent(IN_PROCESS_READER)]


@pytest.mark.pcsc
def test_pcsc_monitor_reports_insert_remove_insert(pcscd, insert_vpcd_card, card_file):
    vpcd = insert_vpcd_card(VirtualCard(card_file))
    events = Events()
    monitor = card_monitor_for(PcscTransport(VPCD_READER), events)
    assert isinstance(monitor, PcscCardMonitor)
    monitor.start()
    try:
        assert events.next() == CardInserted(VPCD_READER, ATR)
        vpcd.stop()
        assert events.next() == CardRemovedEvent(VPCD_READER)
        vpcd.start()
        assert events.next() == CardInserted(VPCD_READER, ATR)
    finally:
        monitor.stop()
    assert events.pending() == []


@pytest.mark.pcsc
def test_unknown_reader_is_reader_lost_and_stop_does_not_hang(pcscd):
    events = Events()
    monitor = PcscCardMonitor("No Such Reader", events)
    monitor.start()
    lost = events.next()
    started = time.monotonic()
    monitor.stop()
    assert time.monotonic() - started < 5.0
    assert isinstance(lost, ReaderLost)
    assert not lost.service_gone
    assert "No Such Reader" in lost.reason


_REPORT_FIRST_EVENT = """
import json, queue
from dataclasses import asdict
from devices.card.card_monitor import PcscCardMonitor
events = queue.Queue()
monitor = PcscCardMonitor("Virtual PCD", events.put, retry_s=0.2)
monitor.start()
first = events.get(timeout=20)
monitor.stop()
print(json.dumps({"type": type(first).__name__, **{k: str(v) for k, v in asdict(first).items()}}))
"""


def test_unreachable_pcscd_is_reader_lost_with_service_gone(tmp_path):
    # libpcsclite reads PCSCLITE_CSOCK_NAME once per process: hence a child process.
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    done = subprocess.run([sys.executable, "-c", _REPORT_FIRST_EVENT], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["type"] == "ReaderLost"
    assert event["service_gone"] == "True"
