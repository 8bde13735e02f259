"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import orjson

from providers.adapters import UpstreamError


class ProxyError(Exception):
    """An error for the caller. ``limit`` names the limit that refused the
    request (``requests``, ``budget``...), for the metrics."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        limit: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.limit = limit

    @classmethod
    def from_upstream(cls, error: UpstreamError, secret: str = "") -> ProxyError:
        """Convert, removing ``secret`` (the provider key) if the provider echoed it."""

        def clean(value: object) -> str | None:
            if value is None:
                return None
            text = str(value)
            return text.replace(secret, "[redacted]") if secret else text

        # Only the delay-seconds form is relayed: the header's value comes from
        # the provider and ends up in the gateway's own response headers.
        retry_after = error.retry_after or ""
        valid = retry_after.isdigit() and len(retry_after) <= 6
        headers = {"retry-after": retry_after} if valid else {}
        return cls(
            error.status,
            clean(error.message) or "",
            type=clean(error.type) or "upstream_error",
            code=clean(error.code),
            param=clean(error.param),
            headers=headers,
        )

    def payload(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def body(self) -> bytes:
        return orjson.dumps(self.payload())

    def anthropic_body(self) -> bytes:
        """Return the error in Anthropic's shape, for ``/v1/messages``."""
        kind = _ANTHROPIC_TYPES.get(self.status, "api_error")
        return orjson.dumps(
            {"type": "error", "error": {"type": kind, "message": self.message}}
        )


_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    431: "invalid_request_error",
    503: "overloaded_error",
    504: "timeout_error",
}


def bad_request(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, param=param)
