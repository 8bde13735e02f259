"""Rotating keys with a grace period, expiry, unused keys, and the commands."""

from __future__ import annotations

import io
import itertools
import json
import time
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import pytest

from accounts.services import organization_create, project_create
from accounts.tenancy import platform_context
from audit.models import AuditEvent
from keys.models import ApiKey
from keys.services import api_key_create, api_key_revoke, api_key_rotate
from keys.tests.test_key_auth import authenticate, rejected

committed = pytest.mark.django_db(transaction=True)
_addresses = itertools.count(1)


@pytest.fixture
def client_ip() -> str:
    """An address of its own per test, so failure counters start at 0."""
    number = next(_addresses)
    return f"203.0.{100 + number // 250}.{number % 250 + 1}"


@pytest.fixture
def project():
    organization = organization_create(slug="life-org")
    return project_create(organization=organization, slug="default")


@pytest.fixture
def key(project):
    return api_key_create(
        project=project, name="ci", limits={"rpm": 5, "allowed_models": ["demo/*"]}
    )


def fresh(api_key: ApiKey) -> ApiKey:
    with platform_context():
        return ApiKey.objects.get(pk=api_key.pk)


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@committed
def test_rotation_gives_a_successor_and_the_old_key_works_until_grace_ends(
    key, client_ip
):
    old, old_full = key
    authenticate(old_full, client_ip)  # cached, with no expiry

    successor, new_full = api_key_rotate(api_key=old, grace_hours=1.5 / 3600)

    assert successor.public_id != old.public_id
    assert (successor.project_id, successor.name) == (old.project_id, old.name)
    assert successor.limits == old.limits
    assert authenticate(new_full, client_ip).api_key_id == successor.pk
    assert authenticate(old_full, client_ip).api_key_id == old.pk  # grace
    time.sleep(1.6)
    assert "expired" in rejected(old_full, client_ip).message
    assert authenticate(new_full, client_ip).api_key_id == successor.pk

    with platform_context():
        event = AuditEvent.objects.get(
            action="api_key.rotated", target_id=old.public_id
        )
    assert successor.public_id in event.after and new_full not in event.after


@committed
def test_rotation_without_grace_revokes_at_once(key, client_ip):
    old, old_full = key
    authenticate(old_full, client_ip)
    api_key_rotate(api_key=old, grace_hours=0)
    assert "revoked" in rejected(old_full, client_ip).message


@pytest.mark.django_db
def test_a_grace_never_extends_an_earlier_expiry(project):
    soon = timezone.now() + timedelta(hours=2)
    old, _ = api_key_create(project=project, name="short", expires_at=soon)
    successor, _ = api_key_rotate(api_key=old, grace_hours=24)
    assert fresh(old).expires_at == soon
    assert successor.expires_at == soon


@pytest.mark.django_db
def test_revoked_expired_or_bad_grace_rotations_are_refused(key, project):
    old, _ = key
    with pytest.raises(ValueError, match="grace"):
        api_key_rotate(api_key=old, grace_hours=-1)
    api_key_revoke(api_key=old)
    with pytest.raises(ValueError, match="revoked"):
        api_key_rotate(api_key=old)
    past = timezone.now() - timedelta(minutes=1)
    gone, _ = api_key_create(project=project, name="gone", expires_at=past)
    with pytest.raises(ValueError, match="expired"):
        api_key_rotate(api_key=gone)


@committed
def test_the_rotate_command_prints_the_successor_once(key, client_ip):
    old, old_full = key
    printed = json.loads(
        run("rotate_api_key", old.public_id, "--grace-hours", "0", "--json")
    )
    assert printed["replaces"] == old.public_id
    assert authenticate(printed["key"], client_ip).public_id == printed["id"]
    assert "revoked" in rejected(old_full, client_ip).message
    with pytest.raises(CommandError, match="no API key"):
        run("rotate_api_key", "0" * 16)
    with pytest.raises(CommandError, match="revoked"):
        run("rotate_api_key", old.public_id)


