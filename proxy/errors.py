"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import orjson

from providers.adapters import UpstreamError


class ProxyError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    @classmethod
    def from_upstream(cls, error: UpstreamError, secret: str = "") -> ProxyError:
        """Convert, removing ``secret`` (the provider key) if the provider echoed it."""
        headers = {"retry-after": error.retry_after} if error.retry_after else {}
        message = error.message
        if secret:
            message = message.replace(secret, "[redacted]")
        return cls(
            error.status,
            message,
            type=error.type,
            code=error.code,
            param=error.param,
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


def bad_request(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, param=param)
