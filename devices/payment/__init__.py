"""Coin and note payment with change, over ccTalk; see acceptor.PaymentDevice."""
from __future__ import annotations

from devices.payment.acceptor import PaymentDevice
from devices.payment.cash import ChangeOffer, Payout
from devices.payment.cctalk_host import HopperLevel
from devices.payment.events import (
    Credit,
    DeviceLost,
    EventsLost,
    FraudCoin,
    Jammed,
    PaymentDeviceLost,
    PaymentError,
    PaymentEvent,
    PaymentProtocolError,
    Rejected,
)
from devices.payment.simulated import SimulatedPaymentDevice

__all__ = [
    "ChangeOffer",
    "Credit",
    "DeviceLost",
    "EventsLost",
    "FraudCoin",
    "HopperLevel",
    "Jammed",
    "PaymentDevice",
    "PaymentDeviceLost",
    "PaymentError",
    "PaymentEvent",
    "PaymentProtocolError",
    "Payout",
    "Rejected",
    "SimulatedPaymentDevice",
]
