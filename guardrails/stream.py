"""Output guardrails on a streamed answer, without buffering the whole answer.

Each choice's text is held back by ``GUARDRAILS_STREAM_HOLD_BACK``
characters (128 by default): a value split across chunks is whole in the held
text before any of it is sent, so it can still be redacted. The price is that
the first characters of an answer reach the caller only once that many have
been produced. A value longer than the hold-back (a PEM private key, a long
JWT) may be sent in part before it is recognised; a larger hold-back covers
it at the cost of a later first token.
"""

from __future__ import annotations

from collections.abc import Hashable

from django.conf import settings

from guardrails.engine import Guard

WATCH_BATCH = 4096
# How far before a value the words that identify it may start.
CONTEXT = 48


class StreamGuard:
    def __init__(
        self, guard: Guard, *, location: str = "stream", hold_back: int | None = None
    ) -> None:
        self.guard, self.location = guard, location
        self.hold_back = hold_back or settings.GUARDRAILS_STREAM_HOLD_BACK
        # A policy that only flags output changes nothing: nothing is held.
        self.watching = guard.only_flags("output") and not guard.restores
        self._pending: dict[Hashable, str] = {}
        self._changed: set[Hashable] = set()

    def feed(self, index: Hashable, text: str) -> str:
        """Take the next piece of choice ``index``; return what may be sent now.

        Raise ``guardrails.engine.Blocked`` when the policy blocks the answer.
        """
        pending = self._pending.get(index, "") + text
        if self.watching:
            # Findings are only recorded: the text goes out at once, and is
            # scanned a few thousand characters at a time.
            if len(pending) >= WATCH_BATCH:
                cut = self._safe_cut(pending, len(pending) - self.hold_back)
                self._checked(index, pending[:cut])
                pending = pending[cut:]
            self._pending[index] = pending
            return text
        cut = len(pending) - self.hold_back
        if cut <= 0:
            self._pending[index] = pending
            return ""
        cut = self._safe_cut(pending, cut)
        self._pending[index] = pending[cut:]
        return self._checked(index, pending[:cut])

    def flush(self, index: Hashable) -> str:
        """The rest of choice ``index``, at its end."""
        rest = self._checked(index, self._pending.pop(index, ""))
        return "" if self.watching else rest

    def indexes(self) -> list[Hashable]:
        return list(self._pending)

    def changed(self, index: Hashable) -> bool:
        """Whether choice ``index``'s text was altered (its logprobs are stale)."""
        return index in self._changed

    def _safe_cut(self, pending: str, cut: int) -> int:
        """Move ``cut`` back before any value it would split, and before the
        words that make a value one (``password = ``, ``SSN``), which must be
        checked in the same piece as the value."""
        for finding in self.guard.find(pending, "output", "assistant"):
            if finding.start - CONTEXT < cut < finding.end:
                cut = max(0, finding.start - CONTEXT)
        return cut

    def _checked(self, index: Hashable, text: str) -> str:
        if not text:
            return text
        out = self.guard.check(
            text, direction="output", source="assistant", location=self.location
        )
        if self.guard.restores:
            out = self.guard.restore(out)
        if out != text:
            self._changed.add(index)
        return out
