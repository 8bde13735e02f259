"""Authenticating gateway keys on the proxy path: cache, revocation, throttling."""

from __future__ import annotations

import io
import itertools
import time
import types
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

import pytest
from asgiref.sync import async_to_sync

from accounts.services import organization_create, project_create
from gateway_project.store import RedisStore, store
from keys import auth, tokens
from keys.auth import KeyContext, KeyRejected
from keys.cache import remember_key
from keys.services import api_key_create, api_key_revoke

# The key lookup runs through sync_to_async; async_to_sync brings it back to
# this thread, so it uses the test's database connection and its query count.
# Tests that reach the lookup commit for real: it calls close_old_connections(),
# which would drop a connection held inside a test transaction.
committed = pytest.mark.django_db(transaction=True)

_addresses = itertools.count(1)


@pytest.fixture
def client_ip() -> str:
    """A client address no other test has used, so failure counters start at 0."""
    number = next(_addresses)
    return f"198.51.{100 + number // 250}.{number % 250 + 1}"


def authenticate(candidate: str | None, client_ip: str) -> KeyContext:
    async def attempt() -> KeyContext:
        try:
            return await auth.authenticate(candidate, client_ip)
        finally:
            shared = store()
            if isinstance(shared, RedisStore):
                await shared.aclose()

    return async_to_sync(attempt)()


def rejected(candidate: str | None, client_ip: str) -> KeyRejected:
    with pytest.raises(KeyRejected) as excinfo:
        authenticate(candidate, client_ip)
    return excinfo.value


@pytest.fixture
def project():
    organization = organization_create(slug="auth-org")
    return project_create(organization=organization, slug="auth-project")


@pytest.fixture
def key(project):
    return api_key_create(project=project, name="auth key")


@pytest.fixture
def calls(monkeypatch):
    """Counts of key-row loads and bcrypt checks made by authenticate."""
    counts = {"load": 0, "bcrypt": 0}
    load, check = auth._load_key, tokens.check_secret

    def counted_load(public_id):
        counts["load"] += 1
        return load(public_id)

    def counted_check(full, stored_hash):
        counts["bcrypt"] += 1
        return check(full, stored_hash)

    monkeypatch.setattr(auth, "_load_key", counted_load)
    monkeypatch.setattr(tokens, "check_secret", counted_check)
    return counts


def same_id_other_secret(full: str, environment: str | None = None) -> str:
    parsed = tokens.parse(full)
    assert parsed is not None
    body = f"wdn_{environment or parsed.environment}_{parsed.public_id}_" + "Q" * 40
    forged = body + tokens._checksum(body)
    assert tokens.parse(forged) is not None and forged != full
    return forged


@committed
def test_valid_key_gives_its_organisation_and_project(key, project, client_ip):
    api_key, full = key
    context = authenticate(full, client_ip)
    assert context.api_key_id == api_key.pk
    assert context.public_id == api_key.public_id
    assert context.organization_id == project.organization_id
    assert context.project_id == project.pk


@committed
def test_second_call_is_served_from_the_cache(
    key, client_ip, calls, django_assert_num_queries
):
    _, full = key
    first = authenticate(full, client_ip)
    assert calls == {"load": 1, "bcrypt": 1}
    with django_assert_num_queries(0):
        second = authenticate(full, client_ip)
    assert second == first
    assert calls == {"load": 1, "bcrypt": 1}


@committed
def test_revoked_key_is_refused_at_once_even_when_cached(
    key, client_ip, calls, django_assert_num_queries
):
    api_key, full = key
    authenticate(full, client_ip)
    api_key_revoke(api_key=api_key)
    with django_assert_num_queries(0):
        error = rejected(full, client_ip)
    assert error.status == 401
    assert "revoked" in error.message
    assert calls["load"] == 1


