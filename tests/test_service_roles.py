"""One codebase, three roles: gateway (/v1 only), api (the rest), all (both)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

import httpx
import openai
import psycopg
import pytest

from tests.conftest import _database_url, start_gateway, stop
from tests.factories import make_tenant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def tenant(fake_upstream):
    return make_tenant(upstream_url=fake_upstream.base_url + "/v1")


def as_gateway_role() -> str:
    return _database_url().replace(
        f"//{settings.DATABASE_APP_ROLE}@", f"//{settings.DATABASE_GATEWAY_ROLE}@", 1
    )


def test_the_gateway_role_serves_v1_only_with_read_only_credentials(tmp_path, tenant):
    server = start_gateway(
        tmp_path / "gateway.log", WARDEN_ROLE="gateway", DATABASE_URL=as_gateway_role()
    )
    try:
        client = openai.OpenAI(base_url=server.v1, api_key=tenant.key, max_retries=0)
        reply = client.chat.completions.create(**CHAT)
        assert reply.choices[0].message.content
        assert httpx.get(server.base_url + "/healthz").status_code == 200
        for path in ("/admin/", "/accounts/login/", "/api/v1/me/export"):
            response = httpx.get(server.base_url + path)
            assert response.status_code == 404, path
            assert "serves /v1 only" in response.json()["detail"]
    finally:
        stop(server)
    assert "permission denied" not in server.log_text()


def test_the_api_role_serves_everything_but_v1(tmp_path, tenant):
    server = start_gateway(tmp_path / "api.log", WARDEN_ROLE="api")
    try:
        assert httpx.get(server.base_url + "/accounts/login/").status_code == 200
        client = openai.OpenAI(base_url=server.v1, api_key=tenant.key, max_retries=0)
        with pytest.raises(openai.NotFoundError) as refused:
            client.chat.completions.create(**CHAT)
        assert refused.value.body["code"] == "not_found"
    finally:
        stop(server)


def test_the_gateway_database_role_cannot_write_provider_keys(tenant):
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=settings.DATABASE_GATEWAY_ROLE,
    ) as gateway:
        gateway.execute(
            "SELECT set_config('warden.organization_id', %s, false)",
            [str(tenant.organization.pk)],
        )
        assert gateway.execute(
            "SELECT count(*) FROM providers_providercredential"
        ).fetchone() == (1,)
        for statement in [
            "UPDATE providers_providercredential SET base_url = 'http://x'",
            "DELETE FROM providers_providercredential",
            "UPDATE providers_datakey SET master_key_id = 'x'",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                gateway.execute(statement)
            gateway.rollback()
        # What the gateway does write, it may.
        assert gateway.execute(
            "SELECT has_table_privilege('proxy_usagerecord', 'INSERT')"
        ).fetchone() == (True,)


def test_a_bad_role_name_stops_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="WARDEN_ROLE must be"):
        start_gateway(tmp_path / "bad.log", WARDEN_ROLE="proxy")
