"""Typed readers for settings taken from the environment.

Every reader fails loudly on a malformed value. Secret settings also accept
``NAME_FILE``: the path of a file holding the value, as Docker and Kubernetes
secrets mount them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from pathlib import Path


class ConfigError(Exception):
    """A setting in the environment is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def raw(name: str) -> str | None:
    """Return the value of ``name``, or the contents of the file ``NAME_FILE``."""
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if value is not None and path:
        raise ConfigError(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"{name}_FILE ({path}) cannot be read: {exc.strerror}"
            ) from None
    return value


def string(name: str, default: str = "") -> str:
    value = raw(name)
    return default if value is None else value


def boolean(name: str, default: bool = False) -> bool:
    value = raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    value = raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {number}")
    return number


def number(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        result = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if result < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {result}")
    return result


RATE = re.compile(r"[1-9][0-9]*/[1-9]?[0-9]*[smhd]")


def rate(name: str, default: str) -> str:
    """A request rate such as ``60/m`` or ``5/10m`` (per s, m, h or d)."""
    value = (raw(name) or "").strip() or default
    if not RATE.fullmatch(value):
        raise ConfigError(
            f"{name} must be a rate such as 60/m or 5/10m (s, m, h, d), not {value!r}"
        )
    return value


def csv(name: str, default: list[str] | None = None) -> list[str]:
    value = raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def readable_file(name: str) -> str:
    """Return the path in ``name`` if that file can be read; empty when unset."""
    path = string(name).strip()
    if not path:
        return ""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{name} ({path}) cannot be read: {exc.strerror}") from None
    return path


def ca_file(name: str) -> str:
    """Return the path in ``name`` if the file holds PEM CA certificates."""
    path = readable_file(name)
    if path:
        try:
            ssl.create_default_context(cafile=path)
        except ssl.SSLError:
            raise ConfigError(
                f"{name} ({path}) holds no PEM certificate to trust"
            ) from None
    return path


def networks(name: str) -> list[str]:
    """Return the comma-separated IP networks (or addresses) in ``name``."""
    values = csv(name, [])
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ConfigError(
                f"{name} lists IP networks such as 10.0.0.0/8, not {value!r}"
            ) from None
    return values