@committed
def test_key_revoked_with_the_command_is_refused_at_once(key, client_ip):
    api_key, full = key
    authenticate(full, client_ip)
    call_command("revoke_api_key", api_key.public_id, stdout=io.StringIO())
    assert "revoked" in rejected(full, client_ip).message


@committed
def test_revoked_key_that_was_never_cached_is_refused(key, client_ip):
    api_key, full = key
    api_key_revoke(api_key=api_key)
    assert rejected(full, client_ip).status == 401


@committed
def test_late_cache_fill_does_not_undo_a_revocation(key, client_ip):
    api_key, full = key
    entry = {
        "mac": "x",
        "key": api_key.pk,
        "public_id": api_key.public_id,
        "org": api_key.organization_id,
        "project": api_key.project_id,
        "expires": None,
        "limits": {},
    }
    authenticate(full, client_ip)  # cached, so the tombstone knows the key
    api_key_revoke(api_key=api_key)

    async def fill() -> None:
        try:
            await remember_key(api_key.public_id, entry)
        finally:
            shared = store()
            if isinstance(shared, RedisStore):
                await shared.aclose()

    async_to_sync(fill)()
    assert "revoked" in rejected(full, client_ip).message


@committed
def test_expired_key_is_refused(project, client_ip):
    _, full = api_key_create(
        project=project,
        name="expired",
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    error = rejected(full, client_ip)
    assert error.status == 401
    assert "expired" in error.message


@committed
def test_key_that_expires_while_cached_is_refused(project, client_ip, monkeypatch):
    expires_at = timezone.now() + timedelta(minutes=5)
    _, full = api_key_create(project=project, name="soon", expires_at=expires_at)
    authenticate(full, client_ip)
    later = types.SimpleNamespace(time=lambda: expires_at.timestamp() + 1)
    monkeypatch.setattr(auth, "time", later)
    assert "expired" in rejected(full, client_ip).message


@committed
@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
@pytest.mark.parametrize("environment", [None, "test"], ids=["same-env", "other-env"])
def test_wrong_secret_with_a_valid_public_id_is_refused(
    key, client_ip, cached, environment
):
    _, full = key
    if cached:
        authenticate(full, client_ip)
    error = rejected(same_id_other_secret(full, environment), client_ip)
    assert error.status == 401
    assert error.message == "Incorrect API key provided."
    assert authenticate(full, client_ip).public_id == tokens.parse(full).public_id


def unknown_key() -> str:
    full, _ = tokens.generate("live")
    return full


@committed
def test_repeated_failures_from_one_address_are_throttled_without_work(
    settings, key, client_ip, calls, django_assert_num_queries
):
    settings.KEY_FAILURE_LIMIT = 3
    settings.KEY_FAILURE_WINDOW_SECONDS = 45
    for _ in range(3):
        assert rejected(unknown_key(), client_ip).status == 401
    assert calls == {"load": 3, "bcrypt": 3}

    _, valid_but_uncached = key
    for candidate in (unknown_key(), valid_but_uncached):
        with django_assert_num_queries(0):
            error = rejected(candidate, client_ip)
        assert error.status == 429
        assert error.retry_after == 45
    assert calls == {"load": 3, "bcrypt": 3}

    other_address = client_ip.rsplit(".", 1)[0] + ".254"
    assert authenticate(valid_but_uncached, other_address).public_id


@committed
def test_repeated_failures_against_one_key_id_are_throttled(
    settings, key, calls, django_assert_num_queries
):
    settings.KEY_FAILURE_LIMIT = 2
    _, full = key
    forged = same_id_other_secret(full)
    rejected(forged, "203.0.113.1")
    rejected(forged, "203.0.113.2")
    with django_assert_num_queries(0):
        error = rejected(forged, "203.0.113.3")
    assert error.status == 429
    assert calls == {"load": 2, "bcrypt": 2}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "sk-not-a-warden-key",
        "wdn_live_short",
        "Bearer wdn_live_" + "a" * 16 + "_" + "A" * 46,
        "wdn_live_" + "a" * 16 + "_" + "A" * 46,  # right shape, wrong checksum
        "x" * 10_000,
    ],
    ids=["none", "empty", "other-vendor", "short", "bearer", "checksum", "huge"],
)
def test_malformed_key_is_refused_without_any_lookup(
    candidate, client_ip, calls, django_assert_num_queries
):
    with django_assert_num_queries(0):
        error = rejected(candidate, client_ip)
    assert error.status == 401
    assert calls == {"load": 0, "bcrypt": 0}


