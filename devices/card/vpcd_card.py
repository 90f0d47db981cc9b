"""Puts a VirtualCard into pcscd's vpcd reader, playing the card side of its socket.

vpcd listens; the card connects. Frames both ways are a 2-byte big-endian length
and a payload. A 1-byte payload from the reader is a control code, anything
longer is a command APDU. Closing the socket is pulling the card out: stop() does it,
and so does a FaultyCard that raises CardPulled, even while an answer is delayed.
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time

from devices.card.card_faults import CardFaults, CardPulled, FaultyCard
from devices.card.vcard_control import ControlServer, add_control_commands, run_control_command
from devices.card.virtual_card import VirtualCard

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963  # reader "Virtual PCD 00 00"

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

log = logging.getLogger(__name__)


class VpcdCard:
    """card: a VirtualCard, a FaultyCard or a look-alike (atr, reset(), process(apdu))."""

    def __init__(self, card, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        self.card = card
        self.host = host
        self.port = port
        self.reader_hung_up = False  # vpcd closed the connection: pcscd stopped, most likely
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._removing = False
        self._lock = threading.Lock()  # a control thread and the main thread both insert and remove

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, connect_timeout: float = 10.0) -> None:
        """Insert the card: connect to vpcd, retrying while pcscd is still starting."""
        with self._lock:
            if not self.inserted:
                self._connect(connect_timeout)

    def _connect(self, connect_timeout: float) -> None:
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
        self._removing = self.reader_hung_up = False
        self._thread = threading.Thread(target=self._serve, args=(self._socket,),
                                        name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()
        log.info("card inserted into vpcd at %s:%d", self.host, self.port)

    def stop(self) -> None:
        """Remove the card, at once: an answer still being delayed never goes out."""
        with self._lock:
            self._removing = True
            sock, self._socket = self._socket, None
            if sock is not None:
                _close(sock)  # wakes the thread blocked in recv
            self.card.reset()  # aborts a delayed FaultyCard answer
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None
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
                    self.reader_hung_up = not self._removing
                    return
                answer = self._answer(payload)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
        except CardPulled as e:
            log.info("card pulled out of vpcd at %s:%d: %s", self.host, self.port, e)
            _close(sock)
        except OSError:
            self.reader_hung_up = not self._removing  # else stop() closed the socket under us

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) != 1:
            answer = self.card.process(payload)
            if not answer:  # vpcd waits forever on an empty frame, wedging the reader
                raise CardPulled("the card gave an empty answer: played as a mute card")
            return answer
        code = payload[0]
        if code in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
            self.card.reset()
            return None
        if code == CTRL_GET_ATR:
            return self.card.atr
        log.warning("unknown vpcd control code %02X", code)
        return None


def _close(sock: socket.socket) -> None:
    """Pull the card: vpcd, even when waiting for an answer, reads it as removed."""
    try:
        sock.shutdown(socket.SHUT_RDWR)  # also wakes our own thread blocked in recv
    except OSError:
        pass  # the other side already hung up
    sock.close()


def _receive_exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        # vpcd writes a frame's length and its APDU separately; with Nagle on its side
        # and delayed ACKs on ours, each APDU would wait ~40 ms. Linux resets QUICKACK
        # after use, so it is set before every read.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
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
    args = _parser().parse_args(_with_default_command(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command != "serve":
        return run_control_command(args)
    return serve(args.card, args.host, args.port, args.control)


def serve(card_path: str, host: str, port: int, control_path: str | None) -> int:
    """Keep the card in the reader until SIGTERM/SIGINT; obey the control socket meanwhile."""
    vcard = VpcdCard(FaultyCard(VirtualCard(card_path), CardFaults()), host, port)
    try:
        vcard.start()
    except OSError as e:
        log.error("cannot reach vpcd at %s:%d (is pcscd running?): %s", host, port, e)
        return 1
    control = ControlServer(control_path, vcard) if control_path else None
    if control is not None:
        control.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    while not stopping.wait(0.5) and not vcard.reader_hung_up:
        pass
    if control is not None:
        control.stop()
    vcard.stop()
    if vcard.reader_hung_up:
        log.error("vpcd closed the connection (pcscd stopped?)")
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-vcard",
                                     description="Insert a virtual My Number card into pcscd's vpcd reader.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="insert the card and keep it there (the default)")
    serve_cmd.add_argument("--card", required=True, help="card file (JSON, see devices/card/cardfile.py)")
    serve_cmd.add_argument("--host", default=DEFAULT_HOST)
    serve_cmd.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve_cmd.add_argument("--control", help="UNIX socket for remove/insert/faults commands")
    add_control_commands(commands)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """`kiosk-vcard --card FILE` still means `kiosk-vcard serve --card FILE`."""
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        return ["serve", *argv]
    return argv


if __name__ == "__main__":
    sys.exit(main())
