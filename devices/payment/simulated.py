"""The kiosk's embedded payment device: the real PaymentDevice, talking ccTalk to the
emulated devices over an in-memory wire instead of a serial port. Nothing about cash,
events or change is simulated separately; `device.bus` holds the controls (insert a
coin, empty a hopper, ...).
"""
from __future__ import annotations

from devices.payment import cctalk
from devices.payment.acceptor import PaymentDevice
from devices.payment.cctalk_link import CcTalkLink
from devices.payment.emulated_devices import DEFAULT_LEVELS, CcTalkBus


class _Wire:
    """The host's end of an in-memory serial line: each frame written is answered at
    once, so a read that finds nothing means the bus stayed silent."""

    def __init__(self, bus: CcTalkBus):
        self._bus = bus
        self._incoming = bytearray()

    def write(self, data: bytes) -> int:
        self._incoming += self._bus.answer(bytes(data))
        return len(data)

    def read(self, size: int) -> bytes:
        got = bytes(self._incoming[:size])
        del self._incoming[:size]
        return got

    def reset_input_buffer(self) -> None:
        self._incoming.clear()

    def close(self) -> None:
        pass


class SimulatedPaymentDevice(PaymentDevice):
    def __init__(self, levels=DEFAULT_LEVELS, *, notes: bool = True):
        self.bus = CcTalkBus(levels, notes=notes)
        link = CcTalkLink(_Wire(self.bus), timeout=0.0)
        super().__init__(link, bill_validator=cctalk.BILL_VALIDATOR if notes else None)
