"""A kiosk whose issuance center cannot be reached goes out of service by itself,
keeps trying, and comes back when the center answers again."""
from __future__ import annotations

import logging
import queue
import threading
import time

from kiosk.embedded import embedded_config, free_port, running_stub
from kiosk.events import ServiceStatus
from kiosk.issuance_client import IssuanceClient, IssuanceError
from kiosk.service_watch import DOWN_AFTER, ServiceWatch
from kiosk.wiring import issuance_client
from tests.fixtures.stub import TEST_CLOCK


class CountedProbes:
    """The watch's client, counting the probes it starts and noting how each ended. The
    watch reports what a probe showed before it starts the next: once probe n+1 has
    started, anything the first n would have reported is in the queue."""

    def __init__(self, client: IssuanceClient):
        self._client = client
        self._changed = threading.Condition()
        self.started = 0
        self.answered: list[bool] = []

    def health(self) -> None:
        with self._changed:
            self.started += 1
            self._changed.notify_all()
        try:
            self._client.health()
        except IssuanceError:
            self.answered.append(False)
            raise
        self.answered.append(True)

    def close(self) -> None:
        self._client.close()

    def wait_for_start_of(self, probe: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.started >= probe, timeout=30), f"probe {probe} never started"


def test_out_of_service_after_repeated_failures_and_back_when_the_center_answers(stub_data, tmp_path):
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    config = embedded_config(stub_data, url, "R0001", tmp_path / "printed", issuance={"timeout_s": 1.0})
    reports: queue.Queue[ServiceStatus] = queue.Queue()
    with running_stub(stub_data, port, clock=TEST_CLOCK):
        probes = CountedProbes(issuance_client(config.issuance))
        watch = ServiceWatch(probes, reports.put, every_s=0.05, retry_s=0.05)
        watch.start()
        probes.wait_for_start_of(DOWN_AFTER + 1)  # as many probes answered as it takes to go down
        assert probes.answered[:DOWN_AFTER] == [True] * DOWN_AFTER
        assert reports.empty() and watch.reachable
    try:
        assert reports.get(timeout=15) == ServiceStatus(False)
        assert not watch.reachable
        with running_stub(stub_data, port, clock=TEST_CLOCK):
            assert reports.get(timeout=15) == ServiceStatus(True)
    finally:
        watch.stop()


def test_one_failed_probe_does_not_close_the_kiosk(stub_data, tmp_path, caplog):
    assert DOWN_AFTER > 1
    config = embedded_config(stub_data, f"https://127.0.0.1:{free_port()}", "R0001", tmp_path / "printed",
                             issuance={"timeout_s": 0.5})
    reports: queue.Queue[ServiceStatus] = queue.Queue()
    caplog.set_level(logging.WARNING, logger="kiosk.service_watch")
    watch = ServiceWatch(issuance_client(config.issuance), reports.put, every_s=10, retry_s=10)
    watch.start()  # the first probe fails (nothing listens), the next is 10 s away
    try:
        deadline = time.monotonic() + 10
        while "1 in a row" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "1 in a row" in caplog.text
        assert reports.empty() and watch.reachable
    finally:
        watch.stop()
