"""Misbehaving cards on demand: slow answers, a card pulled mid-exchange, malformed answers.

`FaultyCard` wraps a VirtualCard with the same interface, so the in-process transport
and the vpcd card meet the very same faults. `CardFaults` holds the settings; tests
and the `kiosk-vcard faults` command change them at any moment, from any thread.
"""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Literal, get_args

MalformedMode = Literal["truncated", "garbage", "no_status"]
MALFORMED_MODES: tuple[str, ...] = get_args(MalformedMode)

_GARBAGE_LENGTHS = (3, 64)


class CardPulled(Exception):
    """The card leaves the reader now: whoever carries it must drop the connection."""


@dataclass(frozen=True)
class FaultSettings:
    delay_s: float = 0.0  # before every answer
    drop_after_apdus: int | None = None  # answer this many more, then pull the card (once)
    malformed: MalformedMode | None = None
    malformed_count: int | None = None  # how many answers to spoil; None = all of them

    def __post_init__(self):
        if self.delay_s < 0:
            raise ValueError("delay_s must not be negative")
        if self.drop_after_apdus is not None and self.drop_after_apdus < 0:
            raise ValueError("drop_after_apdus must not be negative")
        if self.malformed is not None and self.malformed not in MALFORMED_MODES:
            raise ValueError(f"malformed must be one of {MALFORMED_MODES}")
        if self.malformed_count is not None and self.malformed_count < 0:
            raise ValueError("malformed_count must not be negative")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _AnswerPlan:
    delay_s: float
    drop: bool
    malformed: MalformedMode | None


class CardFaults:
    """Thread-safe fault settings; each answer consumes its share of the counters."""

    def __init__(self, settings: FaultSettings | None = None, seed: int | None = None):
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._random = random.Random(seed)

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def set(self, **changes) -> FaultSettings:
        """Change some fields (FaultSettings names); the others keep their value."""
        with self._lock:
            self._settings = replace(self._settings, **changes)
            return self._settings

    def clear(self) -> None:
        with self._lock:
            self._settings = FaultSettings()

    def garbage(self) -> bytes:
        with self._lock:
            return self._random.randbytes(self._random.randint(*_GARBAGE_LENGTHS))

    def plan_answer(self) -> _AnswerPlan:
        with self._lock:
            s = self._settings
            drop = s.drop_after_apdus == 0
            if s.drop_after_apdus is not None:
                # A drop is spent once done, so the card can be put back in.
                self._settings = replace(s, drop_after_apdus=None if drop else s.drop_after_apdus - 1)
            malformed = s.malformed if s.malformed_count != 0 else None
            if malformed and s.malformed_count is not None:
                self._settings = replace(self._settings, malformed_count=s.malformed_count - 1)
            return _AnswerPlan(s.delay_s, drop, malformed)


class FaultyCard:
    """A card (VirtualCard or look-alike) that misbehaves as its CardFaults say."""

    def __init__(self, card, faults: CardFaults | None = None):
        self.card = card
        self.faults = faults or CardFaults()
        self._lock = threading.Lock()
        self._abort_answer: threading.Event | None = None

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def reset(self) -> None:
        """Power off, reset or removal: an answer still being delayed is never sent."""
        with self._lock:
            if self._abort_answer is not None:
                self._abort_answer.set()
        self.card.reset()

    def process(self, apdu: bytes) -> bytes:
        """The card's answer, spoilt as configured; raises CardPulled to leave the reader."""
        plan = self.faults.plan_answer()
        if plan.drop:
            raise CardPulled("the card was pulled out before answering")
        if plan.delay_s:
            self._wait(plan.delay_s)
        answer = self.card.process(apdu)
        if plan.malformed == "truncated":
            return answer[:1]
        if plan.malformed == "no_status":
            # A bare status word keeps one byte: an empty answer is a mute card, not a malformed one.
            return answer[:-2] or answer[:1]
        if plan.malformed == "garbage":
            return self.faults.garbage()
        return answer

    def _wait(self, delay_s: float) -> None:
        abort = threading.Event()
        with self._lock:
            self._abort_answer = abort
        try:
            if abort.wait(delay_s):
                raise CardPulled("the card was pulled out while answering")
        finally:
            with self._lock:
                self._abort_answer = None
