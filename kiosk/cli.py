"""`kiosk`: run the kiosk from a config file (`kiosk run`) or on its embedded
defaults with the local issuance stub (`kiosk demo`)."""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

from kiosk.clock import WallClock
from kiosk.i18n import LANGUAGES
from kiosk.log_setup import configure as configure_logging

EXIT_PRINTED, EXIT_NOT_PRINTED, EXIT_CONFIG = 0, 2, 3


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_faults(parser: argparse.ArgumentParser, faults: list[str]) -> None:
    """Checked in the demo only: the stub (350 ms of imports) is no part of `kiosk run`."""
    from municipal.service import KNOWN_FAULTS

    unknown = sorted(set(faults) - KNOWN_FAULTS)
    if unknown:
        parser.error(f"argument --fault: unknown {', '.join(unknown)} "
                     f"(choose from {', '.join(sorted(KNOWN_FAULTS))})")


def run_kiosk(config, *, headless: bool, autopilot_pin: str | None, out_dir: Path | None,
              documents: tuple[str, ...] = ("residence_record",), cancel_payment: bool = False,
              keyboard_hand: bool = False, clock: WallClock = WallClock.real()) -> int:
    """Runs the UI until it is closed, or until the autopilot finishes its session.
    `keyboard_hand` (the demo only) lets the keyboard insert coins and pull the card on the
    simulated devices; a real kiosk's USB keyboard must never do that."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame  # after SDL's environment is set

    from kiosk.app import run_loop
    from kiosk.autopilot import Autopilot, Hand
    from kiosk.event_queue import post
    from kiosk.maintenance.setup import maintenance_mode
    from kiosk.states import Machine
    from kiosk.service_watch import ServiceWatch
    from kiosk.wiring import devices, issuance_client
    import time

    pygame.display.init()
    pygame.font.init()
    flags = pygame.FULLSCREEN if config.fullscreen and not headless else 0
    surface = pygame.display.set_mode(config.screen_size, flags)
    pygame.display.set_caption("Certificate kiosk")
    from devices.payment import PaymentError

    try:
        worker, card_monitor = devices(config, post, clock)
    except (OSError, ValueError, PaymentError) as exc:  # unreadable card file, certificate or key; no acceptor
        pygame.quit()
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    worker.reconcile()  # paid sessions a power cut left open: finished before any new payment (kiosk.reconcile)
    machine = Machine(worker, language=config.language, inactivity_timeout_s=config.inactivity_timeout_s,
                      now=time.monotonic(), clock=clock)
    pilot = None
    hand = Hand(payment=getattr(worker, "payment", None), card=getattr(card_monitor, "transport", None))
    if autopilot_pin is not None:  # asked for on the command line: it pays with its own hand
        pilot = Autopilot(autopilot_pin, out_dir, documents, hand=hand, cancel_payment=cancel_payment,
                          watched=not headless)
    watch = ServiceWatch(issuance_client(config.issuance), post)
    try:
        maintenance = maintenance_mode(config, machine, worker, card_monitor)
    except OSError as exc:  # the staff records' folder cannot be written
        worker.shutdown()
        pygame.quit()
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    card_monitor.start()
    watch.start()
    try:
        run_loop(machine, surface, pilot, maintenance, hand if keyboard_hand else None,
                 demo_devices=bool(config.demo_devices))
    finally:
        watch.stop()
        card_monitor.stop()
        if maintenance is not None:  # before the worker: staff signed out, records written
            maintenance.shutdown()
        worker.shutdown()
        pygame.quit()
    if pilot is None:
        return EXIT_PRINTED
    print(f"autopilot: {pilot.outcome}; screenshots in {out_dir}")
    return EXIT_PRINTED if pilot.outcome == "printed" else EXIT_NOT_PRINTED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("demo", "embedded defaults: local stub, virtual card, PDFs into a folder"),
                           ("run", "run with a configuration file")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--headless", action="store_true", help="no window (SDL dummy video driver)")
        p.add_argument("--autopilot", action="store_true", help="drive a whole session by touch events")
        p.add_argument("--out", type=Path, default=Path("out"), help="screenshots and printed PDFs")
        p.add_argument("--pin", help="what the autopilot types")
        p.add_argument("--document", action="append", dest="documents", metavar="TYPE",
                       help="what the autopilot gets, in order (default: residence_record; in the demo,"
                            " the resident's own, README \"Demo residents\")")
        p.add_argument("--cancel-payment", action="store_true",
                       help="the autopilot inserts a coin, then cancels the payment")
    demo, run = sub.choices["demo"], sub.choices["run"]
    demo.add_argument("--resident", default="R0001",
                      help="whose virtual card is on the reader (README, \"Demo residents\")")
    demo.add_argument("--data", type=Path, default=Path("var/embedded"), help="the stub's data folder")
    demo.add_argument("--reset", action="store_true", help="recreate the stub's PKI, registry and cards")
    demo.add_argument("--fault", action="append", default=[], metavar="NAME",
                      help="test only: make the stub misbehave (municipal.service.KNOWN_FAULTS)")
    when = demo.add_mutually_exclusive_group()
    when.add_argument("--real-calendar", action="store_true",
                      help="run the real clock even outside the service hours (default: play a weekday"
                           " morning then; README, \"Service hours\")")
    when.add_argument("--at", metavar="ISO", help="play this moment (Japan time unless it names a zone),"
                      " e.g. 2026-12-07T10:00; the kiosk and the embedded center share the clock")
    demo.add_argument("--language", choices=sorted(LANGUAGES), default="ja")
    demo.add_argument("--paper-sheets", type=int, metavar="N",
                      help="sheets in the folder printer's tray, so the paper can run out mid-job")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--clock-offset-s", type=float, default=0.0, metavar="SECONDS",
                     help="lab only: the wall clock this far from the real one, the same number as"
                          " `kiosk-municipal serve --clock-offset-s`; a real kiosk never sets it")
    selftest = sub.add_parser("selftest", help="check every device headless; exit 0 only if all pass")
    selftest.add_argument("--config", type=Path, help="default: the embedded defaults, with the stub started")
    selftest.add_argument("--test-page", action="store_true", help="also print a test page")
    selftest.add_argument("--data", type=Path, default=Path("var/embedded"), help="the stub's data folder")
    selftest.add_argument("--out", type=Path, default=Path("out"), help="the embedded print folder's parent")
    gallery = sub.add_parser("gallery", help="every screen in every language, as PNGs and one HTML page")
    gallery.add_argument("--out", type=Path, default=Path("out/gallery"))
    gallery.add_argument("--panel", choices=["7in", "15in"], default="7in")
    gallery.add_argument("--language", action="append", dest="languages", choices=sorted(LANGUAGES))
    gallery.add_argument("--large-text", action="store_true")
    gallery.add_argument("--high-contrast", action="store_true")
    sub.add_parser("staff-pin", help="print the config line for a new staff PIN (read without echo)")
    args = parser.parse_args(argv)
    configure_logging()  # the journal with structured fields under systemd, else stderr

    if args.command == "gallery":
        from kiosk.gallery import build_gallery
        logging.getLogger("kiosk.states").setLevel(logging.WARNING)  # the catalogue's walks are not news
        index = build_gallery(args.out, panel=args.panel, languages=args.languages,
                              large_text=args.large_text, high_contrast=args.high_contrast)
        print(f"gallery: {index}")
        return 0

    if args.command == "selftest":
        from kiosk.selftest import selftest as run_selftest
        return run_selftest(args.config, test_page=args.test_page, data_dir=args.data, out_dir=args.out)

    if args.command == "staff-pin":
        from kiosk.maintenance.setup import staff_pin_command
        return staff_pin_command()

    from kiosk.config import ConfigError, demo_devices_notice, load_config

    if args.command == "run":
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            print(f"kiosk: invalid configuration: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if args.autopilot and not args.pin:
            parser.error("--autopilot needs --pin with `kiosk run`")
        notice = demo_devices_notice(config, str(args.config))
        if notice:
            print(notice, file=sys.stderr)
        return run_kiosk(config, headless=args.headless, autopilot_pin=args.pin if args.autopilot else None,
                         out_dir=args.out, documents=tuple(args.documents or ("residence_record",)),
                         cancel_payment=args.cancel_payment,
                         clock=WallClock(dt.timedelta(seconds=args.clock_offset_s)))

    from kiosk.embedded import demo_card, embedded_config, ensure_stub_data, free_port, running_stub
    _check_faults(parser, args.fault)

    headless, autopilot = args.headless, args.autopilot
    if not headless and not _has_display():
        print("kiosk: no display found, so running the headless autopilot "
              f"(screenshots and the printed PDF go to {args.out})")
        headless = autopilot = True
    from kiosk.demo_clock import demo_clock, japan_time

    try:
        at = japan_time(args.at) if args.at else None
    except ValueError:
        demo.error(f"argument --at: not an ISO date and time: {args.at}")
    ensure_stub_data(args.data, reset=args.reset)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        card = demo_card(args.data, args.resident, args.pin)
    except LookupError as exc:  # a resident without a card, or a typo
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    played = demo_clock(args.data, real_calendar=args.real_calendar, at=at)
    if played.note:
        print(played.note)
    with running_stub(args.data, free_port(), tuple(args.fault), log_file=args.out / "issuance-stub.log",
                      clock=played.clock) as url:
        if args.paper_sheets is not None and args.paper_sheets < 0:
            parser.error("--paper-sheets cannot be negative")
        paper = {"printer": {"paper_sheets": args.paper_sheets}} if args.paper_sheets is not None else {}
        config = embedded_config(args.data, url, args.resident, args.out / "printed", language=args.language,
                                 **paper)
        return run_kiosk(config, headless=headless, autopilot_pin=card.pin if autopilot else None, out_dir=args.out,
                         documents=tuple(args.documents or card.documents),
                         cancel_payment=args.cancel_payment, keyboard_hand=True, clock=played.clock)


if __name__ == "__main__":
    sys.exit(main())
