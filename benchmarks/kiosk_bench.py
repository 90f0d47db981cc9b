"""The kiosk on a small machine: start-up, memory, the first drawing of every screen,
frame times while devices work and idle CPU, with a Chromium kiosk beside it.

    .venv/bin/python -m benchmarks.kiosk_bench [--idle-s 10] [--sessions 2] [--startups 7] [--chromium-runs 7]

The parent starts the issuance stub once (on a real kiosk it is far away) and writes
the embedded defaults as a config file (every device named: in-process card, folder
printers, simulated cash), on a played weekday-morning clock so the kiosk is open at
any hour. Then:

- start-up: `kiosk run --config FILE --headless`, the real entry, is spawned
  --startups times; each start is timed from the spawn to the READY=1 the kiosk sends
  over $NOTIFY_SOCKET once its first frame, the welcome screen, is drawn (as systemd's
  Type=notify sees it), and its memory is read there.
- sessions: a child process builds the kiosk as `kiosk run` does (the autopilot's
  PIN is handed to it, so it imports nothing of the stub) and sits on the
  welcome screen for --idle-s seconds (CPU of the whole process over wall time), then
  the autopilot runs --sessions complete paid sessions while every frame's work
  (events, state, drawing; not the sleep to the next frame) is timed and filed under
  what the kiosk was waiting on. A frame that shows a screen other than the last one
  is a first drawing; one that draws the same screen again (a digit typed, a
  spinner) is a redraw. Afterwards the child draws every screen of
  kiosk/screen_catalogue.py in ja (the kiosk's default) and en, each timed as a first
  drawing (view built and drawn; the slowest say how much was drawing). Memory is the child's peak RSS (the kernel's high
  water mark) and its peak PSS (/proc/PID/smaps_rollup, sampled every 50 ms).
- Chromium: benchmarks/welcome.html, the welcome screen as a web page, in a Chromium
  kiosk at 1024x600 (`--kiosk` on an Xvfb display when Xvfb is installed, else
  `--headless`), timed from the spawn to the page's first contentful paint (a beacon
  to a listener here), with the PSS of its whole process tree there. Skipped with a
  note where Chromium is not installed.

Targets on a 2-core machine: start-up to the first drawn welcome screen at most
0.4 s (median), peak memory at most 100 MB, the first drawing of any screen at most
8 ms (p99; a Raspberry Pi 4 is about 3x slower per core, and still draws it within
a 60 Hz frame), every frame under 16.7 ms (p99), idle under 2 % of a core.
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import queue
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# What the kiosk is waiting on in each state: frames there are filed under it.
PHASES = {
    "place_card": "card I/O", "pin": "card I/O", "checking": "card I/O + network",
    "fee": "payment device", "preparing": "network", "paying": "payment device", "refunding": "payment device",
    "printing": "printing",
}
TARGETS = {  # figure: (limit, whether the figure may equal it)
    "start-up s (median)": (0.4, True), "peak memory MB": (100.0, True), "first drawing p99 ms": (8.0, True),
    "frame p99 ms": (16.7, False), "idle CPU %": (2.0, False),
}
CATALOGUE_LANGUAGES = ("ja", "en")  # the kiosk's default and English
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--window-size=1024,600")
WELCOME_PAGE = Path(__file__).with_name("welcome.html")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- memory -------------------------------------------------------------------------

def _rollup_kb(pid: int, field: str) -> int:
    """A field of /proc/PID/smaps_rollup in kB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next((int(line.split()[1]) for line in f if line.startswith(field + ":")), 0)
    except (OSError, ValueError):
        return 0


def _tree(pid: int) -> list[int]:
    """`pid` and every process descended from it."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += parents.get(p, [])
    return found


def _tree_mb(pid: int, field: str) -> float:
    return sum(_rollup_kb(p, field) for p in _tree(pid)) / 1024


class PeakPss:
    """Samples a process's PSS until it ends; keeps the highest."""

    def __init__(self, pid: int, every_s: float = 0.05):
        self.peak_mb = 0.0
        self._pid, self._every_s = pid, every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._done.wait(self._every_s):
            self.peak_mb = max(self.peak_mb, _rollup_kb(self._pid, "Pss") / 1024)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak_mb


