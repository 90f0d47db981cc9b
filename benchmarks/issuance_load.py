"""Many simulated kiosks against the issuance center, over real mutual TLS.

Each kiosk has its own terminal certificate and its own card, and repeats a visit:
challenge → session (the card signs the challenge) → K issuances with distinct
request ids → each confirmed printed. Every answer is checked against the card that
asked (manifest signature, card, terminal, session, request, options, PDF and page
digests, and the names the PDF's text shows); after the run the registry itself is
audited. tests/test_issuance_load.py runs this with faults (fault_proxy.py, duplicated
requests, a stub restart); run as a module it is the benchmark, without faults:

    .venv/bin/python -m benchmarks.issuance_load --kiosks 50 [--rate 100] [--renderers 2]
        [--seconds 20] [--docs-per-visit 3,1] [--card key|apdu] [--data DIR]

Without --rate the kiosks go flat out (a closed loop: each issues again as soon as
its last answer arrives), which measures saturation. With --rate R (issuances per
second, all kiosks together) each kiosk keeps its own timetable, one issuance every
kiosks/R seconds, the kiosks' start offsets spread evenly so the center sees uniform
arrivals (an open loop); latency counts from the scheduled start, so a kiosk that
starts late because its previous issuance ran long waits in the figure (no
coordinated omission). A visit's first issuance includes opening its session.

The load generator shares the machine's cores with the stub: the CPU seconds of each
side are printed. The checks that parse a PDF (each page's digest against the
manifest, the names its text shows) run after the timed window: a kiosk makes them
on its own processor, not on the machine the center runs on.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import importlib.util
import io
import itertools
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from pypdf import PdfReader
from pypdf.generic import DecodedStreamObject, NameObject

from devices.card.cardfile import CardFile
from devices.card.jpki_client import JpkiClient
from devices.card.transports import InProcessTransport
from devices.card.virtual_card import VirtualCard
from municipal.cli import card_path, init
from municipal.pki import JST, PkiFiles
from municipal.population import CARD_PIN, synthetic_seed
from municipal.registry import Registry
from municipal.terminals import register_terminal
from contract.issuance import (API, ChallengeAnswer, DocumentOptions, IssuanceAnswer, IssuanceRequest,
                                OutcomeAnswer, Refusal, SessionAnswer, SessionRequest, manifest_signature_valid,
                                signers_by_municipality)
from printouts.pdf_pages import UnreadablePdf, page_digests

TERMINAL_PREFIX = "LOAD-KIOSK-"
# The stub's calendar during a run: a Wednesday morning, when every document is served.
PRETEND_NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=JST)
_WHITESPACE = re.compile(r"\s+")
# A content stream's strings, hex strings, and BT / ET operators standing alone.
_CONTENT_TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|(?<![^\s\]\)>])(BT|ET)(?![^\s\[\(<>/])", re.S)


# --- the data: population, cards, terminal certificates -----------------------------

def prepare(data_dir: Path, kiosks: int, members: int = 3) -> None:
    """A stub installation for `kiosks` kiosks: one household and card per kiosk, and
    a registered terminal certificate each. Two RSA key generations per card: build it once."""
    init(data_dir, "KIOSK-0001", seed=synthetic_seed(kiosks, members=members))
    pki = PkiFiles(data_dir / "pki")
    root = pki.load("root")
    (data_dir / "fleet").mkdir()
    with Registry(data_dir / "registry.sqlite").transaction() as conn:
        for number in range(kiosks):
            name = f"{TERMINAL_PREFIX}{number:03d}"
            terminal = pki.issue_terminal(root, name)
            terminal.write(data_dir / "fleet", name)
            register_terminal(conn, terminal.cert)


@dataclass(frozen=True)
class KioskIdentity:
    terminal_id: str
    resident: str  # the cardholder
    card: Path
    cert: Path
    key: Path


@dataclass(frozen=True)
class Population:
    """Who is who, from the registry: names squeezed of whitespace, as PDF text is."""

    names: dict[str, str]  # resident id -> name
    households: dict[str, tuple[str, ...]]  # resident id -> ids of the household's members

    @classmethod
    def load(cls, registry: Path) -> "Population":
        with closing(sqlite3.connect(registry)) as conn:
            rows = conn.execute("SELECT id, household, name FROM residents ORDER BY household, position").fetchall()
        households: dict[str, list[str]] = {}
        for resident, household, _ in rows:
            households.setdefault(household, []).append(resident)
        return cls({r: squeeze(name) for r, _, name in rows},
                   {r: tuple(households[h]) for r, h, _ in rows})


def fleet(data_dir: Path) -> list[KioskIdentity]:
    """Kiosk i holds the i-th card, in resident order."""
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as conn:
        residents = [r for (r,) in conn.execute("SELECT resident FROM cards ORDER BY resident")]
    terminals = sorted(p.stem for p in (data_dir / "fleet").glob("*.pem"))
    return [KioskIdentity(t, r, card_path(data_dir, r), data_dir / "fleet" / f"{t}.pem",
                          data_dir / "fleet" / f"{t}.key") for t, r in zip(terminals, residents)]


class ApduCard:
    """The virtual card as a kiosk reaches it: JPKI APDUs in process (select, PIN,
    sign). Its RSA is pure Python without CRT, about 20 ms of CPU per signature."""

    def __init__(self, path: Path):
        self._client = JpkiClient(InProcessTransport(VirtualCard(path)))
        with self._client:
            self.certificate_der = self._client.read_auth_certificate()

    def sign(self, challenge: bytes) -> bytes:
        with self._client:
            self._client.verify_auth_pin(bytearray(CARD_PIN.encode()))
            return self._client.sign_auth(challenge)


class KeyCard:
    """The card file's key signing directly (OpenSSL, about 0.3 ms): a real card signs
    on its own chip, so the benchmark does not spend the shared cores on it."""

    def __init__(self, path: Path):
        card = CardFile.load(path)
        self.certificate_der = card.auth_certificate_der
        self._key = serialization.load_pem_private_key(card.auth_private_key_pem, None)

    def sign(self, challenge: bytes) -> bytes:
        return self._key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


CARDS = {"apdu": ApduCard, "key": KeyCard}


# --- the stub, as its own process group so a restart can kill it outright ------------

class StubProcess:
    module = "benchmarks.issuance_load"  # whose `stub` command serves (benchmarks.soak's has short lives)

    def __init__(self, data_dir: Path, port: int, renderers: int):
        self.data_dir, self.port, self.renderers = data_dir, port, renderers
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        log = open(self.data_dir / "stub.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "stub", str(self.data_dir), str(self.port),
             str(self.renderers)], stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while not _accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stub did not start; see {self.data_dir / 'stub.log'}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to the whole group: a crash, not a shutdown."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_seconds(self) -> tuple[float, float]:
        """User + system CPU of the front process (connections and registry), and of
        every live process in the stub's group (its certificate renderers too)."""
        front = total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # process group
                ticks = int(fields[11]) + int(fields[12])
                total += ticks
                front += ticks if int(stat.parent.name) == self.proc.pid else 0
        return front / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- what the kiosks saw --------------------------------------------------------------

