"""Generated requests against both of the issuance center's servers (the kiosk API
over mutual TLS, the public verification site): whatever they are sent, they answer
in time, never with a 5xx, and refuse with a JSON refusal the kiosk knows; a kiosk is
still served afterwards and the registry's books balance. The strategies are
benchmarks/fuzz_center.py's, whose long run finds what this bounded one may not."""
from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.fuzz_center import exchange, known_for, requests, running_center, serve_a_kiosk
from devices.card.cardfile import CardFile
from kiosk.issuance_client import IssuanceClient
from municipal.books import books_problems
from municipal.cli import card_path

# Strategies holding a card certificate or an OCSP request make long reprs, which
# hypothesis warns about when it reports a failure; the request itself prints short.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# About 20 s of requests on the 2-core machine when all pass, derandomized so that CI reproduces
# what it finds (shrinking a failure takes longer).
EXAMPLES = 2000


@dataclass
class Fuzzed:
    data_dir: Path
    kiosk: IssuanceClient
    failure: Exception | None  # what hypothesis raised: one falsifying request, or a group of them


@pytest.fixture(scope="module")
def fuzzed(stub_template, tmp_path_factory):
    """One stub (and public site) for the module, fuzzed once; each test judges it."""
    data_dir = tmp_path_factory.mktemp("fuzz-center") / "stub"
    shutil.copytree(stub_template, data_dir)
    with running_center(data_dir) as (center, kiosk):
        known = known_for(kiosk, data_dir)

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.large_base_example])
        @given(request=requests(known))
        def fuzz(request):
            exchange(center, request)

        try:
            fuzz()
            failure = None
        except Exception as exc:  # reported by the first test, after the others have looked
            failure = exc
        yield Fuzzed(data_dir, kiosk, failure)


def test_every_request_is_answered_in_time_below_500_and_refused_as_json(fuzzed):
    if fuzzed.failure is not None:
        raise fuzzed.failure


def test_a_kiosk_is_still_served_after_the_fuzz(fuzzed):
    serve_a_kiosk(fuzzed.kiosk, CardFile.load(card_path(fuzzed.data_dir, "R0001")))


def test_the_registry_books_balance_after_the_fuzz(fuzzed):
    assert books_problems(fuzzed.data_dir) == []


def _refee(db):
    request_id, manifest = db.execute("SELECT request_id, manifest FROM issuances WHERE state = 'printed'").fetchone()
    changed = {**json.loads(manifest), "fee_yen": 1}
    db.execute("UPDATE issuances SET manifest = ? WHERE request_id = ?", (json.dumps(changed), request_id))


TAMPERINGS = {
    "a fee changed after signing": (_refee, "fee 1 yen"),
    "a PDF swapped": (lambda db: db.execute("UPDATE issuances SET pdf = x'00'"), "manifest pdf_sha256 differs"),
    "a printed issuance without its audit": (lambda db: db.execute("DELETE FROM audit WHERE event = 'printed'"),
                                             "printed without a printed audit"),
    "an issued request voided before issue": (
        lambda db: db.execute("INSERT INTO voided_requests (request_id, terminal, at)"
                              " SELECT request_id, terminal, 0 FROM issuances"), "voided before issue"),
    "an audit outcome nobody writes": (
        lambda db: db.execute("INSERT INTO audit (at, event, outcome) VALUES (0, 'issuance', 'teleported')"),
        "unknown outcome 'teleported'"),
    "a session gone": (lambda db: db.execute("DELETE FROM sessions"), "is not in the registry"),
}


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_the_books_check_finds_a_tampered_registry(fuzzed, tmp_path, tampering):
    """The check the fuzz relies on is not vacuous: each kind of damage is reported."""
    tamper, problem = TAMPERINGS[tampering]
    data_dir = tmp_path / "stub"
    shutil.copytree(fuzzed.data_dir, data_dir, ignore=shutil.ignore_patterns("*.log"))
    with closing(sqlite3.connect(data_dir / "registry.sqlite")) as db, db:
        tamper(db)
    assert any(problem in found for found in books_problems(data_dir)), books_problems(data_dir)
