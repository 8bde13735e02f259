"""Secrets from environment variables, or files named by ``NAME_FILE``."""

from __future__ import annotations

import os

from gateway_project import env


class EnvironmentSource:
    def fetch(self, name: str) -> str | None:
        # A mounted file is read again on every refresh, so a Kubernetes
        # secret updated in place is picked up without a restart.
        return env.raw(name)

    def describe(self, name: str) -> str:
        path = os.environ.get(f"{name}_FILE")
        if path:
            return f"the file {path} named by {name}_FILE (empty)"
        return f"the environment ({name} or {name}_FILE)"
