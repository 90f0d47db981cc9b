"""The two worker threads maintenance mode does its work on, and the queue their
results come back through: one for devices and system commands (slow, one at a
time), one for the state file (records, summaries, PIN checks). The frame loop only
submits and, at the start of a frame, takes what has finished."""
from __future__ import annotations

import logging
import queue
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator

log = logging.getLogger("kiosk.maintenance")


@dataclass(frozen=True)
class Outcome:
    """A finished action: `notice` for the screen (English msgid and values), `problem` if it failed."""

    job: str
    notice: str
    values: dict = field(default_factory=dict)
    problem: bool = False


@dataclass(frozen=True)
class Loaded:
    """A finished job whose result the screens read: sign_in, summary, recheck."""

    job: str
    data: object


class Jobs:
    def __init__(self):
        self._results: queue.Queue[Outcome | Loaded] = queue.Queue()
        self.devices = ThreadPoolExecutor(1, thread_name_prefix="maintenance-devices")
        self.records = ThreadPoolExecutor(1, thread_name_prefix="maintenance-records")

    def on_devices(self, job: str, fn: Callable, *args) -> Future:
        return self.devices.submit(self._guarded, job, fn, *args)

    def on_records(self, job: str, fn: Callable, *args) -> Future:
        return self.records.submit(self._guarded, job, fn, *args)

    def finished(self) -> Iterator[Outcome | Loaded]:
        """What has finished since the last call, without waiting."""
        while True:
            try:
                yield self._results.get_nowait()
            except queue.Empty:
                return

    def shutdown(self) -> None:
        """When the kiosk stops. Records already asked for are written; device work not
        started yet is dropped. A device job under way is not waited for: it may be
        `systemctl restart kiosk`, which itself waits for this process to end."""
        self.devices.shutdown(wait=False, cancel_futures=True)
        self.records.shutdown(wait=True)

    def _guarded(self, job: str, fn: Callable, *args) -> None:
        """Runs a job on a worker thread; whatever happens, the frame loop hears of it."""
        try:
            outcome = fn(*args)
        except Exception as exc:  # a surprise must reach the screen, not kill the thread silently
            log.exception("maintenance job %s failed", job)
            outcome = Outcome(job, "Failed: {error}", {"error": f"{type(exc).__name__}: {exc}"}, problem=True)
        if isinstance(outcome, (Outcome, Loaded)):
            self._results.put(outcome)
