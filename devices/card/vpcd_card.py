"""Puts a VirtualCard into pcscd's vpcd reader, playing the card side of its socket.

vpcd listens; the card connects. Frames both ways are a 2-byte big-endian length
and a payload. A 1-byte payload from the reader is a control code, anything
longer is a command APDU. Closing the socket is pulling the card out.
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time

from devices.card.virtual_card import VirtualCard

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963  # reader "Virtual PCD 00 00"

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

log = logging.getLogger(__name__)


class VpcdCard:
    def __init__(self, card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        self.card = card
        self.host = host
        self.port = port
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, connect_timeout: float = 10.0) -> None:
        """Insert the card: connect to vpcd, retrying while pcscd is still starting."""
        if self.inserted:
            return
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self._socket = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._socket,),
                                        name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()
        log.info("card inserted into vpcd at %s:%d", self.host, self.port)

    def stop(self) -> None:
        """Remove the card."""
        sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv
            except OSError:
                pass  # vpcd already hung up
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.card.reset()
        log.info("card removed from vpcd at %s:%d", self.host, self.port)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the reader side closes the connection (or stop() is called)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = _receive_frame(sock)
                if payload is None:
                    return
                answer = self._answer(payload)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
        except OSError:
            return  # stop() closed the socket under us, or pcscd went away

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) != 1:
            return self.card.process(payload)
        code = payload[0]
        if code in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
            self.card.reset()
            return None
        if code == CTRL_GET_ATR:
            return self.card.atr
        log.warning("unknown vpcd control code %02X", code)
        return None


def _receive_exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _receive_frame(sock: socket.socket) -> bytes | None:
    header = _receive_exactly(sock, 2)
    if header is None:
        return None
    return _receive_exactly(sock, int.from_bytes(header, "big"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-vcard",
                                     description="Insert a virtual My Number card into pcscd's vpcd reader.")
    parser.add_argument("--card", required=True, help="card file (JSON, see devices/card/cardfile.py)")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    vcard = VpcdCard(VirtualCard(args.card), args.host, args.port)
    try:
        vcard.start()
    except OSError as e:
        log.error("cannot reach vpcd at %s:%d (is pcscd running?): %s", args.host, args.port, e)
        return 1

    stopping = threading.Event()

    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    while vcard.inserted and not stopping.is_set():
        vcard.wait(0.5)
    pcscd_hung_up = not stopping.is_set()
    vcard.stop()
    if pcscd_hung_up:
        log.error("vpcd closed the connection (pcscd stopped?)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
