"""The registry's pooled connections and its event-loop writes: a request waiting for
another process's write lock leaves the stub's other requests running, and nothing of
one unit of work survives into the next."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from municipal.registry import Registry


@pytest.fixture
def registry(tmp_path) -> Registry:
    path = tmp_path / "registry.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()
    return Registry(path)


def test_a_write_waiting_for_the_lock_does_not_stall_the_event_loop(registry):
    other = sqlite3.connect(registry.path, isolation_level=None)  # another worker process
    other.execute("BEGIN IMMEDIATE")

    async def write():
        async with registry.writing() as conn:
            conn.execute("INSERT INTO t VALUES (1)")

    async def main():
        writer = asyncio.create_task(write())
        # Other requests are served while the write waits, its retries between them: had
        # the write blocked the loop until SQLite gave up on the lock, it would be over
        # (failed) before the first was served.
        for _ in range(20):
            await asyncio.sleep(0.001)  # a request's own await, not a wait for the writer
            assert not writer.done(), "the write ended while another process held the lock"
        other.execute("COMMIT")  # only the loop, served, lets the other process finish
        await writer

    asyncio.run(main())
    with registry.reading() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    other.close()


def test_a_failed_unit_of_work_leaves_nothing_open_for_the_next(registry):
    with pytest.raises(ValueError):
        with registry.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            raise ValueError("refused")

    async def refused_write():
        async with registry.writing() as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            raise ValueError("refused")
    with pytest.raises(ValueError):
        asyncio.run(refused_write())

    with registry.transaction() as conn:
        assert not conn.execute("SELECT * FROM t").fetchall()
        conn.execute("INSERT INTO t VALUES (3)")
    other = sqlite3.connect(registry.path)  # committed, and the write lock released
    assert other.execute("SELECT x FROM t").fetchall() == [(3,)]
    other.execute("INSERT INTO t VALUES (4)")
    other.commit()
    other.close()
    with registry.reading() as conn:  # a pooled connection sees the other's commit
        assert [x for (x,) in conn.execute("SELECT x FROM t ORDER BY x")] == [3, 4]
