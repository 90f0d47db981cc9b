"""Remote control of a running `kiosk-vcard serve`: remove, insert, change faults.

One JSON object per line over a UNIX socket, one request per connection:
{"command": "remove" | "insert" | "status"} or
{"command": "faults", "clear": true, "delay_s": 2, "drop_after_apdus": 3,
 "malformed": "garbage", "malformed_count": 1} (every field optional).
The answer is {"ok": true, "inserted": ..., "faults": {...}} or {"ok": false, "error": "..."}.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import threading

from devices.card.card_faults import MALFORMED_MODES

ACCEPT_WAIT_S = 0.5  # bounds how long stop() waits for the accept loop
_FAULT_FIELDS = ("delay_s", "drop_after_apdus", "malformed", "malformed_count")

log = logging.getLogger(__name__)


class ControlServer:
    """Serves commands for a VpcdCard whose card is a FaultyCard."""

    def __init__(self, path: str, vcard):
        self.path = path
        self.vcard = vcard
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)  # left by a serve that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen()
        listener.settimeout(ACCEPT_WAIT_S)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="kiosk-vcard-control", daemon=True)
        self._thread.start()
        log.info("control socket at %s", self.path)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=ACCEPT_WAIT_S * 10)
        if self._listener is not None:
            self._listener.close()
            os.unlink(self.path)

    def handle(self, request: dict) -> dict:
        command = request.get("command")
        faults = self.vcard.card.faults
        if command == "remove":
            self.vcard.stop()
        elif command == "insert":
            self.vcard.start()
        elif command == "faults":
            if request.get("clear"):
                faults.clear()
            faults.set(**{field: request[field] for field in _FAULT_FIELDS if field in request})
        elif command != "status":
            raise ValueError(f"unknown command {command!r}")
        return {"ok": True, "inserted": self.vcard.inserted, "faults": faults.settings.as_dict()}

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            with connection, connection.makefile("rw", encoding="utf-8") as stream:
                stream.write(json.dumps(self._answer(stream.readline())) + "\n")

    def _answer(self, line: str) -> dict:
        try:
            request = json.loads(line)
            log.info("control: %s", request)
            return self.handle(request)
        except (ValueError, TypeError, OSError) as e:  # a bad request, or vpcd unreachable on insert
            return {"ok": False, "error": str(e)}


def send_command(path: str, request: dict, timeout: float = 30.0) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        with sock.makefile("rw", encoding="utf-8") as stream:
            stream.write(json.dumps(request) + "\n")
            stream.flush()
            return json.loads(stream.readline())


def add_control_commands(commands) -> None:
    """The client side subcommands of kiosk-vcard."""
    for name, help_text in (("remove", "pull the card out, even in the middle of an APDU"),
                            ("insert", "put the card back in"),
                            ("status", "show whether the card is in and its faults")):
        commands.add_parser(name, help=help_text).add_argument("--control", required=True)
    faults = commands.add_parser("faults", help="make the card slow, drop out, or answer garbage")
    faults.add_argument("--control", required=True)
    faults.add_argument("--clear", action="store_true", help="back to a well-behaved card first")
    faults.add_argument("--delay", dest="delay_s", type=float, help="seconds before each answer")
    faults.add_argument("--drop-after", dest="drop_after_apdus", type=int,
                        help="answer this many APDUs, then pull the card out (once)")
    faults.add_argument("--malformed", choices=[*MALFORMED_MODES, "none"])
    faults.add_argument("--malformed-count", dest="malformed_count", type=int,
                        help="spoil only this many answers (default: all)")


def run_control_command(args: argparse.Namespace) -> int:
    request: dict = {"command": args.command}
    if args.command == "faults":
        request["clear"] = args.clear
        for field in _FAULT_FIELDS:
            value = getattr(args, field)
            if value is not None:
                request[field] = None if value == "none" else value
    try:
        answer = send_command(args.control, request)
    except OSError as e:
        log.error("cannot reach kiosk-vcard at %s: %s", args.control, e)
        return 1
    print(json.dumps(answer))
    return 0 if answer.get("ok") else 1
