"""Runs the issuance API over HTTPS with mutual TLS on loopback, in one process or in
several worker processes that share nothing but the SQLite registry."""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import socket
import ssl

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from municipal.service import ServiceConfig, build_app


class PeerCertH11Protocol(H11Protocol):
    """Hands the verified client certificate to the app as
    scope["extensions"]["tls"]["client_cert_der"]: uvicorn 0.54 does not implement the
    ASGI TLS extension yet, and the terminal's identity must come from TLS, not from a
    header the kiosk could write."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        inner = self.app

        async def app_with_peer_cert(scope, receive, send):
            scope.setdefault("extensions", {})["tls"] = {"client_cert_der": der}
            await inner(scope, receive, send)

        self.app = app_with_peer_cert


def serve(config: ServiceConfig, host: str, port: int, workers: int = 1) -> None:
    """Serve until SIGTERM or SIGINT. With workers > 1, each worker binds the port with
    SO_REUSEPORT and the kernel spreads connections over them: the request handlers
    run synchronously on the event loop, so one process uses at most one core."""
    if workers == 1:
        _server(config, host, port).run()
        return
    # fork: the children inherit the logging set-up; nothing runs in this process yet.
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_run_worker, args=(config, host, port), daemon=True)
                for _ in range(workers)]
    signal.signal(signal.SIGTERM, lambda *_: _stop(children))
    for child in children:
        child.start()
    try:
        # One worker gone means the service is degraded: stop, and let whoever runs
        # the stub see it exit.
        multiprocessing.connection.wait([child.sentinel for child in children])
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)


def _server(config: ServiceConfig, host: str, port: int) -> uvicorn.Server:
    pki = config.pki
    return uvicorn.Server(uvicorn.Config(
        build_app(config), host=host, port=port, http=PeerCertH11Protocol,
        ssl_certfile=str(pki.server_cert), ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.root), ssl_cert_reqs=ssl.CERT_REQUIRED,
        timeout_graceful_shutdown=1, log_level="warning", access_log=False))


def _run_worker(config: ServiceConfig, host: str, port: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: uvicorn re-raises it on exit
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    _server(config, host, port).run(sockets=[listener])


def _stop(children) -> None:
    for child in children:
        if child.is_alive():
            child.terminate()
    for child in children:
        child.join(timeout=5)