@dataclass
class Ledger:
    requests: set[str] = field(default_factory=set)  # every request id sent
    serials: dict[str, str] = field(default_factory=dict)  # request id -> serial
    owners: dict[str, str] = field(default_factory=dict)  # serial -> request id
    pdf_digests: dict[str, str] = field(default_factory=dict)  # request id -> pdf sha256
    confirmed: dict[str, float] = field(default_factory=dict)  # request id -> when
    mixups: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    duplicated_requests: int = 0
    issue_latency: list[tuple[float, float]] = field(default_factory=list)  # (done at, seconds)
    # Paced runs: (due at, seconds from due to start) per timetable slot, and (due at,
    # seconds from due to the answer) per answered issuance.
    starts: list[tuple[float, float]] = field(default_factory=list)
    paced_latency: list[tuple[float, float]] = field(default_factory=list)
    visit_latency: list[tuple[float, float]] = field(default_factory=list)
    # Parsed after the window: (request id, PDF, residents it must name, terminal, its
    # manifest's (page number, digest) pairs).
    to_read: list[tuple[str, bytes, frozenset[str], str, tuple]] = field(default_factory=list)
    page_claims: dict[str, tuple] = field(default_factory=dict)  # request id -> manifest pages

    def answered(self, request_id: str, serial: str, pdf_sha256: str, pages: tuple) -> bool:
        """Record an answer; True for the first answer to this request id."""
        first = request_id not in self.serials
        known = self.serials.setdefault(request_id, serial)
        if known != serial:
            self.duplicates.append(f"request {request_id} answered with serials {known} and {serial}")
        owner = self.owners.setdefault(serial, request_id)
        if owner != request_id:
            self.duplicates.append(f"serial {serial} answered to requests {owner} and {request_id}")
        first_pdf = self.pdf_digests.setdefault(request_id, pdf_sha256)
        if first_pdf != pdf_sha256:
            self.duplicates.append(f"request {request_id} answered with two different PDFs")
        if self.page_claims.setdefault(request_id, pages) != pages:
            self.duplicates.append(f"request {request_id} answered with two different page lists")
        return first


