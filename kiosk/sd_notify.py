"""Tells systemd how the kiosk is doing (sd_notify(3)) over $NOTIFY_SOCKET.

READY=1 when the first frame (the welcome screen) is on the display, so a unit with
Type=notify is "started" only once a resident can use it; WATCHDOG=1 from the frame
loop, so a frozen loop gets the kiosk restarted; STATUS= names the screen shown.
Outside systemd there is no socket and every call does nothing. Sending never blocks
and never raises: the frame loop calls it.
"""
from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("kiosk.sd_notify")

MAX_FEED_INTERVAL_S = 5.0  # feed at most this often, well inside any sensible WatchdogSec


class Notifier:
    def __init__(self, environ=os.environ):
        address = environ.get("NOTIFY_SOCKET", "")
        # An abstract socket is written with a leading "@"; Linux wants a NUL there.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self._address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.setblocking(False)
        self.feed_interval_s = _feed_interval(environ)
        self._ready = False
        self._last_feed = float("-inf")
        self._status: str | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, *fields: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto("\n".join(fields).encode(), self._address)
        except OSError as exc:  # systemd gone or its queue full: the next frame tries again
            if not self._warned:
                log.warning("cannot notify systemd: %s", exc)
                self._warned = True

    def frame(self, now: float, screen: str) -> None:
        """Called once per pass of the frame loop (`now` is time.monotonic())."""
        fields = []
        if not self._ready:
            fields.append("READY=1")
            self._ready = True
        if screen != self._status:
            fields.append(f"STATUS=screen: {screen}")
            self._status = screen
        if self.feed_interval_s is not None and now - self._last_feed >= self.feed_interval_s:
            fields.append("WATCHDOG=1")
            self._last_feed = now
        if fields:
            self.notify(*fields)


def _feed_interval(environ) -> float | None:
    """Half the watchdog period systemd gave this process, but no more often than
    every MAX_FEED_INTERVAL_S; None when there is no watchdog (or it is another PID's)."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = environ.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return min(usec / 1e6 / 2, MAX_FEED_INTERVAL_S)


_notifier: Notifier | None = None


def notifier() -> Notifier:
    """The process's one notifier, made from the environment on first use."""
    global _notifier
    if _notifier is None:
        _notifier = Notifier()
    return _notifier
