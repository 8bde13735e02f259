"""The guardrails a request gets: its organisation's and project's policy and
rules, cached per worker for ``ROUTE_CACHE_SECONDS`` like its routes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from asgiref.sync import sync_to_async

from accounts.tenancy import tenant_context
from guardrails.engine import Guard, config_key
from guardrails.models import CustomRule, GuardrailPolicy
from guardrails.policy import effective_policy
from guardrails.rules import CompiledRule, RuleError, compile_rule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Guardrails:
    """One organisation's and project's guardrails, as loaded: what each
    request's guard needs, worked out once per load rather than per request."""

    policy: dict
    rules: tuple[CompiledRule, ...]
    hash_key: bytes
    config: tuple

    def guard(self) -> Guard:
        """A fresh guard for one request."""
        return Guard(self.policy, list(self.rules), self.hash_key, config=self.config)


_cache: dict[tuple[int, int], tuple[float, Guardrails]] = {}


async def guardrails_for(organization_id: int, project_id: int) -> Guardrails:
    cache_key = (organization_id, project_id)
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    loaded = await sync_to_async(_load_in_thread)(organization_id, project_id)
    _cache[cache_key] = (time.monotonic() + settings.ROUTE_CACHE_SECONDS, loaded)
    return loaded


def forget_guardrails() -> None:
    _cache.clear()


def _load_in_thread(organization_id: int, project_id: int) -> Guardrails:
    # A worker thread of the proxy's: its connection may have gone stale.
    close_old_connections()
    return load(organization_id, project_id)


def load(organization_id: int, project_id: int) -> Guardrails:
    """The organisation's (and project's) guardrails, read now."""
    with tenant_context(organization_id):
        layers = {
            row.project_id: row.settings
            for row in GuardrailPolicy.objects.for_organization(organization_id).filter(
                Q(project__isnull=True) | Q(project_id=project_id)
            )
        }
        rows = list(
            CustomRule.objects.for_organization(organization_id)
            .filter(Q(project__isnull=True) | Q(project_id=project_id), enabled=True)
            .order_by("name")
        )
    policy = effective_policy(layers.get(None), layers.get(project_id))
    rules = tuple(rule for row in rows if (rule := _compiled(row)) is not None)
    return Guardrails(
        policy, rules, _hash_key(organization_id), config_key(policy, list(rules))
    )


def _compiled(row: CustomRule) -> CompiledRule | None:
    try:
        return _compile(
            row.name,
            row.kind,
            row.pattern,
            row.case_sensitive,
            row.action,
            row.applies_to,
        )
    except RuleError as exc:
        # Refused when saved: only a change made behind the services' back.
        logger.error(
            "custom rule %s of org %s not applied: %s", row.pk, row.organization_id, exc
        )
        return None


@lru_cache(maxsize=1024)
def _compile(
    name: str,
    kind: str,
    pattern: str,
    case_sensitive: bool,
    action: str,
    applies_to: str,
) -> CompiledRule:
    return compile_rule(
        name=name,
        kind=kind,
        pattern=pattern,
        case_sensitive=case_sensitive,
        action=action,
        applies_to=applies_to,
    )


def _hash_key(organization_id: int) -> bytes:
    """The key of the organisation's value hashes: equal values compare equal
    within one organisation, and a short value (an SSN) cannot be guessed from
    its hash without the deployment's secret."""
    message = f"warden:guardrail-hash:{organization_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