def squeeze(text: str) -> str:
    return _WHITESPACE.sub("", text)


def pdf_text(pdf: bytes) -> str:
    """Every page's text, squeezed. Only the text objects (BT ... ET) of each page are
    handed to pypdf: text can be shown nowhere else, and the copy-evident background's
    thousands of path operators made extraction 8 times slower (same text)."""
    texts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        contents = page.get_contents()
        if contents is None:
            continue
        text_only = DecodedStreamObject()
        text_only.set_data(_text_objects(contents.get_data()))
        page[NameObject("/Contents")] = text_only
        texts.append(page.extract_text())
    return squeeze("".join(texts))


def _text_objects(content: bytes) -> bytes:
    """The BT ... ET objects of a content stream, found by tokens, so "ET" inside a
    string does not end one."""
    found, start = [], None
    for token in _CONTENT_TOKEN.finditer(content):
        if token.group(1) == b"BT":
            start = token.start()
        elif token.group(1) == b"ET" and start is not None:
            found.append(content[start:token.end()])
            start = None
    return b"\n".join(found)


def pdf_text_problems(pdf: bytes, expected: frozenset[str], population: Population) -> list[str]:
    """The PDF names every expected resident and nobody else of the population."""
    text = pdf_text(pdf)
    missing = sorted(r for r in expected if population.names[r] not in text)
    foreign = sorted(r for r, name in population.names.items() if r not in expected and name in text)
    return ([f"does not name {', '.join(missing)}"] if missing else []) + \
           ([f"names {', '.join(foreign)}"] if foreign else [])


def read_documents(ledger: Ledger, population: Population) -> None:
    """Each first answer's PDF parsed: its pages are those its manifest binds, and its
    text names the residents asked for and nobody else."""
    for request_id, pdf, expected, terminal, pages in ledger.to_read:
        try:
            found = tuple(enumerate(page_digests(pdf), 1))
        except UnreadablePdf:
            found = None
        problems = [] if found == pages else ["manifest pages do not match"]
        problems += [f"the PDF {problem}" for problem in pdf_text_problems(pdf, expected, population)]
        ledger.mixups += [f"{terminal} request {request_id}: {problem}" for problem in problems]
    ledger.to_read.clear()


# --- one kiosk ------------------------------------------------------------------------

class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class GiveUp(Exception):
    """A call still failing at its deadline: the kiosk would go out of service."""


