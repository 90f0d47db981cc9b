"""PaymentDevice: the kiosk's coin and note payment, over one ccTalk bus.

On the bus: a coin acceptor (address 2), a bill validator for 1000-yen notes
(address 40, optional), and one single-coin hopper per coin for change (addresses
3, 4, 5, 6: 10, 50, 100 and 500 yen; each says which coin it holds).

Outside a payment everything is master-inhibited, so a coin inserted then is given
back by the mechanism. Every method does serial I/O and may block up to a few
timeouts: the kiosk calls them from its worker thread, never the UI thread. A lock
keeps one exchange on the bus at a time.
"""
from __future__ import annotations

import threading
from collections import Counter

from devices.payment import cctalk
from devices.payment.cash import COINS, INSERTS, ChangeOffer, Payout, offer_for, plan_payout, value_of
from devices.payment.cctalk_host import EventSource, Hopper, HopperLevel, bill_event, coin_event
from devices.payment.cctalk_link import CcTalkLink
from devices.payment.events import Credit, DeviceLost, EventsLost, PaymentDeviceLost, PaymentError, PaymentEvent

DEFAULT_HOPPERS = tuple(range(cctalk.FIRST_HOPPER, cctalk.FIRST_HOPPER + len(COINS)))
MAX_DISPENSE = 255  # coins one dispense command can ask for
SECONDS_PER_COIN = 0.5  # a slow hopper's rate, for the payout time limit


