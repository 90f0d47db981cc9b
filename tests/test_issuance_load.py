"""Fifty kiosks at once against the issuance stub over mutual TLS, each with its own
terminal certificate and card, through a proxy that cuts and holds back answers, with
issuances sent twice at once and the stub killed and restarted mid-run: every kiosk
gets only its own card's documents, one document per request, and every confirmation
lands in the registry. Paced kiosks keep their timetable and get the same
guarantees."""
from __future__ import annotations

import asyncio
import dataclasses
import math
import time

from benchmarks.fault_proxy import FaultProxy, FaultRates
from benchmarks.issuance_load import LoadPlan, Run, StubProcess, audit_registry, free_port, read_documents, summary
from tests.fixtures.load import LOAD_KIOSKS

VISITS, DOCS = 2, 3
# Some held-back answers outlast the kiosks' timeout, so the retry races the answer.
FAULTS = FaultRates(drop=0.08, slow=0.08, slow_delay=(0.2, 3.0))
PLAN = LoadPlan(docs_per_visit=DOCS, visits=VISITS, duplicate_rate=0.1, timeout=2.0, card="apdu")


async def _drive(run: Run, stub: StubProcess, proxy: FaultProxy) -> None:
    await run.drive(run.kiosks(LOAD_KIOSKS), stub=stub, restart_after=LOAD_KIOSKS * VISITS * DOCS // 3)
    await proxy.close()


def run_fleet(load_data, drive):
    """Runs `drive(stub)` (a coroutine that builds and drives a Run) against a stub with
    two renderer processes, then reads every document's text back and audits the registry."""
    stub = StubProcess(load_data, free_port(), renderers=2)
    stub.start()
    try:
        run = asyncio.run(drive(stub))
    finally:
        stub.stop()
    read_documents(run.ledger, run.population)
    return run, stub, audit_registry(load_data / "registry.sqlite", run.ledger)


def test_fifty_kiosks_under_faults_get_their_own_documents_once(load_data):
    proxy = None

    async def main(stub):
        nonlocal proxy
        proxy = FaultProxy(stub.port, FAULTS, rng_seed=1)
        run = Run(load_data, f"https://127.0.0.1:{await proxy.start()}", PLAN)
        await _drive(run, stub, proxy)
        return run

    run, stub, problems = run_fleet(load_data, main)
    ledger = run.ledger
    print(f"\nfaults: {proxy.counts}, stub restarts {stub.restarts}\n{summary(ledger, problems)}")

    assert proxy.counts.dropped and proxy.counts.delayed and ledger.duplicated_requests and stub.restarts == 1
    assert ledger.mixups == []
    assert ledger.duplicates == []
    assert ledger.lost == [] and not ledger.refusals
    assert problems == []
    assert len(ledger.confirmed) == LOAD_KIOSKS * VISITS * DOCS


PACED_KIOSKS, PACED_RATE = 5, 25.0


def test_paced_kiosks_issue_on_a_uniform_timetable_and_get_their_own_documents(load_data):
    """The open-loop mode: kiosk i of n is due at epoch + (i + k n) / rate, so the
    center sees one issuance every 1 / rate seconds; latency counts from when a slot
    was due. No timing is asserted, only the timetable and the checks."""
    async def main(stub):
        run = Run(load_data, f"https://127.0.0.1:{stub.port}", LoadPlan(docs_per_visit=2, visits=2))
        fleet = run.kiosks(PACED_KIOSKS)
        run.plan = dataclasses.replace(run.plan, rate=PACED_RATE, epoch=time.monotonic())
        await run.drive(fleet)
        return run

    run, _, problems = run_fleet(load_data, main)
    ledger = run.ledger
    print(f"\n{summary(ledger, problems)}")

    slots = PACED_KIOSKS * 2 * 2
    assert ledger.mixups == [] and ledger.duplicates == [] and ledger.lost == [] and not ledger.refusals
    assert problems == []
    assert len(ledger.confirmed) == slots
    dues = sorted(due for due, _ in ledger.starts)
    assert len(dues) == slots and all(late >= 0 for _, late in ledger.starts)
    assert all(math.isclose(b - a, 1 / PACED_RATE, rel_tol=1e-6) for a, b in zip(dues, dues[1:]))
    assert sorted(due for due, _ in ledger.paced_latency) == dues
    assert all(seconds > 0 for _, seconds in ledger.paced_latency)
