"""What every secret source provides, and the error it raises."""

from __future__ import annotations

from typing import Protocol


class SourceError(Exception):
    """A secret source could not be asked, or refused to answer.

    The message names the failure only (an error code or an exception's class),
    never a secret's value.
    """


class Source(Protocol):
    def fetch(self, name: str) -> str | None:
        """Return the secret ``name``, or None if the source does not hold it.

        Raise ``SourceError`` (or ``ConfigError``) if it cannot be read.
        """

    def describe(self, name: str) -> str:
        """Return where ``name`` is looked for, for error messages."""
