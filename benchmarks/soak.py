"""Soak: does the issuance center stay bounded? The load benchmark's kiosks
(benchmarks/issuance_load.py, paced) run for --seconds while one more terminal sends
a bounded stream of junk (bad JSON, unknown routes, huge ids and bodies, unknown
challenges and sessions, voids of random request ids), all on loopback. Every
--sample-every seconds it samples the registry (file, WAL, rows per table, the pages
of the tables housekeeping purges) and the stub's memory (VmRSS of the front
process, and of its renderer processes summed). It prints a table and a verdict:
growth after the warm-up as a slope (KiB/min) and in % over the rest of the run.

    .venv/bin/python -m benchmarks.soak [--seconds 600] [--rate 50] [--kiosks 50]

So that rows reach the end of their life within minutes, the stub runs with short
lives: sessions (and so voided request ids) and the audit 60 s, a purge every
2 s, and a print deadline of 60 s (challenges keep their 60 s). Issuances are the
center's books and stay (their PDFs go at print-by): the registry file grows with
them by design, so it is shown beside the purged tables' own pages, which must stay
flat.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import random
import re
import secrets
import shutil
import sqlite3
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import issuance_load as load
from contract.issuance import API

PURGED_TABLES = ("challenges", "sessions", "voided_requests", "audit")
# The stub's short lives (see the module's docstring).
SESSION_LIFE_S = 60.0
AUDIT_RETENTION_S = 60.0
# Often, so that a table holds between 60 and 62 s of rows whenever it is sampled
# (every 10 s, the samples saw 60 to 70 s: up to 17 % apart).
PURGE_EVERY_S = 2.0
PRINT_DEADLINE_S = 60.0
FLAT_PERCENT = 5.0  # growth after the warm-up, over the rest of the run, still called flat
PDF_SAMPLE = 50  # one answer in this many is kept for the PDF checks after the run (the rest is let go)
JUNK_SENDERS = 4
HUGE_BODY = b"{" + b" " * (1 << 20) + b"}"  # 1 MiB, 16 times the API's limit
PURGE_LOGGED = re.compile(r"housekeeping removed .* in (\d+) ms")  # municipal.housekeeping's log line


class SoakStub(load.StubProcess):
    module = "benchmarks.soak"


def _serve_stub(argv: list[str]) -> None:
    from municipal import service
    # Read when a session opens and when the voided ids' life is set: patched before
    # the app is built, in the stub's own process only.
    service.SESSION_TTL_S = SESSION_LIFE_S
    load._serve_stub(argv, print_deadline_s=PRINT_DEADLINE_S, purge_every_s=PURGE_EVERY_S,
                     audit_retention_days=AUDIT_RETENTION_S / 86_400)


# --- the junk stream ------------------------------------------------------------------

def _junk_requests(rng: random.Random, identity: load.KioskIdentity):
    """(label, method, path, body) in turn, for ever; ids random, some huge."""
    certificate = base64.b64encode(load.KeyCard(identity.card).certificate_der)
    while True:
        huge = "A" * rng.randrange(65, 12_000)
        yield "bad JSON", "POST", "/sessions", b'{"challenge_id": "abc", "certificate": '
        yield "unknown route", "GET", f"/{secrets.token_hex(rng.randrange(1, 200))}", None
        yield "huge request id", "POST", f"/issuances/{huge}/void", None
        yield "huge body", "POST", "/sessions", HUGE_BODY
        yield "unknown challenge", "POST", "/sessions", (
            b'{"challenge_id": "%s", "certificate": "%s", "signature": "%s"}'
            % (secrets.token_urlsafe(16).encode(), certificate, base64.b64encode(rng.randbytes(256))))
        yield "unknown session", "POST", "/issuances", (
            b'{"session_id": "%s", "request_id": "%s", "document_type": "residence_record", "copies": 1}'
            % (secrets.token_urlsafe(16).encode(), uuid.uuid4().hex.encode()))
        yield "huge session id", "POST", "/issuances", (
            b'{"session_id": "%s", "request_id": "%s", "document_type": "residence_record", "copies": 1}'
            % (huge.encode(), uuid.uuid4().hex.encode()))
        yield "void of a random id", "POST", f"/issuances/{uuid.uuid4().hex}/void", None


async def send_junk(run: load.Run, identity: load.KioskIdentity, rate: float, most: int, until: float,
                    outcomes: Counter) -> None:
    """Junk from a registered terminal, one request every 1 / rate seconds, at most
    `most` of them and none after `until` (time.monotonic()). JUNK_SENDERS at a time,
    so that one answered slowly (a huge body the server stops reading) does not hold
    up the others."""
    tls = ssl.create_default_context(cafile=str(run.pki.root))
    tls.load_cert_chain(str(identity.cert), str(identity.key))
    requests, slots = _junk_requests(random.Random(0), identity), itertools.count()
    started = time.monotonic()

    async def sender(http: httpx.AsyncClient) -> None:
        while (slot := next(slots)) < most and (due := started + slot / rate) < until:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            label, method, path, body = next(requests)
            try:
                response = await http.request(method, path, content=body,
                                              headers={"content-type": "application/json"} if body else None)
                outcomes[f"{label}: {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                outcomes[f"{label}: {type(exc).__name__}"] += 1

    async with httpx.AsyncClient(base_url=run.url + API, verify=tls, timeout=30) as http:
        await asyncio.gather(*(sender(http) for _ in range(JUNK_SENDERS)))


# --- samples --------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    at: float  # seconds from the start
    rows: dict[str, int]  # per table, issuances too
    file_kib: float
    wal_kib: float
    purged_kib: float  # pages of the purged tables and their indexes
    free_kib: float  # free pages in the file, for new rows to reuse
    front_rss_kib: int
    renderers_rss_kib: int  # the renderers and multiprocessing's resource tracker
    renderers: int  # those processes
    generator_rss_kib: int
    junk: int
    issue_ms: tuple[float, float]  # the kiosks' issuance calls answered since the last sample: p99, max

    @property
    def registry_kib(self) -> float:
        return self.file_kib + self.wal_kib


def rss_kib(pid: int | str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def renderer_pids(front: int) -> list[int]:
    """The other live processes of the stub's process group: its renderers, and
    multiprocessing's resource tracker."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == front and int(stat.parent.name) != front:
            pids.append(int(stat.parent.name))
    return pids


