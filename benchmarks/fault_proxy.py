"""A TCP proxy between kiosks and the issuance center that loses and delays answers.

It forwards the TLS bytes untouched (it holds no keys, so mutual TLS is end to end)
and reads only the 5-byte TLS record headers, to tell the handshake from requests:
the client's ChangeCipherSpec flight ends its handshake (TLS 1.2, and TLS 1.3 in the
middlebox-compatible mode OpenSSL uses), so application data the client sends in a
later read is a request. When the server starts answering a request the proxy may
  - drop the connection: the request reached the server, its answer never comes
    back, and the client cannot tell whether it was processed;
  - hold the answer back for a while, sometimes past the client's timeout.
A connection the server refuses (say, while it restarts) is closed at once.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

CHANGE_CIPHER_SPEC, APPLICATION_DATA = 20, 23
_HEADER = 5


@dataclass(frozen=True)
class FaultRates:
    drop: float = 0.0  # share of answers whose connection is cut
    slow: float = 0.0  # share of answers held back
    slow_delay: tuple[float, float] = (0.2, 1.0)  # seconds, uniform


@dataclass
class FaultCounts:
    connections: int = 0
    answers: int = 0  # answers that started while a request was outstanding
    dropped: int = 0
    delayed: int = 0
    refused_upstream: int = 0


class _RecordTypes:
    """Content types of the TLS records that start in each chunk of one direction."""

    def __init__(self):
        self._skip = 0  # bytes of the current record still to come
        self._partial = b""  # a header split across chunks

    def feed(self, chunk: bytes) -> list[int]:
        types, data = [], self._partial + chunk
        self._partial, position = b"", 0
        while position < len(data):
            if self._skip:
                step = min(self._skip, len(data) - position)
                self._skip -= step
                position += step
            elif len(data) - position < _HEADER:
                self._partial = data[position:]
                break
            else:
                types.append(data[position])
                self._skip = int.from_bytes(data[position + 3:position + 5], "big")
                position += _HEADER
        return types


class FaultProxy:
    """Listens on a free loopback port and forwards to target_port."""

    def __init__(self, target_port: int, rates: FaultRates, rng_seed: int = 0):
        self.target_port = target_port
        self.rates = rates
        self.counts = FaultCounts()
        self._rng = random.Random(rng_seed)
        self._server: asyncio.Server | None = None
        self._links: dict[asyncio.Task, _Link] = {}  # open connections, by their handler task

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and cut every open connection."""
        self._server.close()
        for link in self._links.values():
            link.abort()
        await asyncio.gather(*self._links, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, client_reader, client_writer) -> None:
        self.counts.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            self.counts.refused_upstream += 1
            client_writer.transport.abort()
            return
        task = asyncio.current_task()
        self._links[task] = _Link(self, client_reader, client_writer, server_reader, server_writer)
        try:
            await self._links[task].run()
        finally:
            del self._links[task]

    def fate(self) -> tuple[str, float]:
        """What happens to the answer now starting: ("drop"|"slow"|"pass", delay)."""
        self.counts.answers += 1
        draw = self._rng.random()
        if draw < self.rates.drop:
            self.counts.dropped += 1
            return "drop", 0.0
        if draw < self.rates.drop + self.rates.slow:
            self.counts.delayed += 1
            return "slow", self._rng.uniform(*self.rates.slow_delay)
        return "pass", 0.0


class _Link:
    """One proxied connection: a pump per direction, both ended together."""

    def __init__(self, proxy: FaultProxy, client_reader, client_writer, server_reader, server_writer):
        self.proxy = proxy
        self.client_reader, self.client_writer = client_reader, client_writer
        self.server_reader, self.server_writer = server_reader, server_writer
        self.handshake_done = False
        self.request_outstanding = False

    async def run(self) -> None:
        pumps = [asyncio.create_task(self._requests()), asyncio.create_task(self._answers())]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            self.abort()

    def abort(self) -> None:
        self.client_writer.transport.abort()
        self.server_writer.transport.abort()

    async def _requests(self) -> None:
        records = _RecordTypes()
        while chunk := await self.client_reader.read(65536):
            types = records.feed(chunk)
            if self.handshake_done and APPLICATION_DATA in types:
                self.request_outstanding = True
            if CHANGE_CIPHER_SPEC in types:
                self.handshake_done = True
            self.server_writer.write(chunk)
            await self.server_writer.drain()

    async def _answers(self) -> None:
        while chunk := await self.server_reader.read(65536):
            if self.request_outstanding:
                self.request_outstanding = False
                fate, delay = self.proxy.fate()
                if fate == "drop":
                    return
                await asyncio.sleep(delay)
            self.client_writer.write(chunk)
            await self.client_writer.drain()
