"""The host's end of a ccTalk bus: one request, one reply, within a timeout.

Works over anything with pyserial's read/write/reset_input_buffer/close: a serial port
(`CcTalkLink.serial`) or the simulated driver's in-memory wire. Every failure becomes
PaymentDeviceLost (no answer) or PaymentProtocolError (bytes that are not the reply).
"""
from __future__ import annotations

from typing import Protocol

import serial

from devices.payment import cctalk
from devices.payment.events import PaymentDeviceLost, PaymentProtocolError

BAUD_RATE = 9600  # ccTalk's standard rate, 8N1


class ByteStream(Protocol):
    def write(self, data: bytes) -> int | None: ...

    def read(self, size: int) -> bytes: ...  # fewer bytes once its timeout has passed

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class CcTalkLink:
    def __init__(self, stream: ByteStream, *, timeout: float, echo: bool = False):
        self._stream = stream
        self.timeout = timeout
        self.echo = echo

    @classmethod
    def serial(cls, port: str, *, timeout: float = 0.5, echo: bool = False) -> CcTalkLink:
        try:
            stream = serial.Serial(port, baudrate=BAUD_RATE, timeout=timeout, write_timeout=timeout)
        except serial.SerialException as exc:
            raise PaymentDeviceLost(f"cannot open the ccTalk port {port}: {exc}") from exc
        return cls(stream, timeout=timeout, echo=echo)

    def close(self) -> None:
        self._stream.close()

    def request(self, address: int, header: int, data: bytes = b"", *, device: str) -> bytes:
        """Send one command, return the data of its ACK."""
        who = f"the {device} (address {address})"
        what = f"{who} to header {header}"
        sent = cctalk.encode(cctalk.Frame(address, cctalk.HOST, header, bytes(data)))
        try:
            self._stream.reset_input_buffer()  # stale bytes would shift the reply
            self._stream.write(sent)
            if self.echo:
                cctalk.check_echo(sent, self._read(len(sent), f"no echo of the frame sent to {who}"))
            start = self._read(2, f"no answer from {what} within {self.timeout} s")
            if start[0] != cctalk.HOST:
                raise PaymentProtocolError(
                    f"garbage byte 0x{start[0]:02X} from the serial line where the reply of {what} "
                    f"should start with the host's address 0x{cctalk.HOST:02X}"
                )
            rest = self._read(cctalk.frame_size(start) - 2, f"{who} stopped answering mid-reply")
            reply = cctalk.decode(start + rest)
        except cctalk.CcTalkFrameError as exc:
            raise PaymentProtocolError(f"bad reply from {what}: {exc}") from exc
        except serial.SerialException as exc:
            raise PaymentDeviceLost(f"the ccTalk port failed talking to {who}: {exc}") from exc
        if reply.source != address:
            raise PaymentProtocolError(f"address {reply.source} answered instead of {what}")
        if reply.header == cctalk.NAK:
            raise PaymentProtocolError(f"{who} refused header {header} (NAK)")
        if reply.header != cctalk.ACK:
            raise PaymentProtocolError(f"{who} answered header {reply.header} to header {header}")
        return reply.data

    def _read(self, size: int, silent: str) -> bytes:
        got = self._stream.read(size)
        if not got:
            raise PaymentDeviceLost(silent)
        if len(got) < size:
            raise cctalk.CcTalkFrameError("truncated", f"only {len(got)} of {size} bytes came", got)
        return got