@pytest.mark.django_db
def test_create_api_key_takes_every_limit_and_an_expiry(project):
    output = run(
        "create_api_key", "--org", "life-org", "--project", "default",
        "--name", "limited", "--json", "--rpm", "5", "--tpm", "20000",
        "--max-concurrency", "2",
        "--allowed-models", "openai/gpt-4o-mini", "--allowed-ips", "10.0.0.0/8",
        "--allowed-endpoints", "chat/completions,embeddings",
        "--expires", "2099-01-31",
    )  # fmt: skip
    created = json.loads(output.splitlines()[0])
    with platform_context():
        api_key = ApiKey.objects.get(public_id=created["id"])
    assert api_key.limits == {
        "rpm": 5,
        "tpm": 20000,
        "max_concurrency": 2,
        "allowed_models": ["openai/gpt-4o-mini"],
        "allowed_ips": ["10.0.0.0/8"],
        "allowed_endpoints": ["chat/completions", "embeddings"],
    }
    assert api_key.expires_at.isoformat().startswith("2099-02-01T00:00:00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--rpm", "0"], "rpm"),
        (["--allowed-ips", "10.0.0.300/8"], "CIDR"),
        (["--budget-usd", "0"], "more than 0"),
    ],
)
def test_create_api_key_refuses_bad_limits_and_makes_nothing(project, options, message):
    with pytest.raises(CommandError, match=message):
        run(
            "create_api_key", "--org", "life-org", "--project", "default",
            "--name", "bad", *options,
        )  # fmt: skip
    with platform_context():
        assert not ApiKey.objects.filter(name="bad").exists()


@pytest.mark.django_db
def test_a_past_expiry_is_refused_by_the_command(project):
    with pytest.raises(CommandError, match="future"):
        run(
            "create_api_key", "--org", "life-org", "--project", "default",
            "--name", "late", "--expires", "2001-01-01",
        )  # fmt: skip


@pytest.mark.django_db
def test_unused_keys_are_listed_and_revoked_in_bulk(project):
    long_ago = timezone.now() - timedelta(days=120)
    idle, _ = api_key_create(project=project, name="idle")
    never, _ = api_key_create(project=project, name="never")
    busy, _ = api_key_create(project=project, name="busy")
    fresh_key, _ = api_key_create(project=project, name="new")
    with platform_context():
        ApiKey.objects.filter(pk=idle.pk).update(
            created_at=long_ago, last_used_at=long_ago
        )
        ApiKey.objects.filter(pk=never.pk).update(created_at=long_ago)
        ApiKey.objects.filter(pk=busy.pk).update(
            created_at=long_ago, last_used_at=timezone.now()
        )

    listed = run("unused_api_keys", "--days", "90")
    assert idle.public_id in listed and never.public_id in listed
    assert busy.public_id not in listed and fresh_key.public_id not in listed
    assert "found 2 unused key(s)" in listed
    assert fresh(idle).revoked_at is None

    revoked = run("unused_api_keys", "--days", "90", "--org", "life-org", "--revoke")
    assert "revoked 2 unused key(s)" in revoked
    assert fresh(idle).revoked_at is not None and fresh(never).revoked_at is not None
    assert fresh(busy).revoked_at is None
    assert "found 0" in run("unused_api_keys", "--days", "90")


@pytest.mark.django_db
def test_a_key_rotates_once_and_its_successors_share_its_lineage(key):
    old, _ = key
    first, _ = api_key_rotate(api_key=old, grace_hours=1)

    with pytest.raises(ValueError, match=f"rotate its successor {first.public_id}"):
        api_key_rotate(api_key=fresh(old), grace_hours=1)
    second, _ = api_key_rotate(api_key=first, grace_hours=1)

    assert fresh(old).successor == first.public_id
    assert first.lineage == second.lineage == old.public_id
    assert second.expires_at is None  # not the grace of the key before


@committed
def test_revoking_while_redis_is_down_says_to_run_it_again(key, monkeypatch):
    from gateway_project.store import RedisStore
    from tests.test_key_rate_limits import closed_port

    old, _ = key
    dead = RedisStore(f"redis://127.0.0.1:{closed_port()}/0", "t:")
    monkeypatch.setattr("keys.cache.store", lambda: dead)

    with pytest.raises(CommandError, match="run the revocation again"):
        call_command("revoke_api_key", old.public_id)

    assert fresh(old).revoked_at is not None
