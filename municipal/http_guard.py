"""What both of the center's apps refuse before a handler sees a request, and how
they refuse: always a JSON {"code", "message"} body (contract.issuance.Refusal).

- A body over the app's limit is refused with 413 as soon as its declared length, or
  the bytes actually received, pass the limit: never read whole.
- Unknown routes and methods are 404 and 405 with codes, not Starlette's plain text;
  a rate limit is 429 (raised as an HTTPException with its Retry-After header).
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

# The largest honest request on the kiosk API is a session request (a card
# certificate and a signature, base64: ~2.5 KB); the public site's is a code (~120 B).
API_BODY_LIMIT = 64 * 1024
PUBLIC_BODY_LIMIT = 4 * 1024

_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 429: "rate_limited"}


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, counted as it arrives."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, received = self.limit, 0
        declared = dict(scope["headers"]).get(b"content-length", b"0")

        async def limited_receive():
            nonlocal received
            if not declared.isdigit() or int(declared) > limit:
                raise HTTPException(413, f"the body must be at most {limit} bytes")
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"the body must be at most {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = _CODES.get(exc.status_code, "bad_request")
    headers = dict(exc.headers or {})
    if exc.status_code == 413:
        headers["connection"] = "close"  # the rest of the body is never read
    return JSONResponse({"code": code, "message": exc.detail}, status_code=exc.status_code, headers=headers)
