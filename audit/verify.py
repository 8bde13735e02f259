"""Walk a chain and report the first link that does not hold."""

from __future__ import annotations

import json
from dataclasses import dataclass

from audit.models import GENESIS, AuditChain, AuditEvent
from audit.retention import PURGE_ACTION
from audit.services import chain_scope, compute_hash


@dataclass(frozen=True)
class Verdict:
    organization_id: int | None
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(organization_id: int | None, *, chunk: int = 2000) -> Verdict:
    """Check one chain (the platform's for None) from its oldest record on."""
    with chain_scope(organization_id):
        head = AuditChain.objects.filter(organization_id=organization_id).first()
        events = AuditEvent.objects.filter(organization_id=organization_id)
        rows = events.order_by("seq").iterator(chunk_size=chunk)
        return _walk(organization_id, head, rows)


def _walk(organization_id, head, events) -> Verdict:
    checked = 0
    previous: AuditEvent | None = None
    # The first surviving record after a purge must be vouched for by a
    # checkpoint later in the chain: (seq, prev_hash) it has to match.
    awaiting: tuple[int, str] | None = None
    for event in events:
        if compute_hash(event) != event.hash:
            return Verdict(
                organization_id,
                checked,
                event.seq,
                "contents do not match its hash (edited)",
            )
        if previous is None:
            if event.seq != 1 or event.prev_hash != GENESIS:
                awaiting = (event.seq - 1, event.prev_hash)
        elif event.seq != previous.seq + 1:
            return Verdict(
                organization_id, checked, previous.seq + 1, "record missing (deleted)"
            )
        elif event.prev_hash != previous.hash:
            return Verdict(
                organization_id,
                checked,
                event.seq,
                "does not link to the record before it",
            )
        if awaiting and event.action == PURGE_ACTION:
            detail = json.loads(event.detail or "{}")
            if (detail.get("through_seq"), detail.get("through_hash")) == awaiting:
                awaiting = None
        previous = event
        checked += 1
    if awaiting is not None:
        return Verdict(
            organization_id,
            checked,
            1,
            f"records up to {awaiting[0]} removed without a purge checkpoint",
        )
    last_seq = previous.seq if previous is not None else 0
    if head is not None and last_seq < head.seq:
        return Verdict(organization_id, checked, last_seq + 1, "newest records removed")
    if (
        head is not None
        and previous is not None
        and previous.seq == head.seq
        and previous.hash != head.hash
    ):
        return Verdict(organization_id, checked, head.seq, "newest record replaced")
    return Verdict(organization_id, checked)
