"""Builds maintenance mode for the running kiosk, and the `kiosk staff-pin` command."""
from __future__ import annotations

import getpass
import sqlite3
import sys

from kiosk.config import KioskConfig
from kiosk.maintenance.staff_pin import MAX_DIGITS, MIN_DIGITS, hash_pin, valid_pin
from kiosk.states import Machine


def maintenance_mode(config: KioskConfig, machine: Machine, worker=None, card_monitor=None):
    """Maintenance mode on the devices and journal the running kiosk holds open (a
    serial port opens once; a simulated payment device keeps its cash), or on its own
    when none is given; None without a [maintenance] section."""
    if config.maintenance is None:
        return None
    from kiosk.device_checks import run_checks
    from kiosk.journal import Journal
    from kiosk.maintenance.mode import MaintenanceMode
    from kiosk.wiring import document_printer, receipt_printer

    # The in-process monitor holds the virtual card; over PC/SC the check connects itself.
    card = getattr(card_monitor, "transport", None)
    payment = worker.payment if worker is not None else None
    journal = worker.journal if worker is not None else Journal(config.journal)
    printer = worker.printer if worker is not None else document_printer(config.printer)
    receipts = worker.receipt_printer if worker is not None else receipt_printer(config.receipt_printer)
    try:
        return MaintenanceMode(
            config.maintenance, machine, terminal_id=config.terminal_id, screen_size=config.screen_size,
            checks=lambda: run_checks(config, card=card, payment=payment, printer=printer),
            printer=printer, printer_timeout_s=config.printer.timeout_s, journal=journal, receipt_printer=receipts,
            refill_paper=worker.paper_refilled if worker is not None else None,
            language="en" if config.language == "en" else "ja")
    except (OSError, sqlite3.Error) as exc:
        raise OSError(f"maintenance.state_dir {config.maintenance.state_dir}: cannot keep the staff records "
                      f"there: {exc}") from exc


def staff_pin_command() -> int:
    """Reads a new staff PIN twice without echo and prints the config line for it."""
    pin = getpass.getpass(f"New staff PIN ({MIN_DIGITS} to {MAX_DIGITS} digits): ")
    if not valid_pin(pin):
        print(f"kiosk staff-pin: a staff PIN is {MIN_DIGITS} to {MAX_DIGITS} digits", file=sys.stderr)
        return 2
    if getpass.getpass("The same PIN again: ") != pin:
        print("kiosk staff-pin: the two PINs differ; nothing was printed", file=sys.stderr)
        return 2
    print("# in the [maintenance] section of the kiosk's TOML file")
    print(f'staff_pin_hash = "{hash_pin(pin)}"')
    return 0
