"""Walk a chain and report the first link that does not hold."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model

from audit.models import GENESIS, AuditChain, AuditEvent
from audit.retention import PURGE_ACTION
from audit.services import chain_scope, compute_hash

PSEUDONYM_PREFIX = "deleted-user-"


@dataclass(frozen=True)
class Verdict:
    organization_id: int | None
    checked: int
    broken_at: int | None = None
    reason: str = ""
    # The newest record seen: (seq, hash), to keep outside the database as an
    # anchor that a later run is checked against.
    head: tuple[int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(
    organization_id: int | None,
    *,
    anchor: tuple[int, str] | None = None,
    chunk: int = 2000,
) -> Verdict:
    """Check one chain (the platform's for None) from its oldest record on.

    ``anchor`` is a (seq, hash) an earlier run reported as the head: the chain
    must still hold that record unchanged, unless the purge has since removed
    it. That catches what the chain alone cannot: the newest records removed
    together with the head row that names them.
    """
    with chain_scope(organization_id):
        head = AuditChain.objects.filter(organization_id=organization_id).first()
        events = AuditEvent.objects.filter(organization_id=organization_id)
        rows = events.order_by("seq").iterator(chunk_size=chunk)
        verdict = _walk(organization_id, head, rows, anchor)
        if verdict.ok:
            verdict = _check_pseudonyms(verdict, events) or verdict
    return verdict


def _check_pseudonyms(verdict: Verdict, events) -> Verdict | None:
    """The email snapshot is outside the hash; only erasure may replace it.

    A pseudonym must be the one erasure gives, and its account must be erased.
    """
    from accounts.privacy import pseudonym_for

    pseudonymised = events.filter(
        actor_type="user", actor_email__startswith=PSEUDONYM_PREFIX
    ).order_by("seq")
    seen: set[str] = set()
    for event in pseudonymised.only("seq", "actor_id", "actor_email").iterator():
        if event.actor_id in seen:
            continue
        seen.add(event.actor_id)
        user_id = int(event.actor_id) if event.actor_id.isdigit() else None
        erased = user_id is not None and (
            get_user_model()
            .objects.filter(
                pk=user_id,
                username=f"deleted-{user_id}",
                email__isnull=True,
                is_active=False,
            )
            .exists()
        )
        if not erased or event.actor_email != pseudonym_for(user_id or 0):
            return replace(
                verdict,
                broken_at=event.seq,
                reason=f"actor {event.actor_id} pseudonymised without being erased",
            )
    return None


def _walk(organization_id, head, events, anchor=None) -> Verdict:
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
            try:
                detail = json.loads(event.detail or "{}")
            except ValueError:
                detail = {}
            if (detail.get("through_seq"), detail.get("through_hash")) == awaiting:
                awaiting = None
        if anchor and event.seq == anchor[0] and event.hash != anchor[1]:
            return Verdict(
                organization_id, checked, event.seq, "differs from the anchored record"
            )
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
    if anchor and anchor[0] > last_seq:
        return Verdict(
            organization_id,
            checked,
            last_seq + 1,
            f"records up to the anchored {anchor[0]} removed",
        )
    if head is not None and last_seq < head.seq:
        return Verdict(organization_id, checked, last_seq + 1, "newest records removed")
    if (
        head is not None
        and previous is not None
        and previous.seq == head.seq
        and previous.hash != head.hash
    ):
        return Verdict(organization_id, checked, head.seq, "newest record replaced")
    tip = (previous.seq, previous.hash) if previous is not None else None
    return Verdict(organization_id, checked, head=tip)
