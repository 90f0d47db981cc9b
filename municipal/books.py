"""The registry's books: whether the protocol's own records agree with each other.

Every record the service writes goes with its audit row in one transaction, so a
registry left behind by any sequence of requests (good, malformed or hostile) must
pass books_problems(). The fuzz test and benchmark call it after their runs; it reads
only, and reports identifiers, never a document's content.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from municipal.pki import PkiFiles
from contract.issuance import REFUSAL_CODES, DocumentOptions, Manifest, manifest_signature_valid
from municipal.verification_code import serial_of

STATES = ("issued", "printed", "voided")
# The outcomes each audited event may record besides a refusal code.
OUTCOMES = {
    "challenge": {"issued"},
    "session": {"opened"},
    "issuance": {"issued", "replayed", "serial_collision"},
    "printed": {"recorded"},
    "voided": {"recorded", "before_issue", "deadline"},
    "verification": {"unknown", "forged", *STATES},
}
# The audit rows an issuance in each state must have, by (event, outcomes).
STATE_AUDIT = {"printed": ("printed", {"recorded"}), "voided": ("voided", {"recorded", "deadline"})}


def books_problems(data_dir: Path) -> list[str]:
    """What is inconsistent in the registry of the stub installed in data_dir (empty if
    nothing): issuances against their session, request, manifest, PDF, fee and audit;
    voided requests; audit outcomes."""
    pki = PkiFiles(data_dir / "pki")
    with closing(sqlite3.connect(f"file:{data_dir / 'registry.sqlite'}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        audit = conn.execute("SELECT event, outcome, request FROM audit").fetchall()
        problems = _audit_problems(audit)
        audited = Counter((row["event"], row["outcome"], row["request"]) for row in audit)
        fees = {(row["municipality"], row["type"]): row["fee_yen"]
                for row in conn.execute("SELECT * FROM offered_documents")}
        sessions = {row["id"]: row for row in conn.execute("SELECT * FROM sessions")}
        signers: dict[str, ec.EllipticCurvePublicKey | None] = {}
        issuances = conn.execute("SELECT * FROM issuances").fetchall()
        for row in issuances:
            problems += [f"issuance {row['request_id']}: {p}"
                         for p in _issuance_problems(row, sessions, fees, audited, pki, signers)]
        problems += [f"serial {serial} held by {n} issuances"
                     for serial, n in Counter(row["serial"] for row in issuances).items() if n > 1]
        issued = {row["request_id"] for row in issuances}
        problems += [f"audit says issued but no issuance {request}"
                     for (event, outcome, request), _ in audited.items()
                     if (event, outcome) == ("issuance", "issued") and request not in issued]
        problems += _session_problems(conn, sessions, audited)
        problems += [f"request {row['request_id']} voided before issue by {row['terminal']} has an issuance"
                     for row in conn.execute("SELECT v.request_id, v.terminal FROM voided_requests v JOIN"
                                             " issuances i ON i.request_id = v.request_id"
                                             " AND i.terminal = v.terminal")]
    return problems


def _audit_problems(audit) -> list[str]:
    problems = []
    # "internal_error:<error id>": one line for them all
    outcomes = Counter((row["event"], row["outcome"].partition(":")[0]) for row in audit)
    for (event, outcome), n in outcomes.items():
        if outcome == "internal_error":
            problems.append(f"audit: {n} internal errors on {event}")
        elif event not in OUTCOMES:
            problems.append(f"audit: unknown event {event!r} ({outcome}, {n} times)")
        elif outcome not in OUTCOMES[event] and outcome not in REFUSAL_CODES:
            problems.append(f"audit: unknown outcome {outcome!r} of {event} ({n} times)")
    return problems


def _issuance_problems(row, sessions, fees, audited, pki: PkiFiles, signers) -> list[str]:
    if row["state"] not in STATES:
        return [f"state {row['state']!r}"]
    problems = []
    session = sessions.get(row["session"])
    if session is None:
        problems.append(f"session {row['session']} is not in the registry")
    elif session["terminal"] != row["terminal"]:
        problems.append(f"session of terminal {session['terminal']}, issuance of {row['terminal']}")
    try:
        manifest = Manifest.model_validate_json(row["manifest"])
        request = json.loads(row["request"])
        options = DocumentOptions.model_validate(request.get("options", {}))
    except (ValidationError, ValueError, AttributeError) as exc:
        return problems + [f"manifest or request unreadable: {type(exc).__name__}"]
    expected = {"request_id": row["request_id"], "session_id": row["session"], "terminal_id": row["terminal"],
                "serial": row["serial"], "document_type": request.get("document_type"),
                "copies": request.get("copies"), "options": options}
    if row["pdf"]:  # dropped at its print-by time (municipal.housekeeping)
        expected["pdf_sha256"] = hashlib.sha256(row["pdf"]).hexdigest()
    elif row["print_by"] >= time.time():
        problems.append("the PDF is gone before its print-by time")
    if session is not None:
        expected["certificate_sha256"] = session["cert_sha256"]
    problems += [f"manifest {name} differs from the record" for name, value in expected.items()
                 if getattr(manifest, name) != value]
    if request.get("session_id") != row["session"]:
        problems.append("the stored request names another session")
    fee = fees.get((manifest.municipality, manifest.document_type))
    if fee is None or manifest.fee_yen != fee * manifest.copies:
        problems.append(f"fee {manifest.fee_yen} yen is not {manifest.copies} x the offered fee {fee}")
    signer = _signer(pki, manifest.municipality, signers)
    if signer is None or not manifest_signature_valid(manifest, row["signature"], signer):
        problems.append(f"manifest signature does not verify with municipality {manifest.municipality}'s key")
    if _code_serial(row["code"]) != row["serial"]:
        problems.append("the printed code names another serial")
    if audited[("issuance", "issued", row["request_id"])] != 1:
        problems.append(f"audited as issued {audited[('issuance', 'issued', row['request_id'])]} times")
    if row["state"] in STATE_AUDIT:
        event, outcomes = STATE_AUDIT[row["state"]]
        if not any(audited[(event, outcome, row["request_id"])] for outcome in outcomes):
            problems.append(f"{row['state']} without a {event} audit")
    return problems


def _session_problems(conn, sessions, audited) -> list[str]:
    cards = {row["cert_sha256"]: row["resident"] for row in conn.execute("SELECT * FROM cards")}
    problems = [f"session {sid}: its card is not the resident's" for sid, row in sessions.items()
                if cards.get(row["cert_sha256"]) != row["resident"]]
    for what, table, event, outcome in (("sessions", "sessions", "session", "opened"),
                                        ("challenges", "challenges", "challenge", "issued")):
        stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        logged = sum(n for (e, o, _), n in audited.items() if (e, o) == (event, outcome))
        if stored > logged:  # fewer is housekeeping's doing: it removes them past their life
            problems.append(f"{stored} {what} stored, {logged} audited as {outcome}")
    return problems


def _signer(pki: PkiFiles, municipality: str, signers: dict) -> ec.EllipticCurvePublicKey | None:
    if municipality not in signers:
        try:
            signers[municipality] = pki.municipal_signer(municipality).cert.public_key()
        except FileNotFoundError:
            signers[municipality] = None
    return signers[municipality]


def _code_serial(code: str) -> str | None:
    try:
        return serial_of(code)
    except ValueError:
        return None
