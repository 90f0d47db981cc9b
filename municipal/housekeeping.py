"""Keeps the issuance center's registry bounded: the protocol's short-lived records go
once past their life, the audit after its retention. Issuances stay: they are the
center's books, and the public verification site reads them; but the PDF (~100 KB,
nine tenths of a row) goes at its print-by time, after which no request returns it.

Why each may go:
- A challenge past its expiry can only be refused; gone, it is refused as unknown.
- A session past its expiry is refused exactly as a missing one (session_invalid).
  Its issuances keep what they need of it (terminal, and the card in the manifest).
- A request id voided before it was issued only matters while a session that could
  send it is open. Such a session was opened before the void, so it has closed
  SESSION_TTL_S after it; from then on the request id cannot produce a document,
  row or not.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass

from municipal.registry import Registry

log = logging.getLogger("municipal.housekeeping")

PURGE_EVERY_S = 60.0
DAY_S = 86_400.0
# A Japanese fiscal year (April to March) and a month more: a closed year's audit
# stays whole for a month after it ends, for its review.
AUDIT_RETENTION_DAYS = 400.0
# Rows per table per transaction, which holds the write lock (and the front's event
# loop). Measured (README): a minute's expired rows at 100 issuances/s go in 2 ms
# transactions; a backlog of 100,000 rows per table in 60 ms ones (130 ms at most),
# where one transaction would hold the lock 1.2 s.
BATCH_ROWS = 2000
# PDFs per transaction: dropping one frees ~25 pages; 100 of them held the write lock
# ~50 ms in the soak (benchmarks/soak.py, README).
PDF_BATCH = 100


@dataclass(frozen=True)
class Lives:
    """How long past their own deadline rows are kept, in seconds."""

    voided_request_s: float  # from the void: the longest a session could still be open
    audit_s: float  # from the event: the retention

    def cutoffs(self, now: float) -> dict[tuple[str, str], float]:
        """(table, time column) -> rows whose time is before this go."""
        return {("challenges", "expires_at"): now, ("sessions", "expires_at"): now,
                ("voided_requests", "at"): now - self.voided_request_s, ("audit", "at"): now - self.audit_s}


def purge_batch(conn: sqlite3.Connection, now: float, lives: Lives, batch_rows: int = BATCH_ROWS) -> Counter:
    """In the caller's write transaction, delete up to batch_rows rows past their life
    from each table (by the index on its time column); the rows deleted per table."""
    removed: Counter = Counter()
    for (table, column), cutoff in lives.cutoffs(now).items():
        removed[table] = conn.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {column} < ? LIMIT ?)",
            (cutoff, batch_rows)).rowcount
    removed["issuance_pdfs"] = conn.execute(
        "UPDATE issuances SET pdf = x'' WHERE rowid IN"
        " (SELECT rowid FROM issuances WHERE length(pdf) > 0 AND print_by < ? LIMIT ?)",
        (now, min(batch_rows, PDF_BATCH))).rowcount
    return removed


async def purge(registry: Registry, now: float, lives: Lives, batch_rows: int = BATCH_ROWS) -> Counter:
    """Every row past its life as of `now`, a batch per short write transaction; the
    event loop serves requests between batches."""
    total: Counter = Counter()
    while True:
        async with registry.writing() as conn:
            removed = purge_batch(conn, now, lives, batch_rows)
        total.update(removed)
        limits = {table: min(batch_rows, PDF_BATCH) if table == "issuance_pdfs" else batch_rows for table in removed}
        if all(removed[table] < limit for table, limit in limits.items()):
            return total
        await asyncio.sleep(0)


async def keep_bounded(registry: Registry, lives: Lives, every_s: float = PURGE_EVERY_S) -> None:
    """Purge at once, then every `every_s` seconds, until cancelled. A purge that
    fails (the registry locked past the timeout, a full disk) is logged and tried
    again next time."""
    while True:
        started = time.monotonic()
        try:
            removed = await purge(registry, time.time(), lives)
        except sqlite3.Error as exc:
            log.warning("housekeeping failed: %s", exc)
        else:
            if any(removed.values()):
                log.info("housekeeping removed %s in %.0f ms",
                         " ".join(f"{table}={n}" for table, n in removed.items()),
                         (time.monotonic() - started) * 1000)
        await asyncio.sleep(every_s)
