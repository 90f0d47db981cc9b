"""The kiosk's client for the issuance center: HTTPS with the terminal's certificate.

Network trouble and refusals are different exceptions: the first is "try again later"
(out of service), the second carries the center's reason code for the screen.
"""
from __future__ import annotations

import base64
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from contract.issuance import (API, ChallengeAnswer, IssuanceAnswer, IssuanceRequest, Manifest,
                                Refusal, SessionAnswer, SessionRequest)


class IssuanceError(Exception):
    code = "service_error"


class ServiceUnreachable(IssuanceError):
    code = "service_unreachable"


class ServiceRefused(IssuanceError):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    nonce: bytes


@dataclass(frozen=True)
class IssuedDocument:
    pdf: bytes
    manifest: Manifest
    signature: bytes


class IssuanceClient:
    def __init__(self, base_url: str, *, ca_cert: Path, client_cert: Path, client_key: Path,
                 timeout: float = 15.0):
        tls = ssl.create_default_context(cafile=str(ca_cert))
        tls.load_cert_chain(str(client_cert), str(client_key))  # a bad certificate or key stops the start
        self._settings = {"base_url": base_url.rstrip("/") + API, "verify": tls, "timeout": timeout}
        self._client = None
        self._lock = threading.Lock()

    @property
    def _http(self):
        """httpx takes ~100 ms to import and set up: it comes with the first request, which
        is made off the frame loop, so the kiosk's first frame does not wait for it."""
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(**self._settings)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    def _post(self, path: str, body: BaseModel | None, answer_type: type[BaseModel] | None):
        import httpx

        try:
            response = self._http.post(path, json=body.model_dump() if body else None)
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            try:
                refusal = Refusal.model_validate_json(response.content)
            except ValidationError:
                raise IssuanceError(f"HTTP {response.status_code} without a reason") from None
            raise ServiceRefused(refusal.code, refusal.message)
        if answer_type is None:
            return None
        try:
            return answer_type.model_validate_json(response.content)
        except ValidationError:
            raise IssuanceError(f"malformed answer to {path}") from None

    def health(self) -> None:
        """Raises unless the center answers this terminal: reachable and accepting it."""
        import httpx

        try:
            response = self._http.get("/health")
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ServiceUnreachable(f"health answered HTTP {response.status_code}")

    def challenge(self) -> Challenge:
        answer: ChallengeAnswer = self._post("/challenges", None, ChallengeAnswer)
        return Challenge(answer.challenge_id, base64.b64decode(answer.challenge))

    def open_session(self, challenge: Challenge, certificate_der: bytes, signature: bytes) -> SessionAnswer:
        body = SessionRequest(challenge_id=challenge.challenge_id,
                              certificate=base64.b64encode(certificate_der).decode(),
                              signature=base64.b64encode(signature).decode())
        return self._post("/sessions", body, SessionAnswer)

    def issue(self, request: IssuanceRequest) -> IssuedDocument:
        answer: IssuanceAnswer = self._post("/issuances", request, IssuanceAnswer)
        return IssuedDocument(base64.b64decode(answer.pdf), answer.manifest,
                              base64.b64decode(answer.manifest_signature))

    def confirm_printed(self, request_id: str) -> None:
        self._post(f"/issuances/{request_id}/printed", None, None)

    def void(self, request_id: str) -> None:
        self._post(f"/issuances/{request_id}/void", None, None)
