"""The base of this project's management commands: they act as a named system."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.context import Actor, acting_as


class AuditedCommand(BaseCommand):
    """A command whose audited actions name it: actor ``system`` ``cli:<name>``."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        name = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as(Actor.system(f"cli:{name}")):
            return super().execute(*args, **options)
