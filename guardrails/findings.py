"""What every detector reports: a typed span of the text it was given.

Spans are character offsets into the text the detector scanned; the
normalisation layer maps them back to the caller's original text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One value a detector found.

    ``detector`` is ``pii``, ``secrets``, ``jailbreak`` or ``custom``;
    ``type`` is what was found: an entity (``EMAIL_ADDRESS``, ``PHONE_NUMBER``,
    ``US_SSN``, ``CREDIT_CARD``, ``IP_ADDRESS``, ``API_KEY``), a secret rule's
    id (``openai-api-key``), a jailbreak category or a custom rule's name.
    ``confidence`` runs from 0 to 1.
    """

    detector: str
    type: str
    start: int
    end: int
    confidence: float
    rule: str = ""

    def shifted(self, start: int, end: int) -> Finding:
        """Return this finding moved to the span ``start``..``end``."""
        return Finding(self.detector, self.type, start, end, self.confidence, self.rule)
