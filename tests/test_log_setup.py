"""The kiosk under systemd: its log reaches the journal as structured fields (over a
fake journal socket here), it tells systemd when it is ready and feeds the watchdog
(over a fake notify socket), and a whole session's log holds no resident's data."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import socketserver
import struct
import sys
import threading
from pathlib import Path

import pytest

from kiosk import log_setup
from kiosk.sd_notify import Notifier
from municipal.cli import SEED
from municipal.registry import load_seed
from tests.fixtures.stub import TEST_JAPAN_TIME


def parse_native(datagram: bytes) -> dict[str, str]:
    """systemd's native journal protocol, as journald reads it."""
    fields, rest = {}, datagram
    while rest:
        line, sep, after = rest.partition(b"\n")
        if b"=" in line:
            name, _, value = line.partition(b"=")
            rest = after
        else:  # NAME \n <64-bit LE length> <value> \n
            name, (size,) = line, struct.unpack("<Q", after[:8])
            value, rest = after[8:8 + size], after[8 + size + 1:]
        fields[name.decode()] = value.decode()
    return fields


class FakeJournal:
    """A socketserver on a temporary path standing in for /run/systemd/journal/socket."""

    def __init__(self, path: Path):
        self.entries: list[dict[str, str]] = []
        journal = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                journal.entries.append(parse_native(self.request[0]))

        self.server = socketserver.UnixDatagramServer(str(path), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def journal(tmp_path, monkeypatch):
    """A fake journal, and the environment systemd gives a unit logging to it."""
    fake = FakeJournal(tmp_path / "journal.socket")
    monkeypatch.setattr(log_setup, "JOURNAL_SOCKET", str(tmp_path / "journal.socket"))
    stat = os.fstat(sys.stderr.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
    root = logging.getLogger()
    level = root.level
    yield fake
    for handler in [h for h in root.handlers if getattr(h, "kiosk_log_setup", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    fake.close()


def wait_for_entries(journal: FakeJournal, count: int, timeout: float = 5) -> list[dict[str, str]]:
    deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
    while len(journal.entries) < count and dt.datetime.now() < deadline:
        threading.Event().wait(0.01)
    return journal.entries


def test_records_reach_the_journal_with_structured_fields(journal):
    log_setup.configure()
    log = logging.getLogger("kiosk.session_worker")
    log.info("card open failed visit=%s problem=%s", 7, "no_card")
    logging.getLogger("kiosk.states").info("state %s -> %s", "pin", "choose_document")
    log.warning("print failed request=%s reason=%s", "req-42", "paper_out")
    log.info("payment settled txn=%s", "261129-A1B2", extra={"kiosk_event": "paid", "visit": 8,
                                                              "request_id": "req-43"})
    try:
        raise RuntimeError("cutter jam\nsecond line")
    except RuntimeError:
        log.exception("worker job failed visit=%s", 9)
    first, state, printed, paid, failed = wait_for_entries(journal, 5)

    assert first["MESSAGE"] == "card open failed visit=7 problem=no_card"
    assert (first["KIOSK_EVENT"], first["VISIT"], first["PROBLEM"]) == ("card_open_failed", "7", "no_card")
    assert first["PRIORITY"] == "6" and first["SYSLOG_IDENTIFIER"] == "kiosk"
    assert first["LOGGER"] == "kiosk.session_worker" and first["CODE_FUNC"].startswith("test_")
    assert (state["KIOSK_EVENT"], state["STATE"]) == ("state_change", "choose_document")
    assert (printed["KIOSK_EVENT"], printed["REQUEST_ID"], printed["REASON"]) == ("print_failed", "req-42",
                                                                                  "paper_out")
    assert printed["PRIORITY"] == "4"
    assert (paid["KIOSK_EVENT"], paid["VISIT"], paid["REQUEST_ID"]) == ("paid", "8", "req-43")
    assert paid["TRANSACTION"] == "261129-A1B2"
    # A traceback spans lines: sent length-prefixed, it arrives whole.
    assert failed["PRIORITY"] == "3" and failed["VISIT"] == "9"
    assert "Traceback" in failed["MESSAGE"] and "cutter jam\nsecond line" in failed["MESSAGE"]


def test_outside_systemd_logs_plain_lines_to_stderr(journal, monkeypatch, capfd):
    monkeypatch.delenv("JOURNAL_STREAM")
    log_setup.configure()
    logging.getLogger("kiosk.x").info("printed request=%s", "req-1")
    assert re.search(r"INFO kiosk\.x printed request=req-1$", capfd.readouterr().err.strip())
    assert journal.entries == []


def test_stderr_redirected_away_from_the_journal_logs_plain(journal, monkeypatch, capfd):
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")  # inherited from a parent, stderr is elsewhere now
    log_setup.configure()
    logging.getLogger("kiosk.x").warning("void failed request=%s", "req-2")
    assert "void failed request=req-2" in capfd.readouterr().err
    assert journal.entries == []


def test_configured_twice_logs_once(journal):
    log_setup.configure()
    log_setup.configure()
    logging.getLogger("kiosk.x").info("printed request=%s", "req-4")
    assert len(wait_for_entries(journal, 2, timeout=0.5)) == 1


def test_journal_gone_keeps_the_line_on_stderr(journal, monkeypatch, capfd, tmp_path):
    monkeypatch.setattr(log_setup, "JOURNAL_SOCKET", str(tmp_path / "nobody-listens"))
    log_setup.configure()
    logging.getLogger("kiosk.x").error("printed but never confirmed request=%s", "req-3")
    assert "printed but never confirmed request=req-3" in capfd.readouterr().err


# --- sd_notify ------------------------------------------------------------------------

@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify.socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    yield path, server
    server.close()


def received(server) -> list[str]:
    messages = []
    server.setblocking(False)
    try:
        while True:
            messages.append(server.recv(4096).decode())
    except BlockingIOError:
        return messages


def test_ready_after_first_frame_then_watchdog_at_most_every_few_seconds(notify_socket):
    path, server = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert notifier.feed_interval_s == 5.0
    for frame in range(31 * 10):  # ten seconds at 31 frames a second
        notifier.frame(100 + frame / 31, "welcome")
    notifier.frame(110.5, "pin")
    messages = received(server)
    assert messages[0].split("\n") == ["READY=1", "STATUS=screen: welcome", "WATCHDOG=1"]
    assert sum("WATCHDOG=1" in m for m in messages) == 3  # at 100, 105 and 110.5 s
    assert messages[-1].split("\n") == ["STATUS=screen: pin", "WATCHDOG=1"]
    assert sum("READY=1" in m for m in messages) == 1


def test_short_watchdog_is_fed_at_half_its_period(notify_socket):
    path, _ = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    assert notifier.feed_interval_s == 1.0


def test_watchdog_meant_for_another_process_is_not_fed(notify_socket):
    path, _ = notify_socket
    assert Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
                    ).feed_interval_s is None


def test_outside_systemd_nothing_is_sent_and_nothing_fails():
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.frame(1.0, "welcome")  # no socket: a no-op


def test_systemd_gone_never_breaks_the_frame_loop(tmp_path, caplog):
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.socket"), "WATCHDOG_USEC": "2000000"})
    for frame in range(5):
        notifier.frame(float(frame), "welcome")
    assert sum("cannot notify systemd" in r.getMessage() for r in caplog.records) == 1


def test_abstract_notify_socket(notify_socket):
    name = f"kiosk-test-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        Notifier({"NOTIFY_SOCKET": "@" + name}).frame(0.0, "welcome")
        assert server.recv(4096).decode().startswith("READY=1")
    finally:
        server.close()


# --- no personal data in a whole session's log ------------------------------------------

def personal_values() -> list[str]:
    """Every name, address, birth date and My Number in the seed, in the forms a log could
    spell them."""
    seed = load_seed(SEED)
    values = []
    for household in seed["households"]:
        values.append(household["address"])
        for member in household["members"]:
            values += [member["name"], member["name"].replace(" ", ""), member["my_number"]]
            values += [v for v in (member.get("name_kana"), member.get("name_roman")) if v]
            born = member["birth_date"]
            values += [born.isoformat(), f"{born.year}年{born.month}月{born.day}日", born.strftime("%Y%m%d")]
    return [v for v in values if len(v) >= 4]


def test_a_whole_session_logs_no_personal_data(journal, stub_data, tmp_path, monkeypatch):
    """The demo session (card, PIN, payment, printing) in this process, logging to the
    fake journal; the stub's own log file too."""
    from kiosk.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    out = tmp_path / "out"
    status = main(["demo", "--headless", "--autopilot", "--data", str(stub_data),
                   "--at", TEST_JAPAN_TIME, "--out", str(out)])
    assert status == 0
    entries = wait_for_entries(journal, 1)
    assert any(e.get("KIOSK_EVENT") == "printed" and e.get("REQUEST_ID") for e in entries)
    assert any(e.get("STATE") for e in entries)
    everything = "\n".join(f"{k}={v}" for e in entries for k, v in e.items() if not k.startswith("CODE_"))
    everything += "\n" + (out / "issuance-stub.log").read_text(encoding="utf-8")
    leaked = [v for v in personal_values() if v in everything]
    assert leaked == []
    pin = next(card["pin"] for card in load_seed(SEED)["cards"] if card["resident"] == "R0001")
    assert not re.search(rf"(?<![0-9A-Za-z]){pin}(?![0-9A-Za-z])", everything)


def test_the_running_kiosk_reports_ready_and_feeds_the_watchdog(notify_socket, stub_data, tmp_path):
    """`kiosk demo` (headless, nobody touching it) as systemd would start it."""
    import signal
    import subprocess
    import time

    from tests.kiosk_runs import KIOSK, ROOT
    path, server = notify_socket
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000",
           "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen([str(KIOSK), "demo", "--headless", "--data", str(stub_data),
                             "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while sum("WATCHDOG=1" in m for m in messages) < 3 and time.monotonic() < deadline:
            try:
                messages.append(server.recv(4096).decode())
            except TimeoutError:
                assert proc.poll() is None, proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGINT)  # lets the demo stop its stub
        proc.wait(timeout=30)
    assert messages, "no notification arrived"
    assert messages[0].split("\n")[:2] == ["READY=1", "STATUS=screen: welcome"]
    assert sum("WATCHDOG=1" in m for m in messages) >= 3
