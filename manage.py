#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")
    from django.core.management import execute_from_command_line

    from gateway_project.env import ConfigError

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (loads settings, surfacing bad config)
    except ConfigError as exc:
        sys.exit(f"warden: configuration error: {exc}")
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # A database that is down or refuses us: one line, not a traceback.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.exit(f"warden: the database cannot be used: {reason}")


if __name__ == "__main__":
    main()
