"""The OpenAPI schema of the management API (drf-spectacular).

The API's views are plain APIViews that answer JSON documents built by
hand, so each operation is described as giving a JSON object, with an id
made from its path; the views' docstrings describe the fields. A write takes
a JSON object, whose fields a view names with ``extend_schema`` and ``body``
as its own checks take them. A POST answers 201 unless its view says
otherwise, and every operation lists the errors it can answer in DRF's
shape (the ``Error`` component): 401 and 403 always, 404 where the path
names something, 400 where the request carries input.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

WRITES = ("POST", "PUT", "PATCH")
ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_MEANINGS = {
    400: "The request's input is not valid; the errors say why, by field.",
    401: "No management token or session, or one that does not work.",
    403: "Your role does not allow this, or a session needs a fresh sign-in.",
    404: "No such organisation, or nothing of that id in it.",
    409: "The change conflicts with what is stored.",
    429: "Too many attempts; wait a while.",
}
# What ``Error`` is: ``{"detail": "..."}`` or ``{"field": ["...", ...]}``.
ERROR_COMPONENT = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ]
    },
}


class WardenSchema(AutoSchema):
    def _get_serializer(self) -> Any:
        return None

    def get_request_serializer(self) -> Any:
        return OpenApiTypes.OBJECT if self.method in WRITES else None

    def get_response_serializers(self) -> Any:
        if self.method == "DELETE":
            return {204: None}
        return OpenApiTypes.OBJECT

    def _is_create_operation(self) -> bool:
        return self.method == "POST"

    # drf-spectacular offers no public hook that adds answers to every
    # operation, decorated or not; this private one is where it builds them.
    def _get_response_bodies(self, direction: Any = "response") -> Any:
        bodies = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if str(code) not in bodies:
                bodies[str(code)] = self._get_response_for_code(error(code), str(code))
        return dict(sorted(bodies.items()))

    def _error_codes(self) -> list[int]:
        codes = [401, 403]
        if "{" in self.path:
            codes.append(404)
        takes_query = any(
            getattr(p, "location", "") == "query"
            for p in self.get_override_parameters()
        )
        if self.method in WRITES or takes_query:
            codes.append(400)
        return codes

    def get_operation_id(self) -> str:
        parts = [p for p in self.path.strip("/").split("/") if p not in ("api", "v1")]
        words = [p for p in parts if not p.startswith("{")]
        one = bool(parts) and parts[-1].startswith("{")
        name = "_".join(w.replace("-", "_") for w in words)
        return f"{name}{'_item' if one else ''}_{self.method.lower()}"


TEXT: dict = {"type": "string"}
# As accounts.services.SLUG.
SLUG_TEXT: dict = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,59}$"}
EMAIL: dict = {"type": "string", "format": "email", "maxLength": 254}
TEXT_OR_NULL: dict = {"type": "string", "nullable": True}
OBJECT_OR_NULL: dict = {"type": "object", "nullable": True}


def name(limit: int = 200) -> dict:
    """A name as the views take it: 1 to ``limit`` printable characters."""
    return {"type": "string", "minLength": 1, "maxLength": limit}


def one_of(values: Any) -> dict:
    return {"type": "string", "enum": list(values)}


def body(required: dict | None = None, optional: dict | None = None) -> dict:
    """A request body for ``extend_schema``: a JSON object of these fields,
    as the view's own checks take it (they refuse the ones not named)."""
    schema: dict = {
        "type": "object",
        "properties": {**(required or {}), **(optional or {})},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return {"application/json": schema}


def error(code: int) -> OpenApiResponse:
    """The documented answer for an error status, for ``extend_schema``."""
    return OpenApiResponse(response=ERROR, description=ERROR_MEANINGS[code])


def add_error_component(result: dict, **kwargs: Any) -> dict:
    """Postprocessing hook: define the ``Error`` the operations refer to."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_COMPONENT
    return result


class ManagementTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.ManagementTokenAuthentication"
    name = "managementToken"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A management token, wmt_...",
        }