@dataclass(frozen=True)
class LoadPlan:
    docs_per_visit: int = 3
    visits: int | None = None  # per kiosk; None: until `until`
    until: float | None = None  # time.monotonic() after which no visit starts
    duplicate_rate: float = 0.0  # issuances sent twice at once
    timeout: float = 30.0
    give_up_after: float = 60.0
    card: str = "key"  # a CARDS kind
    rate: float | None = None  # paced: issuances per second, all kiosks together; None: flat out
    epoch: float | None = None  # paced: time.monotonic() of the timetable's first slot


# What visits ask for, in turn (a type the session does not offer is skipped): mostly
# 住民票, for the household or for the cardholder alone, then the other certificates.
MIX = (("residence_record", "household"), ("seal_certificate", "self"), ("residence_record", "self"),
       ("tax_certificate", "self"), ("residence_record_items", "household"),
       ("family_register_individual", "self"), ("residence_record", "household"),
       ("family_register_full", "household"))
_JSON = {"content-type": "application/json"}


class Kiosk:
    def __init__(self, identity: KioskIdentity, run: "Run", index: int = 0, count: int = 1):
        self.identity, self.run, self.ledger = identity, run, run.ledger
        self.index, self.count = index, count  # this kiosk's place in the fleet, for the timetable
        self.slots = 0  # timetable slots used
        self.card = CARDS[run.plan.card](identity.card)
        self.card_sha256 = hashlib.sha256(self.card.certificate_der).hexdigest()
        tls = ssl.create_default_context(cafile=str(run.pki.root))
        tls.load_cert_chain(str(identity.cert), str(identity.key))
        self.http = httpx.AsyncClient(base_url=run.url + API, verify=tls, timeout=run.plan.timeout)
        self.rng = random.Random(identity.terminal_id)
        self.turn = self.rng.randrange(len(MIX))  # kiosks start at different documents

    @property
    def plan(self) -> LoadPlan:
        return self.run.plan

    async def work(self) -> None:
        visits = 0
        while self.may_start(visits):
            try:
                await self.visit()
            except GiveUp as exc:
                self.ledger.lost.append(f"{self.identity.terminal_id}: gave up on {exc}")
            visits += 1
        await self.http.aclose()

    def may_start(self, visits: int) -> bool:
        if self.plan.visits is not None and visits >= self.plan.visits:
            return False
        if self.plan.until is None:
            return True
        return (self.due(self.slots) if self.plan.rate else time.monotonic()) < self.plan.until

    def due(self, slot: int) -> float:
        """When this kiosk's `slot`-th issuance is due: kiosk i of n at epoch + (i + k n) / rate,
        so the fleet's slots fall every 1 / rate seconds."""
        return self.plan.epoch + (self.index + slot * self.count) / self.plan.rate

    async def next_slot(self) -> float | None:
        """Paced: wait for the next slot of the timetable (at once if it is past) and
        return when it was due. Flat out: None."""
        if not self.plan.rate:
            return None
        due = self.due(self.slots)
        self.slots += 1
        if (delay := due - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        self.ledger.starts.append((due, time.monotonic() - due))
        return due

    async def visit(self) -> None:
        due = await self.next_slot()
        started = time.monotonic()
        session = await self.open_session()
        offered = {offer.type: offer for offer in session.documents if offer.available}
        for number in range(self.plan.docs_per_visit):
            if number:
                due = await self.next_slot()
            request, expected = self.next_request(session.session_id, offered)
            await self.issue_and_confirm(request, expected, due)
        self.ledger.visit_latency.append((time.monotonic(), time.monotonic() - started))

    def next_request(self, session_id: str, offered: dict) -> tuple[IssuanceRequest, frozenset[str]]:
        while True:
            document_type, whom = MIX[self.turn % len(MIX)]
            self.turn += 1
            if document_type in offered:
                break
        resident, household = self.identity.resident, self.run.population.households[self.identity.resident]
        options = DocumentOptions()
        if document_type.startswith("residence_record"):
            allowed = set(offered[document_type].options)
            include = tuple(sorted(allowed & {"relationship"})) if whom == "household" else ()
            options = DocumentOptions(members=None if whom == "household" else (resident,), include=include)
        expected = frozenset(household) if whom == "household" else frozenset({resident})
        request = IssuanceRequest(session_id=session_id, request_id=uuid.uuid4().hex, document_type=document_type,
                                  copies=1 + self.turn % 2, options=options)
        return request, expected

    async def open_session(self) -> SessionAnswer:
        """A challenge the card signs; if the session's answer is lost the challenge may
        be spent, so a new one is asked for."""
        deadline = time.monotonic() + self.plan.give_up_after
        for attempt in itertools.count():
            challenge = await self.call("/challenges", None, ChallengeAnswer)
            signature = self.card.sign(base64.b64decode(challenge.challenge))
            body = SessionRequest(challenge_id=challenge.challenge_id,
                                  certificate=base64.b64encode(self.card.certificate_der).decode(),
                                  signature=base64.b64encode(signature).decode())
            try:
                return await self.call("/sessions", body, SessionAnswer, retry=False)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise GiveUp("/sessions") from None
                await asyncio.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    async def issue_and_confirm(self, request: IssuanceRequest, expected: frozenset[str],
                                due: float | None = None) -> None:
        self.ledger.requests.add(request.request_id)
        started = time.monotonic()
        try:
            if self.rng.random() < self.plan.duplicate_rate:
                self.ledger.duplicated_requests += 1
                await asyncio.gather(self.issue(request, expected), self.issue(request, expected))
            else:
                await self.issue(request, expected)
        except Refused as refused:
            self.ledger.refusals[refused.code] += 1
            return
        answered = time.monotonic()
        self.ledger.issue_latency.append((answered, answered - started))
        if due is not None:
            self.ledger.paced_latency.append((due, answered - due))
        path = f"/issuances/{request.request_id}/printed"
        try:
            outcome = await self.call(path, None, OutcomeAnswer)
        except Refused as refused:
            self.ledger.lost.append(f"{self.identity.terminal_id} request {request.request_id}: "
                                    f"confirmation refused ({refused.code})")
            return
        if (outcome.request_id, outcome.state) != (request.request_id, "printed"):
            self.ledger.lost.append(f"{self.identity.terminal_id} request {request.request_id}: "
                                    f"confirmation answered {outcome.state} for {outcome.request_id}")
            return
        self.ledger.confirmed[request.request_id] = time.monotonic()

    async def issue(self, request: IssuanceRequest, expected: frozenset[str]) -> None:
        answer = await self.call("/issuances", request, IssuanceAnswer)
        pdf = base64.b64decode(answer.pdf)
        pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        for problem in self.check(answer, pdf_sha256, request):
            self.ledger.mixups.append(f"{self.identity.terminal_id} request {request.request_id}: {problem}")
        pages = tuple((p.number, p.sha256) for p in answer.manifest.pages)
        if self.ledger.answered(request.request_id, answer.manifest.serial, pdf_sha256, pages):
            self.ledger.to_read.append((request.request_id, pdf, expected, self.identity.terminal_id, pages))

    def check(self, answer: IssuanceAnswer, pdf_sha256: str, request: IssuanceRequest) -> list[str]:
        """What can be checked without parsing the PDF (read_documents does that)."""
        m = answer.manifest
        checks = {
            "signature": manifest_signature_valid(m, base64.b64decode(answer.manifest_signature),
                                                  self.run.signers[m.municipality]),
            "card": m.certificate_sha256 == self.card_sha256,
            "terminal": m.terminal_id == self.identity.terminal_id,
            "session": m.session_id == request.session_id,
            "request": m.request_id == request.request_id,
            "document type": m.document_type == request.document_type,
            "options": m.options == request.options,
            "copies": m.copies == request.copies,
            "pdf digest": m.pdf_sha256 == pdf_sha256,
        }
        return [f"manifest {name} does not match" for name, ok in checks.items() if not ok]

    async def call(self, path: str, body, answer_type, *, retry: bool = True):
        """POST, retrying the same body through transport failures and 5xx answers with
        backoff; a refusal (4xx) raises Refused."""
        content = body.model_dump_json().encode() if body is not None else None
        deadline = time.monotonic() + self.plan.give_up_after
        for attempt in itertools.count():
            try:
                response = await self.http.post(path, content=content, headers=_JSON if content else None)
            except httpx.TransportError as exc:
                self.ledger.retries[type(exc).__name__] += 1
                if not retry:
                    raise
            else:
                if response.status_code < 400:
                    return answer_type.model_validate_json(response.content)
                if response.status_code < 500:
                    raise Refused(Refusal.model_validate_json(response.content).code)
                self.ledger.retries[f"HTTP {response.status_code}"] += 1
            if time.monotonic() > deadline:
                raise GiveUp(path.split("/")[1])
            await asyncio.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def backoff(self, attempt: int) -> float:
        return min(1.0, 0.05 * 2 ** attempt) * self.rng.uniform(0.5, 1.5)


# --- a run ----------------------------------------------------------------------------

@dataclass
class Run:
    """Kiosks, what they share (read only), and the ledger they write."""

    data_dir: Path
    url: str
    plan: LoadPlan
    ledger: Ledger = field(default_factory=Ledger)

    def __post_init__(self):
        self.pki = PkiFiles(self.data_dir / "pki")
        self.signers = {code: cert.public_key() for code, cert in signers_by_municipality(
            x509.load_pem_x509_certificates(self.pki.manifest_signer.read_bytes())).items()}
        self.population = Population.load(self.data_dir / "registry.sqlite")

    def kiosks(self, count: int) -> list[Kiosk]:
        _without_sniffio_lookups()
        identities = fleet(self.data_dir)
        if count > len(identities):
            raise ValueError(f"{self.data_dir} was prepared for {len(identities)} kiosks")
        return [Kiosk(identity, self, index, count) for index, identity in enumerate(identities[:count])]

    async def drive(self, kiosks: list[Kiosk], stub: StubProcess | None = None,
                    restart_after: int | None = None) -> Ledger:
        """Every kiosk works the plan; with `stub` and `restart_after`, the stub is
        killed and restarted once that many issuances were answered."""
        restart = asyncio.create_task(self._restart(stub, restart_after)) if restart_after else None
        await asyncio.gather(*(kiosk.work() for kiosk in kiosks))
        if restart:
            restart.cancel()
        return self.ledger

    async def _restart(self, stub: StubProcess, after: int) -> None:
        while len(self.ledger.serials) < after:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(stub.restart)


def _without_sniffio_lookups() -> None:
    """httpcore 1.0 runs `import sniffio` on every request; with sniffio not installed
    each failed import searches sys.path, 13% of the load generator's CPU. A None entry
    in sys.modules makes that import fail at once."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)


def audit_registry(registry: Path, ledger: Ledger) -> list[str]:
    """The registry agrees with what the kiosks saw: every confirmed issuance printed,
    none left issued, one row per request id sent, each with the serial the kiosk got,
    and no serial twice."""
    with closing(sqlite3.connect(registry)) as conn:
        rows = {r: (serial, state) for r, serial, state in conn.execute(
            "SELECT request_id, serial, state FROM issuances")}
    problems = [f"request {r} confirmed but {rows.get(r, (None, 'missing'))[1]}"
                for r in ledger.confirmed if rows.get(r, (None, None))[1] != "printed"]
    problems += [f"request {r} left issued" for r, (_, state) in rows.items() if state == "issued"]
    problems += [f"request {r} sent but not in the registry" for r in ledger.requests - rows.keys()]
    problems += [f"request {r} in the registry but never sent" for r in rows.keys() - ledger.requests]
    problems += [f"request {r}: the kiosk got serial {s}, the registry holds {rows[r][0]}"
                 for r, s in ledger.serials.items() if r in rows and rows[r][0] != s]
    problems += [f"serial {s} held by {n} requests"
                 for s, n in Counter(serial for serial, _ in rows.values()).items() if n > 1]
    return problems


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def summary(ledger: Ledger, registry_problems: list[str]) -> str:
    lines = [f"issuances answered {len(ledger.serials)}, confirmed printed {len(ledger.confirmed)}, "
             f"request ids {len(ledger.requests)}, sent twice at once {ledger.duplicated_requests}",
             f"retries {dict(ledger.retries) or 'none'}; refusals {dict(ledger.refusals) or 'none'}",
             f"mix-ups {len(ledger.mixups)}, duplicates {len(ledger.duplicates)}, lost {len(ledger.lost)}, "
             f"registry problems {len(registry_problems)}"]
    lines += [f"  {problem}" for problem in (ledger.mixups + ledger.duplicates + ledger.lost + registry_problems)[:20]]
    return "\n".join(lines)


# --- the benchmark --------------------------------------------------------------------

@dataclass
class Window:
    """The timed part of a phase, after the warm-up, and the CPU each side used in it."""

    start: float
    end: float
    stub_cpu: float = 0.0
    front_cpu: float = 0.0  # of stub_cpu, the front process's
    generator_cpu: float = 0.0
    machine_cpu: float = 0.0  # every process: the rest is someone else's load, which skews the figures

    def holds(self, moment: float) -> bool:
        return self.start <= moment <= self.end


def _machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine since boot (/proc/stat: all but idle and iowait)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


async def _measure_cpu(window: Window, stub: StubProcess) -> None:
    await asyncio.sleep(window.start - time.monotonic())
    (front_start, stub_start), own_start, machine_start = stub.cpu_seconds(), time.process_time(), \
        _machine_cpu_seconds()
    await asyncio.sleep(window.end - time.monotonic())
    front_end, stub_end = stub.cpu_seconds()
    window.stub_cpu, window.front_cpu = stub_end - stub_start, front_end - front_start
    window.generator_cpu = time.process_time() - own_start
    window.machine_cpu = _machine_cpu_seconds() - machine_start


async def benchmark_phase(run: Run, stub: StubProcess, kiosks: int, seconds: float, warmup: float) -> Window:
    """Flat out, or on the timetable of run.plan.rate (its first slot now): no visit
    starts after the window; those under way finish."""
    fleet_ = run.kiosks(kiosks)
    now = time.monotonic()
    window = Window(now + warmup, now + warmup + seconds)
    run.plan = LoadPlan(docs_per_visit=run.plan.docs_per_visit, until=window.end, card=run.plan.card,
                        rate=run.plan.rate, epoch=now if run.plan.rate else None)
    measuring = asyncio.create_task(_measure_cpu(window, stub))
    await run.drive(fleet_)
    await measuring
    return window


def phase_report(run: Run, window: Window) -> str:
    seconds = window.end - window.start
    done = sum(1 for moment in run.ledger.confirmed.values() if window.holds(moment))
    issue = [v * 1000 for t, v in run.ledger.issue_latency if window.holds(t)]
    visit = [v * 1000 for t, v in run.ledger.visit_latency if window.holds(t)]
    other = max(0.0, window.machine_cpu - window.stub_cpu - window.generator_cpu)
    if run.plan.rate:
        # Every slot due in the window counts, however late it started or ended.
        due = [late for t, late in run.ledger.starts if window.holds(t)]
        paced = [v * 1000 for t, v in run.ledger.paced_latency if window.holds(t)]
        head = (f"{run.plan.docs_per_visit} document(s) per visit, paced at {run.plan.rate:g}/s: "
                f"{done / seconds:6.1f} complete issuances/s | from the scheduled start: "
                f"p50 {percentile(paced, 50):4.0f} ms p99 {percentile(paced, 99):4.0f} ms max {max(paced):4.0f} ms "
                f"({len(paced)} answered of {len(due)} due) | started late by > 100 ms: "
                f"{sum(1 for late in due if late > 0.1)} (max {max(due) * 1000:.0f} ms)\n"
                f"  issuance call alone p50 {percentile(issue, 50):4.0f} ms p99 {percentile(issue, 99):4.0f} ms\n")
    else:
        head = (f"{run.plan.docs_per_visit} document(s) per visit: {done / seconds:6.1f} complete issuances/s | "
                f"issuance p50 {percentile(issue, 50):4.0f} ms p99 {percentile(issue, 99):4.0f} ms | "
                f"visit p50 {percentile(visit, 50):4.0f} ms p99 {percentile(visit, 99):4.0f} ms\n")
    return (head +
            f"  CPU cores: stub {window.stub_cpu / seconds:.2f} (front process {window.front_cpu / seconds:.2f}), "
            f"load generator {window.generator_cpu / seconds:.2f}, other processes {other / seconds:.2f} | "
            f"CPU per complete issuance: stub {window.stub_cpu / max(done, 1) * 1000:.1f} ms, load generator "
            f"{window.generator_cpu / max(done, 1) * 1000:.1f} ms")


def _serve_stub(argv: list[str], **config) -> None:
    """The stub as the benchmark and the load test run it: certificate renderer
    processes, and the clock playing PRETEND_NOW; `config`: other ServiceConfig fields."""
    from municipal.log_format import configure_logging
    from municipal.server import serve
    from municipal.service import ServiceConfig
    from kiosk.clock import WallClock
    data_dir, port, renderers = Path(argv[0]), int(argv[1]), int(argv[2])
    configure_logging(fmt="%(asctime)s %(process)d %(name)s %(message)s")  # as the center logs
    clock = WallClock.playing(PRETEND_NOW)
    serve(ServiceConfig(data_dir, clock_offset=clock.offset, render_processes=renderers, **config), "127.0.0.1", port)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stub"]:
        _serve_stub(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.issuance_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--rate", type=float, help="paced: issuances per second, all kiosks together "
                                                   "(default: flat out)")
    parser.add_argument("--renderers", type=int, default=os.cpu_count(),
                        help="the stub's certificate renderer processes")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed window of each phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--docs-per-visit", default="3,1", help="one phase per value")
    parser.add_argument("--card", choices=sorted(CARDS), default="key")
    parser.add_argument("--data", type=Path, help="a prepared data folder to copy (made there if missing)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="issuance-load-") as tmp:
        template = args.data or Path(tmp) / "template"
        if not (template / "registry.sqlite").exists():
            print(f"preparing {args.kiosks} households, cards and terminals in {template} ...", flush=True)
            prepare(template, args.kiosks)
        data_dir = Path(tmp) / "run"
        shutil.copytree(template, data_dir)
        stub = StubProcess(data_dir, free_port(), args.renderers)
        stub.start()
        ledger = Ledger()
        pace = (f"paced at {args.rate:g} issuances/s (one every {args.kiosks / args.rate:.2f} s per kiosk)"
                if args.rate else "flat out")
        print(f"{args.kiosks} kiosks {pace}, {args.renderers} stub renderer process(es), card signing: {args.card}, "
              f"{os.cpu_count()} cores shared by stub and load generator", flush=True)
        try:
            for docs in (int(d) for d in args.docs_per_visit.split(",")):
                run = Run(data_dir, f"https://127.0.0.1:{stub.port}",
                          LoadPlan(docs_per_visit=docs, card=args.card, rate=args.rate), ledger)
                window = asyncio.run(benchmark_phase(run, stub, args.kiosks, args.seconds, args.warmup))
                print(phase_report(run, window), flush=True)
                started = time.monotonic()
                read_documents(ledger, run.population)
                print(f"  (PDF page and text checks of the phase's documents, after the window: "
                      f"{time.monotonic() - started:.1f} s)", flush=True)
        finally:
            stub.stop()
        problems = audit_registry(data_dir / "registry.sqlite", ledger)
        print(summary(ledger, problems))
    return 0 if not (ledger.mixups or ledger.duplicates or ledger.lost or problems) else 1


if __name__ == "__main__":
    sys.exit(main())