class PaymentDevice:
    def __init__(
        self,
        link: CcTalkLink,
        *,
        coin_acceptor: int = cctalk.COIN_ACCEPTOR,
        hoppers=DEFAULT_HOPPERS,
        bill_validator: int | None = cctalk.BILL_VALIDATOR,
    ):
        self._link = link
        self._lock = threading.Lock()
        self._coins = EventSource(link, coin_acceptor, cctalk.COIN_KIND)
        self._notes = EventSource(link, bill_validator, cctalk.BILL_KIND) if bill_validator else None
        self._sources = [s for s in (self._coins, self._notes) if s]
        self._hoppers = {}
        for address in hoppers:
            hopper = Hopper(link, address)
            hopper.identify()
            self._hoppers[hopper.denomination] = hopper
        for source in self._sources:
            source.identify()
        known = set(self._coins.values.values()) | set(self._notes.values.values() if self._notes else ())
        self._inserts = tuple(v for v in INSERTS if v in known)
        self._offer: ChangeOffer | None = None  # set while a payment is open
        self._credited = 0
        self._pending: list[PaymentEvent] = []  # read from the devices, not yet given to the kiosk
        self._inhibit()

    @classmethod
    def open(cls, port: str, *, timeout: float = 0.5, echo: bool = False, **addresses) -> PaymentDevice:
        """Over a serial port; `echo` for a single-wire bus, where the host hears itself."""
        link = CcTalkLink.serial(port, timeout=timeout, echo=echo)
        try:
            return cls(link, **addresses)
        except BaseException:
            link.close()
            raise

    def close(self) -> None:
        with self._lock:
            try:
                self._inhibit()
            except PaymentError:
                pass  # closing anyway; a lost device inhibits itself at power-up
            self._link.close()

    def __enter__(self) -> PaymentDevice:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- before paying -------------------------------------------------------------

    def hoppers(self) -> list[HopperLevel]:
        """Coins and low level sensor of each hopper, smallest coin first (for staff)."""
        with self._lock:
            return self._levels()

    def change_available(self) -> dict[int, int]:
        """Coins per denomination the hoppers can pay out now."""
        with self._lock:
            return self._available()

    def offer(self, amount_yen: int) -> ChangeOffer:
        """Which coins and notes the machine will take for this fee, given its change."""
        return offer_for(amount_yen, self.change_available(), self._inserts)

    # --- a payment -----------------------------------------------------------------

    def start_accepting(self, amount_yen: int) -> ChangeOffer:
        """Open a payment. Only the inserts of the returned offer are enabled, so the
        mechanism itself gives back a coin or note the hoppers could not change."""
        offer = self.offer(amount_yen)
        with self._lock:
            for source in self._sources:
                source.accept_only(offer.accepted)
                source.sync()
            self._offer, self._credited = offer, 0
            for source in self._sources:
                source.set_accepting(True)
        return offer

    def poll(self) -> list[PaymentEvent]:
        """What happened since the last poll. Each coin is credited once, however many
        polls were missed (the devices number their events); a lost device is an event.
        A PaymentProtocolError loses nothing: what was read comes with the next poll."""
        with self._lock:
            try:
                self._read_events()
                if self._offer and self._credited >= self._offer.due:
                    self._inhibit()  # paid: take no more before the kiosk calls stop()
            except PaymentDeviceLost as exc:
                self._pending.append(DeviceLost(str(exc)))
            events, self._pending = self._pending, []
        return events

    def stop(self) -> None:
        """Close the payment: the mechanisms give back anything inserted from now on.
        A coin already past the gate can still be credited: poll once more after this."""
        with self._lock:
            self._inhibit()

    def pay_out(self, amount_yen: int) -> Payout:
        """Pay change from the hoppers, largest coins first. A hopper that comes up short
        is left out and the rest re-planned with the others; what could not be paid,
        and why, is in the Payout (never raised: coins may already have come out)."""
        with self._lock:
            return self._pay_out(amount_yen)

    def refund(self, amount_yen: int) -> Payout:
        """Give back what the resident inserted (the kiosk's sum of Credit events)."""
        self.stop()
        return self.pay_out(amount_yen)

    # --- inside the lock -----------------------------------------------------------

    def _inhibit(self) -> None:
        for source in self._sources:
            source.set_accepting(False)
        self._offer = None

    def _levels(self) -> list[HopperLevel]:
        return [self._hoppers[d].level() for d in sorted(self._hoppers)]

    def _available(self) -> dict[int, int]:
        return {level.denomination: level.coins for level in self._levels()}

    def _read_events(self) -> None:
        for source, classify in ((self._coins, coin_event), (self._notes, bill_event)):
            if source is None:
                continue
            pairs, lost = source.read()
            if lost:
                self._pending.append(EventsLost(source.device, lost))
            for a, b in pairs:
                if source is self._notes and a and b == cctalk.BILL_IN_ESCROW:
                    self._route_note(a)
                elif event := classify(a, b, source.values):
                    self._pending.append(event)
                    if isinstance(event, Credit):
                        self._credited += event.value

    def _route_note(self, position: int) -> None:
        """A note waits in escrow: stack it only if it is still wanted and changeable."""
        wanted = (
            self._offer is not None
            and self._credited < self._offer.due
            and self._notes.values.get(position) in self._offer.accepted
        )
        self._notes.route_bill(cctalk.ROUTE_STACK if wanted else cctalk.ROUTE_RETURN)

    def _pay_out(self, amount: int) -> Payout:
        paid: Counter[int] = Counter()
        problems: list[str] = []
        try:
            levels = self._available()
            while plan := plan_payout(amount - value_of(paid), levels)[0]:
                denomination = max(plan)
                count = min(plan[denomination], MAX_DISPENSE)
                got, problem = self._hoppers[denomination].dispense(count, timeout=2 + count * SECONDS_PER_COIN)
                paid[denomination] += got
                levels[denomination] -= got
                if problem:
                    problems.append(f"{denomination}-yen hopper: {problem}")
                    levels[denomination] = 0  # not trusted again in this payout
        except PaymentError as exc:
            problems.append(f"payout stopped: {exc}")
        shortfall = amount - value_of(paid)
        if shortfall and not problems:
            problems.append(f"the hoppers hold no coins to make the last {shortfall} yen")
        return Payout(amount, dict(paid), tuple(problems))
