"""The kiosk's configuration: one TOML file, validated once at start.

A broken file stops the kiosk with a message naming the key and the problem, never
a traceback in front of a resident.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardConfig(_Section):
    transport: Literal["inprocess", "pcsc"]
    card_file: Path | None = None  # the virtual card, for the in-process transport
    reader: str = "Virtual PCD"  # substring of the PC/SC reader name

    @model_validator(mode="after")
    def _card_file_for_inprocess(self):
        if self.transport == "inprocess" and self.card_file is None:
            raise ValueError("card_file is required when transport = \"inprocess\"")
        return self


class IssuanceConfig(_Section):
    url: str
    ca_cert: Path
    client_cert: Path
    client_key: Path
    manifest_signer_cert: Path
    timeout_s: float = Field(15.0, gt=0)


class PrinterConfig(_Section):
    kind: Literal["folder", "cups"]
    directory: Path | None = None
    queue: str | None = None
    timeout_s: float = Field(120.0, gt=0)
    paper_sheets: int | None = Field(None, ge=0)  # folder only: sheets in the tray (none: never runs out)
    seconds_per_sheet: float = Field(0.0, ge=0)  # folder only: how fast the "paper" moves
    reprint_wait_s: float = Field(180.0, ge=0)  # paper out mid-job: wait this long for a refill, then refund

    @model_validator(mode="after")
    def _target(self):
        if self.kind == "folder" and self.directory is None:
            raise ValueError("directory is required when kind = \"folder\"")
        if self.kind == "cups" and not self.queue:
            raise ValueError("queue is required when kind = \"cups\"")
        return self


class PaymentConfig(_Section):
    kind: Literal["simulated", "cctalk"]
    port: str | None = None  # the ccTalk serial port, e.g. /dev/ttyUSB0
    echo: bool = False  # a single-wire ccTalk bus, where the host hears its own frames
    timeout_s: float = Field(120.0, gt=0)  # no coin for this long: the payment is cancelled and refunded

    @model_validator(mode="after")
    def _port(self):
        if self.kind == "cctalk" and not self.port:
            raise ValueError("port is required when kind = \"cctalk\"")
        return self


class ReceiptPrinterConfig(_Section):
    kind: Literal["escpos", "folder"]
    port: str | None = None  # the ESC/POS printer's serial port
    baudrate: int = 38400
    directory: Path | None = None  # folder: receipts as text files
    store_name: str = ""
    store_number: str = ""

    @field_validator("store_name", "store_number")
    @classmethod
    def _printable(cls, value: str) -> str:
        from printouts.receipt import cells
        cells(value)  # a character the receipt printer has not (outside Shift_JIS) stops the start, named
        return value

    @model_validator(mode="after")
    def _target(self):
        if self.kind == "escpos" and not self.port:
            raise ValueError("port is required when kind = \"escpos\"")
        if self.kind == "folder" and self.directory is None:
            raise ValueError("directory is required when kind = \"folder\"")
        return self


class MaintenanceConfig(_Section):
    """Staff maintenance mode; without this section the kiosk has none."""

    staff_pin_hash: str  # `kiosk staff-pin` prints it; never the PIN itself
    state_dir: Path  # lockout, audit log, fault list (maintenance.sqlite)
    max_tries: int = Field(5, ge=1)  # wrong staff PINs in a row before a lockout
    lockout_s: float = Field(900.0, gt=0)
    idle_timeout_s: float = Field(120.0, gt=0)  # untouched this long, it closes itself
    paper_tray_sheets: int = Field(500, gt=0)  # what "paper refilled" sets the counter to
    restart_command: tuple[str, ...] = ("systemctl", "restart", "kiosk")  # [] where there is none
    shutdown_command: tuple[str, ...] = ("systemctl", "poweroff")

    @field_validator("staff_pin_hash")
    @classmethod
    def _pin_hash(cls, value: str) -> str:
        from kiosk.maintenance.staff_pin import check_format
        return check_format(value)


# Each device section, the key that names its driver, and the driver that stands in for
# the hardware. Nothing defaults to a stand-in: a store must never run one by mistake,
# and when one is named every screen says so.
DEVICES = {"card": ("transport", "inprocess"), "printer": ("kind", "folder"), "payment": ("kind", "simulated"),
           "receipt_printer": ("kind", "folder")}


class KioskConfig(_Section):
    terminal_id: str
    language: str = "ja"  # one of kiosk.i18n.LANGUAGES
    screen_size: tuple[int, int] = (1024, 600)
    fullscreen: bool = False
    inactivity_timeout_s: float = Field(60.0, gt=0)
    card: CardConfig
    issuance: IssuanceConfig
    printer: PrinterConfig
    payment: PaymentConfig
    receipt_printer: ReceiptPrinterConfig  # a kiosk that takes cash hands out a receipt
    journal: Path = Path("var/kiosk-journal.sqlite")  # paid sessions, cash and paper (no personal data)
    maintenance: MaintenanceConfig | None = None

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from kiosk.i18n import LANGUAGES
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; one of {', '.join(LANGUAGES)}")
        return value

    @property
    def demo_devices(self) -> tuple[str, ...]:
        """The device sections that name a stand-in for hardware."""
        return tuple(section for section, (key, demo) in DEVICES.items()
                     if getattr(getattr(self, section), key) == demo)


class ConfigError(Exception):
    pass


def demo_devices_notice(config: KioskConfig, source: str) -> str | None:
    """One line for the terminal when the config names stand-ins for hardware."""
    if not config.demo_devices:
        return None
    return f"kiosk: demo devices named in {source}: {', '.join(config.demo_devices)} (every screen says so)"


def parse_config(data: dict, source: str = "config") -> KioskConfig:
    try:
        return KioskConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def _problem(error) -> str:
    """One problem, located; a device left unnamed says what may be written there."""
    loc = tuple(str(p) for p in error["loc"])
    where = ".".join(loc) or "(top level)"
    section = loc[0] if loc else None
    if error["type"] == "missing" and section in DEVICES and loc in ((section,), (section, DEVICES[section][0])):
        key, demo = DEVICES[section]
        model = KioskConfig.model_fields[section].annotation
        real = [kind for kind in get_args(model.model_fields[key].annotation) if kind != demo]
        choices = " or ".join(f'"{kind}"' for kind in real)
        return f'{where}: missing; every device must be named: [{section}] {key} = {choices} ' \
               f'(or "{demo}", a demo device)'
    return f"{where}: {error['msg']}"


def load_config(path: Path) -> KioskConfig:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))
