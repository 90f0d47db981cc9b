"""Yen and change: what the machine takes, what change it can give, what it paid out.

Pure functions over hopper levels ({denomination: coins}); the ccTalk host and the
simulated driver both use them, and the emulator's hoppers hold the levels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

COINS = (10, 50, 100, 500)  # 1 and 5 yen coins are returned by the acceptor
NOTES = (1000,)  # larger notes are inhibited: a kiosk fee never needs them
INSERTS = COINS + NOTES
STEP = 10  # every fee and every insert is a multiple of 10 yen


def plan_payout(amount: int, levels: Mapping[int, int]) -> tuple[dict[int, int], int]:
    """Coins to pay `amount` from the levels, largest first, and what they cannot cover.

    Greedy is exact here, not just a heuristic: each yen coin is a multiple of every
    smaller one (10 | 50 | 100 | 500), so if some mix of the coins in stock makes the
    amount, the greedy mix does too.
    """
    plan: dict[int, int] = {}
    remaining = amount
    for denomination in sorted(levels, reverse=True):
        count = min(remaining // denomination, levels[denomination])
        if count > 0:
            plan[denomination] = count
            remaining -= count * denomination
    return plan, remaining


def value_of(coins: Mapping[int, int]) -> int:
    return sum(value * count for value, count in coins.items())


def can_pay(amount: int, levels: Mapping[int, int]) -> bool:
    return plan_payout(amount, levels)[1] == 0


def _changes_after(insert: int, due: int) -> range:
    """Every change the insert can lead to while `due` or less is still owed: it may come
    when anything from 10 yen up to min(insert, due) is left to pay."""
    return range(max(0, insert - due), insert - STEP + 1, STEP)


@dataclass(frozen=True)
class ChangeOffer:
    """What to show before paying: the inserts the machine takes for this fee. Each
    accepted insert can be changed whatever was inserted before it; `refused` are the
    ones it takes on other days but not now, as the hoppers cannot change them."""

    due: int
    accepted: frozenset[int]
    refused: frozenset[int]


def offer_for(due: int, levels: Mapping[int, int], inserts=INSERTS) -> ChangeOffer:
    if due <= 0 or due % STEP:
        raise ValueError(f"an amount due must be a positive multiple of {STEP} yen, not {due}")
    accepted = frozenset(v for v in inserts if all(can_pay(c, levels) for c in _changes_after(v, due)))
    return ChangeOffer(due=due, accepted=accepted, refused=frozenset(inserts) - accepted)


@dataclass(frozen=True)
class Payout:
    """Coins that really left the machine; a shortfall is spelled out in `problems`."""

    requested: int
    coins: dict[int, int] = field(default_factory=dict)  # denomination -> coins paid
    problems: tuple[str, ...] = ()

    @property
    def paid(self) -> int:
        return value_of(self.coins)

    @property
    def shortfall(self) -> int:
        return self.requested - self.paid

    @property
    def complete(self) -> bool:
        return self.shortfall == 0
