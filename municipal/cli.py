"""`kiosk-municipal`: create the stub's PKI, registry and virtual cards; serve the API."""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

from cryptography import x509

from devices.card.cardfile import CardFile
from municipal.housekeeping import AUDIT_RETENTION_DAYS
from municipal.log_format import configure_logging
from municipal.pki import JST, CardHolder, CardPins, cert_sha256, issue_card
from municipal.registry import load_seed
from municipal.revocation import revoke_resident_card, revoke_terminal
from municipal.service import KNOWN_FAULTS, PRINT_DEADLINE_S, ServiceConfig
from municipal.terminals import issue_registered_terminal, register_terminal

SEED = Path(__file__).with_name("seed") / "residents.toml"
_ISO_5218 = {"男": "1", "女": "2"}

def card_path(data_dir: Path, resident_id: str) -> Path:
    return Path(data_dir) / "cards" / f"{resident_id}.card"

def init(data_dir: Path, terminal_id: str, seed: dict | None = None) -> None:
    """Create everything from nothing: PKI, registry from the seed (default: the
    shipped residents.toml) with the terminal registered, one card file per seeded
    card. Refuses to overwrite an existing installation."""
    data_dir = Path(data_dir)
    if (data_dir / "registry.sqlite").exists():
        raise FileExistsError(f"{data_dir} already holds an issuance stub; remove it first")
    seed = load_seed(SEED) if seed is None else seed
    holders = card_holders(seed)
    config = ServiceConfig(data_dir)
    config.pki.create(terminal_id, {m["code"]: m["name"] for m in seed["municipalities"]})
    registry = config.registry
    registry.create(seed)
    register_terminal(registry, config.pki.load("terminal").cert)
    auth_ca, signature_ca = config.pki.load("jpki-auth-ca"), config.pki.load("jpki-sign-ca")
    (data_dir / "cards").mkdir(parents=True, exist_ok=True)
    today = dt.datetime.now(JST).date()
    for entry in seed["cards"]:
        pins = CardPins(auth_pin=entry["pin"], signature_password=entry["signature_password"],
                        card_info_pin=entry["card_info_pin"])
        card = issue_card(auth_ca, signature_ca, holders[entry["resident"]], pins,
                          card_id=f"CARD-{entry['resident']}", path=card_path(data_dir, entry["resident"]))
        registry.register_card(cert_sha256(card.auth_certificate_der), entry["resident"], card.card_id,
                               entry.get("issued_on", seed.get("cards_issued_on", today)))
        if "revoked" in entry:  # e.g. a deceased resident's card
            revoke_resident_card(registry, card, entry["resident"], x509.ReasonFlags(entry["revoked"]))

def card_holders(seed: dict) -> dict[str, CardHolder]:
    """Each seeded resident as J-LIS would write them on a card; sex as ISO 5218."""
    return {
        member["id"]: CardHolder(name=member["name"], address=household["address"],
                                 birth_date=member["birth_date"], sex=_ISO_5218.get(member["sex"], "9"),
                                 my_number=member["my_number"])
        for household in seed["households"] for member in household["members"]
    }

# removeFromCRL belongs to delta CRLs only (RFC 5280 5.3.1)
_REASONS = [flag.value for flag in x509.ReasonFlags if flag is not x509.ReasonFlags.remove_from_crl]

def _add_revocation_commands(sub) -> None:
    p = sub.add_parser("revoke-card", help="revoke both certificates of a resident's card")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--resident", required=True, help="resident id, e.g. R0001")
    p.add_argument("--reason", choices=_REASONS, default="unspecified")
    p = sub.add_parser("revoke-terminal", help="refuse a kiosk terminal id from its next request on"
                       " and take it off the list of terminals")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--terminal-id", required=True)
    p.add_argument("--reason", choices=_REASONS, default="unspecified")
    p = sub.add_parser("issue-terminal", help="issue and register another kiosk terminal's certificate and key")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--terminal-id", required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for <terminal-id>.pem and .key")

def _installed(data_dir: Path) -> ServiceConfig:
    """The stub in data_dir; refuses a folder without one, where SQLite would quietly
    create an empty registry."""
    if not (Path(data_dir) / "registry.sqlite").exists():
        raise FileNotFoundError(f"{data_dir} holds no issuance stub; run `kiosk-municipal init` first")
    return ServiceConfig(data_dir)