@pytest.mark.django_db
def test_requests_without_a_usable_key_are_throttled_per_address(
    settings, client_ip, calls
):
    settings.KEY_FAILURE_LIMIT = 3
    settings.KEY_FAILURE_WINDOW_SECONDS = 45
    for candidate in (None, "", "sk-not-a-warden-key"):
        assert rejected(candidate, client_ip).status == 401

    error = rejected(None, client_ip)

    assert error.status == 429
    assert error.retry_after == 45
    assert calls == {"load": 0, "bcrypt": 0}
    other_address = client_ip.rsplit(".", 1)[0] + ".253"
    assert rejected("sk-not-a-warden-key", other_address).status == 401


@pytest.mark.django_db
def test_one_character_typo_of_a_real_key_is_refused_without_lookup(
    key, client_ip, calls, django_assert_num_queries
):
    _, full = key
    position = len(full) - 10
    mistyped = (
        full[:position] + ("b" if full[position] == "a" else "a") + full[position + 1 :]
    )
    with django_assert_num_queries(0):
        assert rejected(mistyped, client_ip).status == 401
    assert calls == {"load": 0, "bcrypt": 0}


@committed
def test_revoked_key_not_in_the_cache_is_told_it_was_revoked(key, client_ip):
    api_key, full = key
    api_key_revoke(api_key=api_key)
    store().delete(f"key:{api_key.public_id}")  # as when the tombstone expired

    assert rejected(full, client_ip).message == "This API key has been revoked."


@committed
@pytest.mark.services
def test_key_in_use_survives_a_flood_of_forged_keys_with_its_id(settings, key):
    # A forger knows the public id; once past the throttle, a cache entry that
    # expired would send the real key back to bcrypt and the throttle. Reads
    # keep the entry alive, so the key in use is never locked out.
    settings.KEY_FAILURE_LIMIT = 2
    settings.KEY_CACHE_SECONDS = 2
    _, full = key
    authenticate(full, "203.0.113.50")
    forged = same_id_other_secret(full)
    for number in range(5):
        rejected(forged, f"203.0.113.{60 + number}")

    for _ in range(3):
        time.sleep(0.8)
        assert authenticate(full, "203.0.113.51").public_id in full


@committed
def test_forged_key_is_not_told_that_the_real_one_was_revoked(key, client_ip):
    api_key, full = key
    authenticate(full, client_ip)
    api_key_revoke(api_key=api_key)

    assert rejected(full, client_ip).message == "This API key has been revoked."
    forged = rejected(same_id_other_secret(full), client_ip)
    assert forged.message == "Incorrect API key provided."


@committed
def test_keys_cached_before_auth_secret_rotation_keep_working(
    key, client_ip, calls, settings
):
    api_key, full = key
    old = settings.SECRET_KEY
    authenticate(full, client_ip)
    assert calls == {"load": 1, "bcrypt": 1}

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 60, [old]
    assert authenticate(full, client_ip).public_id == api_key.public_id

    settings.SECRET_KEY_FALLBACKS = []  # the old secret retired
    assert authenticate(full, client_ip).public_id == api_key.public_id
    assert calls == {"load": 1, "bcrypt": 1}  # served from the renewed entry


@committed
def test_an_entry_under_an_unknown_secret_is_not_trusted(key, client_ip, settings):
    api_key, full = key
    authenticate(full, client_ip)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 60, []

    assert rejected(full, client_ip).message == "Incorrect API key provided."
