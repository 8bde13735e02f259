"""How much output a stream has produced, counted from what is relayed."""

from __future__ import annotations

import math


class StreamMeter:
    """Count the output a stream has produced so far, from the text relayed.

    Used when the provider's own count is missing (a client that hung up before
    the final usage chunk), and to end a stream that outgrows its reservation.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._chars = 0
        self._pieces = 0

    @property
    def produced(self) -> int:
        return max(self._pieces, math.ceil(self._chars / 4))

    @property
    def over(self) -> bool:
        # Every non-empty piece holds at least one token, so counting pieces
        # never ends a stream that is within its reservation (text length
        # would: a long word is one token).
        return bool(self.cap) and self._pieces > self.cap

    @property
    def billable(self) -> int:
        """What a stream cut short is billed when the provider did not say:
        never past its reservation, which the provider was held to."""
        return min(self.produced, self.cap) if self.cap else self.produced

    def feed(self, item: object) -> None:
        for text in _texts(item):
            if text:
                self._chars += len(text)
                self._pieces += 1


def _texts(item: object) -> list[str]:
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict):
        delta = item[1].get("delta") if item[0] == "content_block_delta" else None
        if not isinstance(delta, dict):
            return []
        return [str(delta.get(n) or "") for n in ("text", "partial_json", "thinking")]
    if not isinstance(item, dict):
        return []
    texts = []
    for choice in item.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        texts += [str(delta.get(n) or "") for n in ("content", "reasoning_content")]
        for call in delta.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                texts.append(str(function.get("arguments") or ""))
    return texts
