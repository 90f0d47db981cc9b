"""Serves the center's apps over HTTPS on loopback with uvicorn's HTTP/1.1 protocol,
doing TLS itself so that it can bound and count what uvicorn cannot:

- A connection must finish its TLS handshake and send complete request headers
  within HEADER_DEADLINE_S of being accepted (and, on a kept-alive connection, of its
  last response), or it is closed. uvicorn 0.54 has no such limit: a client trickling
  a header byte at a time held its connection open for ever (slowloris). asyncio's own
  TLS server waits 60 s for a handshake and hides why one failed.
- Failed handshakes are counted by reason (no client certificate, unknown CA,
  timeout, not TLS at all...), with the connections closed for slow headers, and the
  counts logged: the first of each reason at once, then a summary at most once a
  minute (a flood of bad connections must not become a flood of log lines).
- The verified client certificate is handed to the app as
  scope["extensions"]["tls"]["client_cert_der"] (uvicorn does not implement the ASGI
  TLS extension yet, and a terminal's identity must come from TLS, not from a header).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import ssl
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from municipal.pki import PkiFiles

log = logging.getLogger("municipal.tls")

HEADER_DEADLINE_S = 10.0
SUMMARY_EVERY_S = 60.0


class ConnectionFailures:
    """Failed TLS handshakes by reason, and connections closed for slow headers."""

    def __init__(self):
        self.counts: collections.Counter[str] = collections.Counter()
        self._last_summary = time.monotonic()
        self._summarised: collections.Counter[str] = collections.Counter()

    def add(self, reason: str) -> None:
        self.counts[reason] += 1
        if self.counts[reason] == 1:
            log.warning("connection failed reason=%s (first; later ones are counted)", reason)
        elif time.monotonic() - self._last_summary >= SUMMARY_EVERY_S:
            self.log_summary()

    def log_summary(self) -> None:
        self._last_summary = time.monotonic()
        if self.counts != self._summarised:
            log.warning("connection failures %s",
                        " ".join(f"{reason}={n}" for reason, n in sorted(self.counts.items())))
            self._summarised = self.counts.copy()


def handshake_failure_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or type(exc).__name__).lower()
    if isinstance(exc, (ConnectionAbortedError, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    return type(exc).__name__.lower()


class _Held(asyncio.Protocol):
    """Holds what arrives between the end of the handshake and the HTTP protocol
    taking over (asyncio delivers early application data before start_tls returns)."""

    def __init__(self):
        self.data: list[bytes] = []
        self.eof = False
        self.lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self.data.append(data)

    def eof_received(self):
        self.eof = True

    def connection_lost(self, exc):
        self.lost = (exc,)


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, behind a TLS handshake done by TlsFront: closes a
    connection whose request headers are not complete by the deadline, and hands the
    app the client certificate."""

    header_deadline_at: float  # loop time, set by TlsFront before connection_made
    failures: ConnectionFailures
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        inner = self.app

        async def app_with_peer_cert(scope, receive, send):
            self._disarm_deadline()  # the request's headers are complete
            scope.setdefault("extensions", {})["tls"] = {"client_cert_der": der}
            await inner(scope, receive, send)

        self.app = app_with_peer_cert
        self._deadline = self.loop.call_at(self.header_deadline_at, self._headers_too_slow)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():  # kept alive: the next request's headers in time too
            self._disarm_deadline()
            self._deadline = self.loop.call_later(HEADER_DEADLINE_S, self._headers_too_slow)

    def connection_lost(self, exc) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:
            self.failures.add("request_headers_timeout")
            self.transport.close()


def tls_front(tls: ssl.SSLContext, failures: ConnectionFailures):
    """The protocol class uvicorn instantiates per accepted (clear) TCP connection."""

    class TlsFront(asyncio.Protocol):
        def __init__(self, **uvicorn_kwargs):
            self._http = DeadlineH11Protocol(**uvicorn_kwargs)
            self._http.failures = failures
            self._handshake: asyncio.Task | None = None

        def connection_made(self, transport) -> None:
            loop = self._http.loop
            self._http.header_deadline_at = loop.time() + HEADER_DEADLINE_S
            self._handshake = loop.create_task(self._start_tls(loop, transport))

        async def _start_tls(self, loop, transport) -> None:
            held = _Held()
            try:
                wrapped = await loop.start_tls(transport, held, tls, server_side=True,
                                               ssl_handshake_timeout=HEADER_DEADLINE_S)
            except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
                failures.add(f"tls_{handshake_failure_reason(exc)}")
                transport.abort()
                return
            wrapped.set_protocol(self._http)
            self._http.connection_made(wrapped)
            for data in held.data:
                self._http.data_received(data)
            if held.eof:
                self._http.eof_received()
            if held.lost is not None:
                self._http.connection_lost(*held.lost)

        def connection_lost(self, exc) -> None:
            # Only while the handshake has not begun; then the TLS layer owns the socket.
            if self._handshake is not None:
                self._handshake.cancel()

    return TlsFront


def tls_context(pki: PkiFiles, client_certificates: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if client_certificates:
        context.load_verify_locations(pki.root)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def serve_https(app, pki: PkiFiles, host: str, port: int, *, client_certificates: bool) -> None:
    """Serve `app` until SIGTERM or SIGINT, TLS done by TlsFront."""
    failures = ConnectionFailures()
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, http=tls_front(tls_context(pki, client_certificates), failures),
        timeout_graceful_shutdown=1, log_level="warning", access_log=False,
        # No proxy in front: the client address is the connection's, never an
        # X-Forwarded-For header (uvicorn trusts one from loopback by default).
        proxy_headers=False))
    try:
        server.run()
    finally:
        failures.log_summary()


def serve(config, host: str, port: int) -> None:
    """The issuance API, mutual TLS: one process holds every connection and the
    registry's writes; certificates render in config.render_processes worker
    processes (municipal.rendering)."""
    from municipal.service import build_app
    serve_https(build_app(config), config.pki, host, port, client_certificates=True)
