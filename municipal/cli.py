"""`kiosk-municipal`: create the stub's PKI, registry and virtual cards; serve the API."""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from municipal.pki import CardHolder, CardPins, cert_sha256, issue_card
from municipal.registry import load_seed
from municipal.service import KNOWN_FAULTS, ServiceConfig

SEED = Path(__file__).with_name("seed") / "residents.toml"
_ISO_5218 = {"男": "1", "女": "2"}

def card_path(data_dir: Path, resident_id: str) -> Path:
    return Path(data_dir) / "cards" / f"{resident_id}.card"

def init(data_dir: Path, terminal_id: str, seed_path: Path = SEED) -> None:
    """Create everything from nothing: PKI, registry from the seed, one card file per
    seeded card. Refuses to overwrite an existing installation."""
    data_dir = Path(data_dir)
    if (data_dir / "registry.sqlite").exists():
        raise FileExistsError(f"{data_dir} already holds an issuance stub; remove it first")
    seed = load_seed(seed_path)
    holders = card_holders(seed)
    config = ServiceConfig(data_dir)
    config.pki.create(terminal_id)
    registry = config.registry
    registry.create(seed)
    auth_ca, signature_ca = config.pki.load("jpki-auth-ca"), config.pki.load("jpki-sign-ca")
    (data_dir / "cards").mkdir(parents=True, exist_ok=True)
    for entry in seed["cards"]:
        pins = CardPins(auth_pin=entry["pin"], signature_password=entry["signature_password"],
                        card_info_pin=entry["card_info_pin"])
        card = issue_card(auth_ca, signature_ca, holders[entry["resident"]], pins,
                          card_id=f"CARD-{entry['resident']}", path=card_path(data_dir, entry["resident"]))
        registry.register_card(cert_sha256(card.auth_certificate_der), entry["resident"], card.card_id)

def card_holders(seed: dict) -> dict[str, CardHolder]:
    """Each seeded resident as J-LIS would write them on a card; sex as ISO 5218."""
    return {
        member["id"]: CardHolder(name=member["name"], address=household["address"],
                                 birth_date=member["birth_date"], sex=_ISO_5218.get(member["sex"], "9"),
                                 my_number=member["my_number"])
        for household in seed["households"] for member in household["members"]
    }

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-municipal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

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

    from municipal.server import serve  # uvicorn only when serving
    serve(ServiceConfig(args.dir, frozenset(args.fault)), args.host, args.port)
    return 0

if __name__ == "__main__":
    sys.exit(main())
