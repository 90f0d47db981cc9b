"""Keeps asking the issuance center whether it answers, off the frame loop.

A kiosk that cannot reach the center must not take anyone's card, PIN or money: after
DOWN_AFTER failed probes in a row it reports the center unreachable and the welcome
screen says the kiosk is out of service; the probes go on, more often, and the first
one that succeeds puts the kiosk back in service. Nobody has to restart anything.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from kiosk.events import ServiceStatus
from kiosk.issuance_client import IssuanceClient, IssuanceError

log = logging.getLogger("kiosk.service_watch")

DOWN_AFTER = 3  # failed probes in a row: one lost packet never closes the kiosk


class ServiceWatch:
    def __init__(self, client: IssuanceClient, report: Callable[[ServiceStatus], None], *,
                 every_s: float = 30.0, retry_s: float = 10.0):
        self._client = client
        self._report = report
        self._every_s, self._retry_s = every_s, retry_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-service-watch", daemon=True)
        self.reachable = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.close()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._client.health()
                failures = 0
            except IssuanceError as exc:
                failures += 1
                log.warning("issuance center probe failed (%d in a row): %s", failures, exc)
            reachable = failures < DOWN_AFTER if self.reachable else failures == 0
            if reachable != self.reachable:
                self.reachable = reachable
                log.info("issuance center %s", "reachable again" if reachable else "unreachable: out of service")
                self._report(ServiceStatus(reachable))
            self._stop.wait(self._every_s if failures == 0 else self._retry_s)