# --- the child: sessions, frames, the catalogue's screens ---------------------------

def child(args) -> None:
    """Runs in the kiosk's own process: everything measured here is the kiosk's."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    import datetime as dt

    import pygame

    from kiosk.app import run_loop
    from kiosk.autopilot import Autopilot, Hand
    from kiosk.clock import WallClock
    from kiosk.config import load_config
    from kiosk.event_queue import post
    from kiosk.maintenance.setup import maintenance_mode
    from kiosk.render import Renderer
    from kiosk.screen_catalogue import every_view
    from kiosk.service_watch import ServiceWatch
    from kiosk.states import Machine
    from kiosk.wiring import devices, issuance_client

    config = load_config(Path(args.config))
    clock = WallClock(dt.timedelta(seconds=args.clock_offset_s))
    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode(config.screen_size)
    worker, monitor = devices(config, post, clock)
    worker.reconcile()
    machine = Machine(worker, language=config.language, inactivity_timeout_s=600, now=time.monotonic(),
                      clock=clock)
    watch = ServiceWatch(issuance_client(config.issuance), post)
    maintenance = maintenance_mode(config, machine, worker, monitor)
    monitor.start()
    watch.start()
    result: dict = {}

    class Idle:
        """Stops once the welcome screen has been up, untouched, for the idle time."""

        def __init__(self):
            self.started = None

        def after_frame(self, view, targets, surface, machine, now):
            if self.started is None:
                self.started = (time.monotonic(), time.process_time())
                return False
            wall = time.monotonic() - self.started[0]
            if wall < args.idle_s:
                return False
            result["idle_cpu_pct"] = 100 * (time.process_time() - self.started[1]) / wall
            return True

    class Timed:
        """The autopilot, with each frame's work time filed by phase and by kind of drawing."""

        def __init__(self, pilot):
            self.pilot = pilot
            self.frames: dict[str, list[float]] = {}
            self.first: list[tuple[float, str]] = []  # (ms, screen) of each first drawing
            self.redraws: list[float] = []
            self.shown = None

        def after_frame(self, view, targets, surface, machine, now):
            work_ms = (time.monotonic() - now) * 1000
            self.frames.setdefault(PHASES.get(machine.state.value, "screens"), []).append(work_ms)
            if self.shown is None or view.name != self.shown.name:
                self.first.append((work_ms, view.name))
            elif view != self.shown or view.spinner or view.flash:  # drawn again, as run_loop decides
                self.redraws.append(work_ms)
            self.shown = view
            return self.pilot.after_frame(view, targets, surface, machine, now)

    run_loop(machine, surface, Idle(), maintenance, demo_devices=bool(config.demo_devices))
    frames: dict[str, list[float]] = {}
    outcomes, first, redraws = [], [], []
    for n in range(args.sessions):
        monitor.transport.insert()  # the card goes back on the reader for the next resident
        pilot = Autopilot(args.pin, Path(args.out) / f"session{n}",
                          hand=Hand(payment=worker.payment, card=monitor.transport))
        timed = Timed(pilot)
        run_loop(machine, surface, timed, maintenance, demo_devices=bool(config.demo_devices))
        outcomes.append(pilot.outcome)
        first += timed.first
        redraws += timed.redraws
        for phase, values in timed.frames.items():
            frames.setdefault(phase, []).extend(values)
    catalogue = []
    renderer = Renderer(surface, demo_devices=bool(config.demo_devices))
    for language in CATALOGUE_LANGUAGES:
        views = every_view(language)
        while True:
            start = time.perf_counter()
            view = next(views, None)
            if view is None:
                break
            built = time.perf_counter()
            renderer.draw(view, time.monotonic())
            done = time.perf_counter()
            catalogue.append(((done - start) * 1000, f"{language} {view.name} (drawing {(done - built) * 1000:.1f})"))
    watch.stop()
    monitor.stop()
    worker.shutdown()
    result.update(outcomes=outcomes, frames=frames, first=first, redraws=redraws, catalogue=catalogue,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


# --- the parent -----------------------------------------------------------------------

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def write_config(config, path: Path) -> None:
    """The embedded defaults as the TOML file `kiosk run` reads."""
    data = config.model_dump(mode="json", exclude_none=True)
    top = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    sections = [f"\n[{k}]\n" + "\n".join(f"{key} = {_toml_value(val)}" for key, val in v.items())
                for k, v in data.items() if isinstance(v, dict)]
    path.write_text("\n".join(top) + "\n" + "\n".join(sections) + "\n", encoding="utf-8")


def start_kiosk(config_file: Path, clock_offset_s: float, notify: socket.socket) -> tuple[float, float, float]:
    """Spawns the real `kiosk run` until its first frame; returns seconds, PSS and RSS in MB there."""
    env = {**os.environ, "NOTIFY_SOCKET": notify.getsockname(), "SDL_AUDIODRIVER": "dummy"}
    kiosk = Path(sys.executable).with_name("kiosk")
    spawned = time.monotonic()
    proc = subprocess.Popen([str(kiosk), "run", "--config", str(config_file), "--headless",
                             "--clock-offset-s", repr(clock_offset_s)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if not select.select([notify], [], [], 30)[0]:
                raise RuntimeError("the kiosk sent no READY=1 within 30 s")
            if b"READY=1" in notify.recv(4096).split(b"\n"):
                ready = time.monotonic() - spawned
                return ready, _rollup_kb(proc.pid, "Pss") / 1024, _rollup_kb(proc.pid, "Rss") / 1024
    except RuntimeError:
        proc.kill()
        raise RuntimeError(f"the kiosk did not start: {proc.communicate()[1].decode()[-2000:]}") from None
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait()


def startups(config_file: Path, clock_offset_s: float, runs: int, tmp: Path) -> list[tuple[float, float, float]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp / "notify.sock"))
        return [start_kiosk(config_file, clock_offset_s, notify) for _ in range(runs)]


def sessions(args, config_file: Path, clock_offset_s: float, out: Path, pin: str) -> dict:
    # The PIN comes from here: importing the seed in the child would load the stub, no part of a kiosk.
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.kiosk_bench", "--child", "--config", str(config_file),
                             "--clock-offset-s", repr(clock_offset_s), "--out", str(out), "--idle-s",
                             str(args.idle_s), "--sessions", str(args.sessions), "--pin", pin],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pss = PeakPss(proc.pid)
    stdout, stderr = proc.communicate(timeout=600)
    peak_pss = pss.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{stdout[-2000:]}\n{stderr[-4000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_pss_mb"] = peak_pss
    return result


class _Beacon(http.server.BaseHTTPRequestHandler):
    """Serves the welcome page and notes when it says it has painted."""

    painted: queue.Queue = queue.Queue()

    def do_GET(self):
        page = WELCOME_PAGE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def do_POST(self):
        self.painted.put(time.monotonic())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def chromium(runs: int, tmp: Path) -> tuple[str, list[tuple[float, float]]] | None:
    """(how it ran, [(seconds to first paint, PSS of the process tree in MB)]), or None."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        return None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Beacon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    xvfb = None
    env = dict(os.environ)
    if shutil.which("Xvfb"):  # a display, as a kiosk has: --kiosk draws a real (virtual) window
        xvfb = subprocess.Popen(["Xvfb", ":93", "-screen", "0", "1024x600x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["DISPLAY"] = ":93"
        mode = ["--kiosk"]
        while not Path("/tmp/.X11-unix/X93").exists():
            if xvfb.poll() is not None:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.05)
    else:
        mode = ["--headless=new"]
    figures = []
    try:
        for n in range(runs):
            profile = tmp / f"chromium-{n}"
            spawned = time.monotonic()
            proc = subprocess.Popen([exe, *mode, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                     f"http://127.0.0.1:{server.server_port}/"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                painted = _Beacon.painted.get(timeout=60) - spawned
                figures.append((painted, _tree_mb(proc.pid, "Pss")))
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        server.shutdown()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    return ("--kiosk on Xvfb" if xvfb else "--headless"), figures


def parent(args) -> int:
    import datetime as dt

    from kiosk.demo_clock import demo_clock
    from kiosk.embedded import embedded_config, ensure_stub_data, free_port, running_stub, seeded_pin

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data, out = tmp / "stub", tmp / "out"
        ensure_stub_data(data)
        clock = demo_clock(data).clock  # a weekday morning when run outside the service hours
        offset = clock.offset / dt.timedelta(seconds=1)
        with running_stub(data, free_port(), clock=clock) as url:
            config_file = tmp / "kiosk.toml"
            write_config(embedded_config(data, url, "R0001", out / "printed"), config_file)
            starts = startups(config_file, offset, args.startups, tmp)
            result = sessions(args, config_file, offset, out, seeded_pin("R0001"))
        browser = chromium(args.chromium_runs, tmp) if args.chromium_runs else None

    every = [v for values in result["frames"].values() for v in values]
    first = [ms for ms, _ in result["first"]] + [ms for ms, _ in result["catalogue"]]
    print(f"kiosk benchmark: {args.sessions} paid sessions {result['outcomes']}, idle {args.idle_s:.0f} s, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"{'frames':<34}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    rows = sorted(result["frames"].items()) + [("all frames", every)]
    rows += [("first drawing: sessions' screens", [ms for ms, _ in result["first"]]),
             (f"first drawing: catalogue {'+'.join(CATALOGUE_LANGUAGES)}", [ms for ms, _ in result["catalogue"]]),
             ("first drawing: all", first), ("redraw of a screen shown", result["redraws"])]
    for label, values in rows:
        print(f"{label:<34}{len(values):>7}{statistics.median(values):>9.2f}"
              f"{_percentile(values, 0.99):>9.2f}{max(values):>9.2f}")
    slowest = sorted([(ms, f"session {name}") for ms, name in result["first"]] +
                     [(ms, name) for ms, name in result["catalogue"]], reverse=True)[:5]
    print("slowest first drawings: " + ", ".join(f"{name} {ms:.1f} ms" for ms, name in slowest))
    start_s = [s for s, _, _ in starts]
    print(f"start-up (spawn of `kiosk run` to READY=1 after the first drawn welcome), {len(starts)} runs: "
          f"median {statistics.median(start_s):.3f} s, min {min(start_s):.3f}, max {max(start_s):.3f}; "
          f"memory there PSS {statistics.median(p for _, p, _ in starts):.0f} MB, "
          f"RSS {statistics.median(r for _, _, r in starts):.0f} MB")
    print(f"memory over the sessions: peak RSS {result['peak_rss_mb']:.1f} MB, peak PSS {result['peak_pss_mb']:.1f} MB")
    figures = {"start-up s (median)": statistics.median(start_s),
               "peak memory MB": max(result["peak_rss_mb"], result["peak_pss_mb"]),
               "first drawing p99 ms": _percentile(first, 0.99), "frame p99 ms": _percentile(every, 0.99),
               "idle CPU %": result["idle_cpu_pct"]}
    for name, value in figures.items():
        limit, inclusive = TARGETS[name]
        met = value <= limit if inclusive else value < limit
        print(f"{name:<24}{value:>9.2f}   target {'<=' if inclusive else '<'} {limit} ({'met' if met else 'MISSED'})")
    if not args.chromium_runs:
        print("Chromium: not measured (--chromium-runs 0)")
    elif browser is None:
        print("Chromium: not installed (apt-get install chromium), so not measured beside the kiosk")
    else:
        mode, runs = browser
        paint = statistics.median(s for s, _ in runs)
        pss = statistics.median(p for _, p in runs)
        print(f"Chromium {mode}, benchmarks/welcome.html at 1024x600, {len(runs)} runs: spawn to first paint "
              f"median {paint:.3f} s (min {min(s for s, _ in runs):.3f}, max {max(s for s, _ in runs):.3f}), "
              f"PSS of its process tree {pss:.0f} MB")
        print(f"kiosk vs Chromium: start-up {paint / statistics.median(start_s):.1f}x faster, "
              f"memory {pss / statistics.median(p for _, p, _ in starts):.1f}x less (PSS at the first frame)")
    return 0 if all(o == "printed" for o in result["outcomes"]) else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--idle-s", type=float, default=10.0)
    p.add_argument("--sessions", type=int, default=2)
    p.add_argument("--startups", type=int, default=7, help="starts of the real `kiosk run` to time")
    p.add_argument("--chromium-runs", type=int, default=7, help="0: do not measure Chromium")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--clock-offset-s", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--pin", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
