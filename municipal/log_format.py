"""The center's log lines: one record, one line. A client's string (a request id, a
terminal name, a path) can hold a newline or another control character and would
otherwise write a forged line of its own; such characters are escaped as \\xNN or
\\uNNNN. Tracebacks, which are ours, keep their lines.
"""
from __future__ import annotations

import logging

# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROLS}
_ESCAPES[ord("\\")] = "\\\\"  # so an escape written by a client cannot pass for one of ours


class OneLineFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).translate(_ESCAPES)


def configure_logging(level: int = logging.INFO, fmt: str = "%(asctime)s %(name)s %(message)s") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
