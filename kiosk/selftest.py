"""`kiosk selftest`: every device check, headless, one line each, for a technician at
the kiosk or a provisioning script. Exit 0 only when every check passes."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from kiosk.config import ConfigError, KioskConfig, demo_devices_notice, load_config
from kiosk.device_checks import Check, run_checks

EXIT_PASSED, EXIT_FAILED, EXIT_CONFIG = 0, 1, 3
EMBEDDED_RESIDENT = "R0001"  # whose virtual card sits on the embedded reader


def report(checks: list[Check], out: TextIO) -> int:
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        print(f"{'PASS' if check.ok else 'FAIL'}  {check.name:<{width}}  {check.detail}", file=out, flush=True)
    failed = sum(not c.ok for c in checks)
    print(f"{len(checks) - failed} passed, {failed} failed", file=out)
    return EXIT_PASSED if failed == 0 else EXIT_FAILED


def check(config: KioskConfig, *, test_page: bool, out: TextIO = sys.stdout) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the report
    return report(run_checks(config, test_page=test_page), out)


def selftest(config_path: Path | None, *, test_page: bool, data_dir: Path, out_dir: Path) -> int:
    """Against a config file, or on the embedded defaults with the stub started for it."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # the drivers import pygame's events
    if config_path is not None:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            print(f"kiosk: invalid configuration: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        notice = demo_devices_notice(config, str(config_path))
        if notice:  # its checks pass on stand-ins too: say which ones they were
            print(notice, file=sys.stderr)
        return check(config, test_page=test_page)

    from kiosk.embedded import embedded_config, ensure_stub_data, free_port, running_stub
    ensure_stub_data(data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with running_stub(data_dir, free_port(), log_file=out_dir / "issuance-stub.log") as url:
        config = embedded_config(data_dir, url, EMBEDDED_RESIDENT, out_dir / "printed")
        return check(config, test_page=test_page)