def registry_figures(path: Path) -> tuple[dict[str, int], float, float]:
    """Rows per table, KiB of the purged tables' pages (indexes included), KiB free."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("BEGIN")  # one snapshot, released at once
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (*PURGED_TABLES, "issuances")}
        names = [n for (n,) in conn.execute(
            f"SELECT name FROM sqlite_schema WHERE tbl_name IN ({','.join('?' * len(PURGED_TABLES))})",
            PURGED_TABLES)]
        purged = sum(conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? AND aggregate = 1",
                                  (name,)).fetchone()[0] for name in names)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page_size
        conn.execute("COMMIT")
    return rows, purged / 1024, free / 1024


def take_sample(started: float, registry: Path, front: int, junk: Counter, latencies: list[float]) -> Sample:
    rows, purged, free = registry_figures(registry)
    wal = registry.with_name(registry.name + "-wal")
    renderers = renderer_pids(front)
    return Sample(time.monotonic() - started, rows, registry.stat().st_size / 1024,
                  wal.stat().st_size / 1024 if wal.exists() else 0.0, purged, free, rss_kib(front),
                  sum(rss_kib(pid) for pid in renderers), len(renderers), rss_kib("self"), sum(junk.values()),
                  (load.percentile(latencies, 99), max(latencies)) if latencies else (0.0, 0.0))


HEADER = (f"{'t s':>5} {'issuances':>9} {'challenges':>10} {'sessions':>8} {'voided':>7} {'audit':>7} "
          f"{'file MiB':>9} {'WAL MiB':>8} {'purged KiB':>10} {'free KiB':>9} {'front MiB':>9} "
          f"{'renderers MiB':>13} {'generator MiB':>13} {'junk':>6} {'issuance p99/max ms':>19}")


def sample_line(s: Sample) -> str:
    r = s.rows
    return (f"{s.at:5.0f} {r['issuances']:9d} {r['challenges']:10d} {r['sessions']:8d} {r['voided_requests']:7d} "
            f"{r['audit']:7d} {s.file_kib / 1024:9.1f} {s.wal_kib / 1024:8.1f} {s.purged_kib:10.0f} "
            f"{s.free_kib:9.0f} {s.front_rss_kib / 1024:9.1f} "
            f"{s.renderers_rss_kib / 1024:9.1f} ({s.renderers}) {s.generator_rss_kib / 1024:13.1f} {s.junk:6d} "
            f"{s.issue_ms[0]:12.0f} / {s.issue_ms[1]:4.0f}")


async def sample_every(every: float, until: float, started: float, registry: Path, front: int, junk: Counter,
                       ledger: load.Ledger, kept: list, samples: list[Sample]) -> None:
    """A sample now, then every `every` seconds until `until`; the kiosks' PDFs are let
    go as it goes, but for one in PDF_SAMPLE kept for the checks after the run."""
    last = started
    while True:
        kept += ledger.to_read[::PDF_SAMPLE]
        ledger.to_read.clear()
        latencies = [seconds * 1000 for done, seconds in ledger.issue_latency if done > last]
        last = time.monotonic()
        samples.append(await asyncio.to_thread(take_sample, started, registry, front, junk, latencies))
        print(sample_line(samples[-1]), flush=True)
        if time.monotonic() + every > until + 1:
            return
        await asyncio.sleep(started + len(samples) * every - time.monotonic())


# --- the verdict ----------------------------------------------------------------------

def growth(samples: list[Sample], since: float, value) -> tuple[float, float]:
    """Slope from `since` (seconds) on, per minute (least squares), and the growth it
    makes to the end, in % of the fitted value at `since`."""
    after = [s for s in samples if s.at >= since]
    if len(after) < 2:
        return float("nan"), float("nan")
    minutes = [s.at / 60 for s in after]
    slope, intercept = statistics.linear_regression(minutes, [value(s) for s in after])
    start = intercept + slope * minutes[0]
    return slope, 100 * slope * (minutes[-1] - minutes[0]) / start if start else float("inf")


def verdict(samples: list[Sample], warmup: float) -> tuple[str, bool]:
    measures = (
        ("purged tables' pages (challenges, sessions, voided ids, audit + indexes)", lambda s: s.purged_kib, True),
        ("front process RSS", lambda s: s.front_rss_kib, True),
        ("renderer processes RSS (sum, resource tracker included)", lambda s: s.renderers_rss_kib, True),
        ("registry file + WAL (issuances stay: the books)", lambda s: s.registry_kib, False),
    )
    half = (warmup + samples[-1].at) / 2
    lines = [f"{'growth after the warm-up (' + format(warmup, '.0f') + ' s), to the end':76}"
             f"{'slope':>10}    {'growth':>8}   {'in the last half':>16}"]
    bounded = True
    for name, value, must_be_flat in measures:
        slope, percent = growth(samples, warmup, value)
        late_slope, _ = growth(samples, half, value)
        flat = percent <= FLAT_PERCENT  # shrinking is bounded too
        bounded &= flat or not must_be_flat
        judged = ("flat" if flat else "GROWS") if must_be_flat else "grows with the books"
        lines.append(f"  {name:74} {slope:10.1f} KiB/min {percent:+7.1f} %  {late_slope:10.1f} KiB/min  {judged}")
    first, last = next(s for s in samples if s.at >= warmup), samples[-1]
    issued = last.rows["issuances"] - first.rows["issuances"]
    if issued:
        lines.append(f"  registry growth per issuance after the warm-up: "
                     f"{(last.registry_kib - first.registry_kib) / issued:.1f} KiB "
                     f"(a stored issuance holds its PDF, manifest and content)")
    lines.append(f"verdict: {'bounded' if bounded else 'NOT bounded'} "
                 f"(flat: at most {FLAT_PERCENT:g} % growth after the warm-up)")
    return "\n".join(lines), bounded


def purge_times(stub_log: Path) -> str:
    """How long the stub's purges took, from its log."""
    ms = [int(m.group(1)) for m in PURGE_LOGGED.finditer(stub_log.read_text(errors="replace"))]
    if not ms:
        return "housekeeping: no purge removed anything"
    return (f"housekeeping: {len(ms)} purges removed rows, each in p50 {statistics.median(ms):.0f} ms, "
            f"max {max(ms)} ms (batches and the waits between them)")


