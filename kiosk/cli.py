"""`kiosk`: run the kiosk from a config file (`kiosk run`) or on its embedded
defaults with the local issuance stub (`kiosk demo`)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from kiosk.i18n import LANGUAGES
from kiosk.log_setup import configure as configure_logging
from municipal.service import KNOWN_FAULTS

EXIT_PRINTED, EXIT_NOT_PRINTED, EXIT_CONFIG = 0, 2, 3


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_kiosk(config, *, headless: bool, autopilot_pin: str | None, out_dir: Path | None,
              documents: tuple[str, ...] = ("residence_record",), cancel_payment: bool = False) -> int:
    """Runs the UI until it is closed, or until the autopilot finishes its session."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame  # after SDL's environment is set

    from kiosk.app import run_loop
    from kiosk.autopilot import Autopilot, Hand
    from kiosk.events import post
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
        worker, card_monitor = devices(config, post)
    except (OSError, ValueError, PaymentError) as exc:  # unreadable card file, certificate or key; no acceptor
        pygame.quit()
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    worker.reconcile()  # paid sessions a power cut left open: finished before any new payment (kiosk.reconcile)
    machine = Machine(worker, language=config.language, inactivity_timeout_s=config.inactivity_timeout_s,
                      now=time.monotonic())
    pilot = None
    hand = Hand(payment=getattr(worker, "payment", None), card=getattr(card_monitor, "transport", None))
    if autopilot_pin is not None:
        pilot = Autopilot(autopilot_pin, out_dir, documents, hand=hand, cancel_payment=cancel_payment)
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
        run_loop(machine, surface, pilot, maintenance, hand)
    finally:
        watch.stop()
        card_monitor.stop()
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
                       help="what the autopilot gets, in order (default: residence_record)")
        p.add_argument("--cancel-payment", action="store_true",
                       help="the autopilot inserts a coin, then cancels the payment")
    demo, run = sub.choices["demo"], sub.choices["run"]
    demo.add_argument("--resident", default="R0001", help="whose virtual card is on the reader")
    demo.add_argument("--data", type=Path, default=Path("var/embedded"), help="the stub's data folder")
    demo.add_argument("--reset", action="store_true", help="recreate the stub's PKI, registry and cards")
    demo.add_argument("--fault", action="append", default=[], choices=sorted(KNOWN_FAULTS),
                      help="test only: make the stub misbehave")
    demo.add_argument("--stub-pretend-now", metavar="ISO",
                      help="test only: the stub's municipal calendar starts at this moment (Japan time)")
    demo.add_argument("--language", choices=sorted(LANGUAGES), default="ja")
    demo.add_argument("--paper-sheets", type=int, metavar="N",
                      help="sheets in the folder printer's tray, so the paper can run out mid-job")
    run.add_argument("--config", type=Path, required=True)
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

    from kiosk.config import ConfigError, load_config

    if args.command == "run":
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            print(f"kiosk: invalid configuration: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if args.autopilot and not args.pin:
            parser.error("--autopilot needs --pin with `kiosk run`")
        return run_kiosk(config, headless=args.headless, autopilot_pin=args.pin if args.autopilot else None,
                         out_dir=args.out, documents=tuple(args.documents or ("residence_record",)),
                         cancel_payment=args.cancel_payment)

    from kiosk.embedded import embedded_config, ensure_stub_data, free_port, running_stub, seeded_pin

    headless, autopilot = args.headless, args.autopilot
    if not headless and not _has_display():
        print("kiosk: no display found, so running the headless autopilot "
              f"(screenshots and the printed PDF go to {args.out})")
        headless = autopilot = True
    ensure_stub_data(args.data, reset=args.reset)
    args.out.mkdir(parents=True, exist_ok=True)
    pin = args.pin or seeded_pin(args.resident)
    with running_stub(args.data, free_port(), tuple(args.fault), log_file=args.out / "issuance-stub.log",
                      pretend_now=args.stub_pretend_now) as url:
        if args.paper_sheets is not None and args.paper_sheets < 0:
            parser.error("--paper-sheets cannot be negative")
        paper = {"printer": {"paper_sheets": args.paper_sheets}} if args.paper_sheets is not None else {}
        config = embedded_config(args.data, url, args.resident, args.out / "printed", language=args.language,
                                 **paper)
        return run_kiosk(config, headless=headless, autopilot_pin=pin if autopilot else None, out_dir=args.out,
                         documents=tuple(args.documents or ("residence_record",)),
                         cancel_payment=args.cancel_payment)


if __name__ == "__main__":
    sys.exit(main())
