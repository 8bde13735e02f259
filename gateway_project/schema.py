"""The OpenAPI schema of the management API (drf-spectacular).

The API's views are plain APIViews that answer JSON documents built by
hand, so each operation is described as taking and giving a JSON object,
with an id made from its path; the views' docstrings describe the fields.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

WRITES = ("POST", "PUT", "PATCH")


class WardenSchema(AutoSchema):
    def _get_serializer(self) -> Any:
        return None

    def get_request_serializer(self) -> Any:
        return OpenApiTypes.OBJECT if self.method in WRITES else None

    def get_response_serializers(self) -> Any:
        if self.method == "DELETE":
            return {204: None}
        return OpenApiTypes.OBJECT

    def get_operation_id(self) -> str:
        parts = [p for p in self.path.strip("/").split("/") if p not in ("api", "v1")]
        words = [p for p in parts if not p.startswith("{")]
        one = bool(parts) and parts[-1].startswith("{")
        name = "_".join(w.replace("-", "_") for w in words)
        return f"{name}{'_item' if one else ''}_{self.method.lower()}"


class ManagementTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.ManagementTokenAuthentication"
    name = "managementToken"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A management token, wmt_...",
        }