# --- the run --------------------------------------------------------------------------

async def soak(run: load.Run, stub: SoakStub, args, junk_identity: load.KioskIdentity) -> tuple[list, Counter]:
    started = time.monotonic()
    until = started + args.seconds
    samples: list[Sample] = []
    junk: Counter = Counter()
    kept: list = []
    print(HEADER, flush=True)
    window, *_ = await asyncio.gather(
        load.benchmark_phase(run, stub, args.kiosks, args.seconds, 0.0),
        send_junk(run, junk_identity, args.junk_rate, args.junk_max, until, junk),
        sample_every(args.sample_every, until, started, run.data_dir / "registry.sqlite", stub.proc.pid, junk,
                     run.ledger, kept, samples))
    run.ledger.to_read = kept + run.ledger.to_read[::PDF_SAMPLE]
    print(load.phase_report(run, window), flush=True)
    return samples, junk


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stub"]:
        _serve_stub(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--warmup", type=float, default=120.0, help="left out of the growth figures")
    parser.add_argument("--sample-every", type=float, default=30.0)
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0, help="issuances per second, all kiosks together")
    parser.add_argument("--renderers", type=int, default=os.cpu_count())
    parser.add_argument("--junk-rate", type=float, default=20.0, help="junk requests per second")
    parser.add_argument("--junk-max", type=int, default=20_000, help="junk requests at most")
    parser.add_argument("--data", type=Path, help="a prepared data folder to copy (made there if missing)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        template = args.data or Path(tmp) / "template"
        if not (template / "registry.sqlite").exists():
            print(f"preparing {args.kiosks} kiosks and a junk terminal in {template} ...", flush=True)
            load.prepare(template, args.kiosks + 1)
        data_dir = Path(tmp) / "run"
        shutil.copytree(template, data_dir)
        junk_identity = load.fleet(data_dir)[args.kiosks]
        stub = SoakStub(data_dir, load.free_port(), args.renderers)
        stub.start()
        ledger = load.Ledger()
        run = load.Run(data_dir, f"https://127.0.0.1:{stub.port}", load.LoadPlan(rate=args.rate), ledger)
        print(f"soak: {args.seconds:.0f} s, {args.kiosks} kiosks paced at {args.rate:g} issuances/s, junk "
              f"{args.junk_rate:g}/s (at most {args.junk_max}), {args.renderers} renderer(s); short lives: sessions "
              f"{SESSION_LIFE_S:.0f} s, audit {AUDIT_RETENTION_S:.0f} s, purge every {PURGE_EVERY_S:.0f} s, "
              f"print deadline {PRINT_DEADLINE_S:.0f} s", flush=True)
        try:
            samples, junk = asyncio.run(soak(run, stub, args, junk_identity))
        finally:
            stub.stop()
        load.read_documents(ledger, run.population)
        problems = load.audit_registry(data_dir / "registry.sqlite", ledger)
        print("junk answered: " + ", ".join(f"{k} x{n}" for k, n in sorted(junk.items())))
        print(load.summary(ledger, problems))
        print(purge_times(data_dir / "stub.log"))
        text, bounded = verdict(samples, args.warmup)
        print(text)
    clean = not (ledger.mixups or ledger.duplicates or ledger.lost or problems)
    return 0 if clean and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
