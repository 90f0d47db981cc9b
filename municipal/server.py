"""Runs the issuance API over HTTPS with mutual TLS on loopback."""
from __future__ import annotations

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


def serve(config: ServiceConfig, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT: one process holds every connection and the
    registry's writes; certificates render in config.render_processes worker
    processes (municipal.rendering)."""
    pki = config.pki
    uvicorn.Server(uvicorn.Config(
        build_app(config), host=host, port=port, http=PeerCertH11Protocol,
        ssl_certfile=str(pki.server_cert), ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.root), ssl_cert_reqs=ssl.CERT_REQUIRED,
        timeout_graceful_shutdown=1, log_level="warning", access_log=False)).run()
