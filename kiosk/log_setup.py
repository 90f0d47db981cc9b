"""Where the kiosk's log goes: the systemd journal with structured fields when systemd
runs it, plain lines on stderr otherwise.

The journal gets each record over its native protocol (a datagram of FIELD=value
lines to /run/systemd/journal/socket, see systemd.journal-fields(7)), so staff can
ask `journalctl -u kiosk KIOSK_EVENT=printed` or `journalctl -u kiosk VISIT=12`.
Fields come from `extra={...}` (kiosk_event, visit, request_id, state) or, for the
kiosk's existing "what happened key=value" messages, from the message itself. Records
carry identifiers and outcomes only; what is logged is decided where it is logged.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import struct
import sys

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "kiosk"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Record attributes (from `extra=`) sent as journal fields.
EXTRA_FIELDS = {"kiosk_event": "KIOSK_EVENT", "visit": "VISIT", "request_id": "REQUEST_ID", "state": "STATE"}
# `key=value` words in a message and the fields they become.
MESSAGE_KEYS = {"visit": "VISIT", "request": "REQUEST_ID", "txn": "TRANSACTION", "code": "CODE",
                "reason": "REASON", "problem": "PROBLEM", "outcome": "OUTCOME"}
_KEY_VALUE = re.compile(r"\b([a-z_]+)=([^\s,;:]+)")
_EVENT_WORDS = re.compile(r"[a-z][a-z ]*[a-z]")
_STATE_CHANGE = re.compile(r"^state \S+ -> (\S+)")
_PRIORITY = [(logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)]


def journal_fields(record: logging.LogRecord, message: str) -> dict[str, str]:
    fields = {
        "MESSAGE": message,
        "PRIORITY": str(next((p for level, p in _PRIORITY if record.levelno >= level), 7)),
        "SYSLOG_IDENTIFIER": IDENTIFIER,
        "LOGGER": record.name,
        "CODE_FILE": record.pathname,
        "CODE_LINE": str(record.lineno),
        "CODE_FUNC": record.funcName,
        "THREAD_NAME": record.threadName or "",
    }
    text = record.getMessage()
    for key, value in _KEY_VALUE.findall(text):
        if key in MESSAGE_KEYS:
            fields[MESSAGE_KEYS[key]] = value
    if state := _STATE_CHANGE.match(text):
        fields["STATE"], fields["KIOSK_EVENT"] = state.group(1), "state_change"
    elif lead := _EVENT_WORDS.match(_KEY_VALUE.split(text, 1)[0]):
        # The event is the message's leading words: "card open failed visit=3" -> card_open_failed.
        fields["KIOSK_EVENT"] = lead.group(0).strip().replace(" ", "_")
    for attribute, field in EXTRA_FIELDS.items():
        value = getattr(record, attribute, None)
        if value is not None:
            fields[field] = str(value)
    return fields


def encode(fields: dict[str, str]) -> bytes:
    """The native protocol: FIELD=value lines; a value with a newline goes as FIELD,
    newline, its length as 64-bit little endian, the bytes, newline."""
    out = bytearray()
    for name, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += name.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            self._socket.sendto(encode(journal_fields(record, message)), self.path)
        except Exception:  # journald away or the record too big: keep the line, lose the fields
            try:
                sys.stderr.write(logging.Formatter(PLAIN_FORMAT).format(record) + "\n")
            except Exception:
                pass

    def close(self) -> None:
        self._socket.close()
        super().close()


def stderr_is_journal(environ=os.environ) -> bool:
    """systemd sets JOURNAL_STREAM to the device and inode of the journal stream it
    connected; if stderr is still that stream, the journal is listening."""
    try:
        device, inode = (int(n) for n in environ["JOURNAL_STREAM"].split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (KeyError, ValueError, OSError, AttributeError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def configure(level: int = logging.INFO, *, environ=os.environ) -> None:
    """Sends the root logger to the journal, or to stderr. Calling it again replaces
    the handler it added, and only that one (a test harness may have its own)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "kiosk_log_setup", False)]:
        root.removeHandler(old)
        old.close()
    if stderr_is_journal(environ):
        handler: logging.Handler = JournalHandler(JOURNAL_SOCKET)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.kiosk_log_setup = True
    root.addHandler(handler)
    root.setLevel(level)
