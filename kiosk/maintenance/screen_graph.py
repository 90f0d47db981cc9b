"""Maintenance mode's screens and the ways between them, declared as a table like the
resident's (kiosk/states.py): each row (screen, what happened) names its handler and
every screen the handler may lead to. Built once at import, where it is checked that
every screen can be reached from the PIN pad and can get back to closed, so no staff
member is ever stuck and no screen is left over.

What happened is a tap's kind (the part of its action before ":"), or one of the
events below, which come from worker results and the idle limit rather than a finger.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable

from kiosk.graph_check import graph_gaps

if TYPE_CHECKING:
    from kiosk.maintenance.mode import MaintenanceMode


class Screen(Enum):
    CLOSED = "closed"  # maintenance mode not shown: the resident's screens are
    PIN = "pin"
    STATUS = "status"  # the devices
    TODAY = "today"
    ACTIONS = "actions"
    COLLECT = "collect"
    SERVICE = "service"
    CONFIRM = "confirm"  # restart or shut down, waiting for Yes
    WORKING = "working"  # a device job under way
    RESULT = "result"


# Events that are not taps.
GESTURE = "gesture"  # the corner gesture on the welcome screen
CHECKED = "checked"  # the staff PIN was checked
DONE = "done"  # a device job finished with something to say
IDLE = "idle"  # nobody touched the screen for the idle limit


@dataclass(frozen=True)
class Row:
    handler: Callable[[MaintenanceMode, str], Screen | None]  # (mode, tap action or event) -> next screen
    targets: frozenset[Screen]


def row(handler, *targets: Screen) -> Row:
    return Row(handler, frozenset(targets))


def _open(m: MaintenanceMode, _: str) -> Screen:
    return m.open()


def _close(why: str):
    def close(m: MaintenanceMode, _: str) -> Screen:
        return m.close(why)
    return close


def _pin_key(m: MaintenanceMode, action: str) -> None:
    m.sign_in.type(action)


def _checked(m: MaintenanceMode, _: str) -> Screen | None:
    return m.after_sign_in()


def _goto(m: MaintenanceMode, action: str) -> Screen | None:
    """A button that only changes screens; one the current screen cannot lead to is a
    stale tap, meant for a screen that has just been replaced, and is ignored."""
    try:
        screen = Screen(action.split(":", 1)[1])
    except ValueError:
        return None
    return m.enter(screen) if screen in TABLE[m.screen, "goto"].targets else None


def _job(m: MaintenanceMode, action: str) -> Screen:
    """A device job: its own screen while it runs (a re-check shows on the device
    screen), or a result saying another one is still running."""
    return m.run(action)


def _ask(m: MaintenanceMode, action: str) -> Screen:
    m.confirming, m.notice = action, None
    return Screen.CONFIRM


def _confirmed(m: MaintenanceMode, action: str) -> Screen:
    what, m.confirming = m.confirming, None
    return m.run(what) if action == "yes" else Screen.ACTIONS


def _out_of_service(m: MaintenanceMode, action: str) -> Screen | None:
    return m.out_of_service(action.split(":", 1)[1])


def _back_in_service(m: MaintenanceMode, _: str) -> Screen | None:
    return m.back_in_service()


def _result(m: MaintenanceMode, _: str) -> Screen:
    return Screen.RESULT


S = Screen
TABLE: dict[tuple[Screen, str], Row] = {
    (S.CLOSED, GESTURE): row(_open, S.PIN),
    (S.PIN, "digit"): row(_pin_key),
    (S.PIN, "clear"): row(_pin_key),
    (S.PIN, "ok"): row(_pin_key),
    (S.PIN, CHECKED): row(_checked, S.STATUS),
    (S.PIN, "cancel"): row(_close("cancelled"), S.CLOSED),
    (S.STATUS, "recheck"): row(_job, S.STATUS, S.RESULT),
    (S.STATUS, "goto"): row(_goto, S.TODAY, S.ACTIONS),
    (S.STATUS, "exit"): row(_close("exit"), S.CLOSED),
    (S.TODAY, "goto"): row(_goto, S.STATUS, S.ACTIONS),
    (S.TODAY, "exit"): row(_close("exit"), S.CLOSED),
    (S.ACTIONS, "test_print"): row(_job, S.WORKING, S.RESULT),
    (S.ACTIONS, "paper_refilled"): row(_job, S.WORKING, S.RESULT),
    (S.ACTIONS, "restart"): row(_ask, S.CONFIRM),
    (S.ACTIONS, "shutdown"): row(_ask, S.CONFIRM),
    (S.ACTIONS, "goto"): row(_goto, S.COLLECT, S.SERVICE, S.STATUS),
    (S.COLLECT, "collect_cash"): row(_job, S.WORKING, S.RESULT),
    (S.COLLECT, "goto"): row(_goto, S.ACTIONS),
    (S.SERVICE, "out_of_service"): row(_out_of_service, S.RESULT),
    (S.SERVICE, "back_in_service"): row(_back_in_service, S.RESULT),
    (S.SERVICE, "goto"): row(_goto, S.ACTIONS),
    (S.CONFIRM, "yes"): row(_confirmed, S.WORKING, S.RESULT),
    (S.CONFIRM, "no"): row(_confirmed, S.ACTIONS),
    (S.WORKING, "goto"): row(_goto, S.ACTIONS),
    (S.RESULT, "goto"): row(_goto, S.ACTIONS),
}
SIGNED_IN = set(Screen) - {S.CLOSED, S.PIN}
for _screen in SIGNED_IN:
    TABLE[_screen, DONE] = row(_result, S.RESULT)  # a job's result shows wherever staff are
for _screen in SIGNED_IN | {S.PIN}:
    TABLE[_screen, IDLE] = row(_close("idle_timeout"), S.CLOSED)


def check_graph(table: dict[tuple[Screen, str], Row]) -> None:
    """Every screen is reached from the PIN pad and can get back to closed."""
    unreached, stuck = graph_gaps(table, Screen, Screen.PIN, Screen.CLOSED)
    if unreached or stuck:
        raise AssertionError(f"maintenance screens not reached from the PIN pad: {sorted(s.value for s in unreached)}; "
                             f"with no way back to closed: {sorted(s.value for s in stuck)}")


check_graph(TABLE)