def _revoke_card(args) -> str:
    registry = _installed(args.dir).registry
    card = CardFile.load(card_path(args.dir, args.resident))
    count = revoke_resident_card(registry, card, args.resident, x509.ReasonFlags(args.reason))
    return f"revoked {count} certificate(s) of the card of {args.resident}"

def _revoke_terminal(args) -> str:
    done = revoke_terminal(_installed(args.dir).registry, args.terminal_id, x509.ReasonFlags(args.reason))
    return f"terminal {args.terminal_id} {'revoked' if done else 'was already revoked'}"

def _issue_terminal(args) -> str:
    config = _installed(args.dir)
    cert, key = issue_registered_terminal(config.pki, config.registry, args.terminal_id, args.out)
    return f"terminal {args.terminal_id}: {cert} {key}"

_REVOCATION_COMMANDS = {"revoke-card": _revoke_card, "revoke-terminal": _revoke_terminal,
                        "issue-terminal": _issue_terminal}

def _run_revocation_command(args) -> int:
    try:
        print(_REVOCATION_COMMANDS[args.command](args))
    except (OSError, ValueError, LookupError) as exc:
        print(f"kiosk-municipal: {exc}", file=sys.stderr)
        return 1
    return 0

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-municipal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_revocation_commands(sub)
    p_init = sub.add_parser("init", help="create PKI, registry and virtual card files")
    p_init.add_argument("--dir", type=Path, required=True)
    p_init.add_argument("--terminal-id", default="KIOSK-0001")
    p_init.add_argument("--force", action="store_true", help="remove an existing installation first")
    p_serve = sub.add_parser("serve", help="serve the issuance API over mutual TLS")
    p_serve.add_argument("--dir", type=Path, required=True)
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8443)
    p_serve.add_argument("--fault", action="append", default=[], choices=sorted(KNOWN_FAULTS),
                         help="test only: misbehave on purpose")
    p_public = sub.add_parser("serve-public", help="serve the public certificate verification site (HTTPS)")
    p_public.add_argument("--dir", type=Path, required=True)
    p_public.add_argument("--host", default="127.0.0.1")
    p_public.add_argument("--port", type=int, default=8444)
    p_serve.add_argument("--render-processes", type=int, default=0, metavar="N",
                         help="render certificates in N worker processes (default: on the event loop)")
    p_serve.add_argument("--print-deadline-s", type=float, default=PRINT_DEADLINE_S,
                         help="an issuance not confirmed printed within this is voided")
    p_serve.add_argument("--audit-retention-days", type=float, default=AUDIT_RETENTION_DAYS, metavar="N",
                         help=f"audit rows older than this are deleted (default {AUDIT_RETENTION_DAYS:g})")
    p_serve.add_argument("--clock-offset-s", type=float, default=0.0, metavar="SECONDS",
                         help="run the wall clock (hours, certificate dates, manifest times) this far ahead"
                              " of the real one, or behind it if negative; the demo's kiosk passes its own")
    args = parser.parse_args(argv)
    configure_logging()

    if args.command in _REVOCATION_COMMANDS:
        return _run_revocation_command(args)
    if args.command == "init":
        if args.force and args.dir.exists():
            shutil.rmtree(args.dir)
        try:
            init(args.dir, args.terminal_id)
        except FileExistsError as exc:
            print(f"kiosk-municipal: {exc}", file=sys.stderr)
            return 1
        print(f"issuance stub created in {args.dir}")
        return 0

    if args.command == "serve-public":
        from municipal.public_site import serve_public
        serve_public(ServiceConfig(args.dir), args.host, args.port)
        return 0
    if args.command == "serve":
        from municipal.server import serve  # uvicorn only when serving
        serve(ServiceConfig(args.dir, frozenset(args.fault), clock_offset=dt.timedelta(seconds=args.clock_offset_s),
                            print_deadline_s=args.print_deadline_s, render_processes=max(0, args.render_processes),
                            audit_retention_days=args.audit_retention_days),
              args.host, args.port)
        return 0

if __name__ == "__main__":
    sys.exit(main())
