"""The one way to record an audited action: ``audit.services.record``.

Call it inside the transaction that makes the change, with the change's
before and after values; secrets in them are masked here. The record joins
that transaction: if the change rolls back, so does its record, and if the
record cannot be written, the change fails with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership, Organization
from accounts.tenancy import organization_id as _organization_id
from accounts.tenancy import platform_context, tenant_context, user_context
from audit import context as audit_context
from audit.context import Actor
from audit.masking import mask, mask_text
from audit.models import AuditChain, AuditEvent

logger = logging.getLogger("warden.audit")

HASH_VERSION = "v1"


class AuditWriteError(RuntimeError):
    """The audit record could not be written, so neither can the change."""


def record(
    action: str,
    *,
    organization: Organization | int | None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    before: Any = None,
    after: Any = None,
    detail: Any = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    actor: Actor | None = None,
) -> AuditEvent:
    """Append one event to the organisation's chain (the platform's if None).

    ``target`` may be a model instance, which gives the target type and id.
    Actor, client address, user agent and request id come from the bound
    ``audit.context`` unless ``actor`` is given.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    bound = audit_context.current()
    actor = actor or bound.actor
    org_id = None if organization is None else _organization_id(organization)
    event = AuditEvent(
        organization_id=org_id,
        actor_type=actor.type,
        actor_id=str(actor.id)[:64],
        actor_email=(actor.email or "")[:254],
        action=action,
        target_type=target_type[:60],
        target_id=mask_text(str(target_id))[:100],
        before=canonical(before),
        after=canonical(after),
        detail=canonical(detail),
        ip_address=bound.ip_address,
        user_agent=mask_text(bound.user_agent)[:512],
        request_id=bound.request_id,
        outcome=outcome,
    )
    try:
        with chain_scope(org_id):
            _append(event)
    except Exception as exc:
        logger.error("audit write failed action=%s org=%s: %s", action, org_id, exc)
        raise AuditWriteError(f"audit record for {action} not written") from exc
    return event


def record_for_user(user: Any, action: str, **fields: Any) -> list[AuditEvent]:
    """Record an event about a person on each of their chains, in one transaction.

    For sign-ins, second factors and sessions: one record on each chain
    ``person_chains`` names. ``fields`` are those of ``record``, except
    ``organization``.
    """
    with transaction.atomic():
        return [
            record(action, organization=chain, **fields)
            for chain in person_chains(user)
        ]


def person_chains(user: Any) -> list[int | None]:
    """Return the chains a person's own events go to.

    Each organisation they belong to (not one being deleted), so its owners
    see their members' sign-ins; and the platform's (None) when they belong to
    none or are platform staff, whose sign-ins the platform itself must see.
    Platform first, then by organisation, the order every writer locks heads in.
    """
    with user_context(user.pk):
        memberships = Membership.objects.filter(
            user_id=user.pk, organization__deleted_at__isnull=True
        )
        chains: list[int | None] = sorted(
            memberships.values_list("organization_id", flat=True)
        )
    if not chains or user.is_staff:
        chains.insert(0, None)
    return chains


def canonical(value: Any) -> str:
    """Masked, key-sorted JSON: the exact text the hash is computed over."""
    if value is None:
        return ""
    return json.dumps(mask(value), sort_keys=True, separators=(",", ":"), default=str)


def compute_hash(event: AuditEvent) -> str:
    created: datetime = event.created_at
    fields = [
        HASH_VERSION,
        event.organization_id,
        event.seq,
        event.prev_hash,
        created.astimezone(UTC).isoformat(timespec="microseconds"),
        event.actor_type,
        event.actor_id,
        event.action,
        event.target_type,
        event.target_id,
        event.before,
        event.after,
        event.detail,
        event.ip_address,
        event.user_agent,
        event.request_id,
        event.outcome,
    ]
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def chain_scope(org_id: int | None) -> AbstractContextManager[None]:
    return platform_context() if org_id is None else tenant_context(org_id)


def _append(event: AuditEvent) -> None:
    head = locked_head(event.organization_id)
    event.seq = head.seq + 1
    event.prev_hash = head.hash
    event.created_at = event.recorded_at = timezone.now()  # PostgreSQL restamps
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])


def locked_head(org_id: int | None) -> AuditChain:
    """The chain's head row, locked until the transaction ends."""
    heads = AuditChain.objects.select_for_update().filter(organization_id=org_id)
    head = heads.first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChain.objects.create(organization_id=org_id)
    except IntegrityError:
        pass  # a concurrent first event created it; lock that one
    return heads.get()
