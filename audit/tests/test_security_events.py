"""Requests refused to a genuine key become security events; forged keys do not."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import timedelta

from django.db import connections
from django.utils import timezone

import httpx
import pytest
from asgiref.sync import sync_to_async

from accounts.tenancy import platform_context
from audit import security
from audit.models import AuditEvent
from audit.security import REQUEST_BLOCKED, SecurityEvent, SecurityEventWriter
from audit.services import chain_scope
from audit.verify import verify
from keys import tokens
from keys.services import api_key_create, api_key_revoke
from tests.conftest import start_gateway, stop
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def blocked(org_id: int) -> list[AuditEvent]:
    with chain_scope(org_id):
        events = AuditEvent.objects.filter(
            organization_id=org_id, action=REQUEST_BLOCKED
        )
        return list(events.order_by("seq"))


def wait_for_blocked(org_id: int, count: int = 1) -> list[AuditEvent]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = blocked(org_id)
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"no {REQUEST_BLOCKED} event for organisation {org_id}")


def call(gateway, key: str, request_id: str) -> httpx.Response:
    return httpx.get(
        gateway.v1 + "/models",
        headers={
            "authorization": f"Bearer {key}",
            "x-request-id": request_id,
            "user-agent": "security-test",
        },
        timeout=10,
    )


def text_of(event: AuditEvent) -> str:
    return " ".join([event.actor_id, event.target_id, event.detail, event.user_agent])


# Through a real gateway process.


@pytest.fixture(scope="module")
def gateway(django_db_setup, django_db_blocker, tmp_path_factory):
    server = start_gateway(tmp_path_factory.mktemp("gateway") / "gateway.log")
    yield server
    stop(server)


@pytest.mark.services  # without Redis, the gateway learns of revocations late
def test_revoked_key_presented_to_the_gateway_is_a_security_event(gateway):
    tenant = make_tenant()
    assert call(gateway, tenant.key, "warm-up").status_code == 200  # now cached
    api_key_revoke(api_key=tenant.api_key)
    request_id = f"revoked-{uuid.uuid4().hex[:8]}"

    response = call(gateway, tenant.key, request_id)

    assert response.status_code == 401
    [event] = wait_for_blocked(tenant.organization.pk)
    assert event.outcome == AuditEvent.Outcome.DENIED
    assert (event.actor_type, event.actor_id) == ("api_key", tenant.api_key.public_id)
    assert (event.target_type, event.target_id) == (
        "keys.apikey",
        tenant.api_key.public_id,
    )
    assert json.loads(event.detail) == {"reason": "key_revoked", "endpoint": "models"}
    assert event.request_id == request_id
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "security-test"
    assert tenant.key not in text_of(event)
    assert verify(tenant.organization.pk).ok


def test_revoked_key_never_used_before_is_a_security_event_too(gateway):
    tenant = make_tenant()
    api_key_revoke(api_key=tenant.api_key)

    response = call(gateway, tenant.key, "never-used")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has been revoked."
    [event] = wait_for_blocked(tenant.organization.pk)
    assert json.loads(event.detail)["reason"] == "key_revoked"


def test_expired_key_presented_to_the_gateway_is_a_security_event(gateway):
    tenant = make_tenant()
    _, expired = api_key_create(
        project=tenant.project,
        name="expired",
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert call(gateway, expired, "expired-1").status_code == 401

    [event] = wait_for_blocked(tenant.organization.pk)
    assert json.loads(event.detail)["reason"] == "key_expired"
    assert verify(tenant.organization.pk).ok


def forged_with_the_id_of(full: str) -> str:
    parsed = tokens.parse(full)
    assert parsed is not None
    body = f"wdn_live_{parsed.public_id}_" + "Q" * 40
    return body + tokens._checksum(body)


def test_forged_and_unknown_keys_leave_no_audit_rows(gateway):
    tenant = make_tenant()
    assert call(gateway, tenant.key, "warm-up").status_code == 200
    api_key_revoke(api_key=tenant.api_key)
    unknown, _ = tokens.generate("live")
    with platform_context():
        before = AuditEvent.objects.filter(action=REQUEST_BLOCKED).count()

    for key in ("sk-not-ours", unknown, forged_with_the_id_of(tenant.key)):
        assert call(gateway, key, "forged").status_code == 401
    time.sleep(0.3)  # many flush intervals of the gateway

    with platform_context():
        assert AuditEvent.objects.filter(action=REQUEST_BLOCKED).count() == before


# The writer itself.


def event(org_id: int, key: str = "k" * 16, reason: str = "key_revoked"):
    return SecurityEvent(
        org_id, reason, "chat/completions", key, "203.0.113.9", uuid.uuid4().hex
    )


def run_writer(body) -> None:
    async def main() -> None:
        try:
            await body()
        finally:
            # The writes ran on asgiref's worker thread; its connection would
            # keep the test database from being dropped.
            await sync_to_async(connections.close_all)()

    asyncio.run(main())


def test_a_flood_from_one_key_is_recorded_once_per_window_with_a_count():
    tenant = make_tenant()
    org_id, key = tenant.organization.pk, tenant.api_key.public_id
    writer = SecurityEventWriter()

    async def flood() -> None:
        for _ in range(5000):
            writer.add(event(org_id, key))
        assert len(writer._pending) == security.PER_SOURCE_LIMIT
        await writer.close()

    run_writer(flood)

    events = blocked(org_id)
    assert len(events) == security.PER_SOURCE_LIMIT + 1
    summary = json.loads(events[-1].detail)
    assert summary["similar_not_recorded"] == 5000 - security.PER_SOURCE_LIMIT
    assert verify(org_id).ok


def test_the_queue_is_capped_and_what_does_not_fit_is_dropped(monkeypatch, caplog):
    tenant = make_tenant()
    monkeypatch.setattr(security, "MAX_PENDING", 5)
    writer = SecurityEventWriter()

    async def many_keys() -> None:
        for number in range(12):
            writer.add(event(tenant.organization.pk, key=f"key{number:013d}"))
        assert len(writer._pending) == 5
        await writer.close()

    with caplog.at_level(logging.WARNING, logger="audit.security"):
        run_writer(many_keys)

    assert len(blocked(tenant.organization.pk)) == 5
    assert "7 events dropped" in caplog.text


def test_called_from_sync_code_the_event_is_written_at_once():
    tenant = make_tenant()

    security.security_event(
        organization_id=tenant.organization.pk,
        reason="guardrail_blocked",
        endpoint="chat/completions",
        api_key=tenant.api_key.public_id,
        client_ip="2001:db8::1",
        request_id="sync-1",
        detail={"rule": "pii"},
    )

    [recorded] = blocked(tenant.organization.pk)
    assert json.loads(recorded.detail) == {
        "reason": "guardrail_blocked",
        "endpoint": "chat/completions",
        "rule": "pii",
    }
    assert recorded.ip_address == "2001:db8::1"
