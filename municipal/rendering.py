"""Certificates rendered off the issuance center's event loop.

Rendering is the center's heaviest work (~5 ms of CPU a certificate) and pure: a
record and its verification code in, the PDF and its page digests out. The event loop
serves every kiosk's connection and holds the registry's write lock for each commit,
so with `processes` > 0 certificates render in that many worker processes, which read
and write nothing else; all connections and all registry writes stay in the one
front process (no write lock fought over between processes, and renders go to
whichever worker is free, not to the worker a connection happened to land on). With
0 (the embedded demo: one resident at a time) they render on the loop.
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from printouts import fictional_records
from printouts.certificate_page import RenderedPdf
from printouts.certificates import render_certificate_pages
from printouts.records import Certificate

log = logging.getLogger("municipal.rendering")
PR_SET_PDEATHSIG = 1  # prctl(2)


class CertificateRenderer:
    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        """Start and warm every worker (fonts registered, page backgrounds built) before
        the first kiosk is served."""
        if self.processes > 0:
            self._pool = _new_pool(self.processes)
            loop = asyncio.get_running_loop()
            # One task per worker at once: each finds no idle worker, so each starts one.
            await asyncio.gather(*(loop.run_in_executor(self._pool, _warm_up) for _ in range(self.processes)))

    async def render(self, record: Certificate, verification_code: str) -> RenderedPdf:
        if self._pool is None:
            return render_certificate_pages(record, verification_code)
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            return await loop.run_in_executor(pool, render_certificate_pages, record, verification_code)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the pool refuses all work from then
            # on. The first render to find out replaces it; each renders again.
            if self._pool is pool:
                log.error("a certificate renderer process died; starting new ones")
                pool.shutdown(wait=False)
                self._pool = _new_pool(self.processes)
            return await loop.run_in_executor(self._pool, render_certificate_pages, record, verification_code)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _new_pool(processes: int) -> ProcessPoolExecutor:
    # spawn, not fork: the front process runs an event loop and threads by now.
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_end_with_the_front, initargs=(os.getpid(),))


def _end_with_the_front(front_pid: int) -> None:
    """A renderer whose front process was killed would otherwise wait for work
    forever (it holds its own end of the work queue): Linux ends it with its parent.
    A front killed while this renderer was still starting (importing, on a loaded
    machine) is gone before prctl could tie the two: then it ends now."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != front_pid:
        os._exit(0)


def _warm_up() -> None:
    render_certificate_pages(fictional_records.seal_certificate(), fictional_records.verification_code())
