"""A rotated AUTH_SECRET becomes the signing key without a restart."""

from __future__ import annotations

import hashlib
import logging

from django.core import signing

import pytest

from gateway_project.secrets import use_auth_secret
from gateway_project.tests.test_env import KEY_A, STRONG_SECRET, manage
from gateway_project.tests.test_secret_sources import Clock, FakeSource, make_store

OLD = "o" + hashlib.sha256(b"old auth secret").hexdigest()  # 65 characters
NEW = "n" + hashlib.sha256(b"new auth secret").hexdigest()


@pytest.fixture
def clock():
    return Clock()


# --- watching a secret -----------------------------------------------------------


def test_watched_secret_is_refreshed_without_being_read(clock):
    source = FakeSource(AUTH_SECRET=OLD)
    store = make_store(source, clock, ttl=10)
    seen: list[str | None] = []
    store.get("AUTH_SECRET")
    store.watch("AUTH_SECRET", seen.append)

    source.values["AUTH_SECRET"] = NEW
    clock.now += 9
    store.refresh_watched()
    assert (seen, source.reads) == ([], 1)
    clock.now += 2
    store.refresh_watched()
    assert seen == [NEW]


def test_watchers_hear_only_of_changes(clock):
    source = FakeSource(AUTH_SECRET=OLD)
    store = make_store(source, clock, ttl=10)
    seen: list[str | None] = []
    store.get("AUTH_SECRET")
    store.watch("AUTH_SECRET", seen.append)

    clock.now += 11
    store.refresh_watched()
    source.failure = "ServiceUnavailable"
    clock.now += 11
    store.refresh_watched()
    assert seen == [] and source.reads == 3


def test_a_read_that_refreshes_also_tells_the_watchers(clock):
    source = FakeSource(AUTH_SECRET=OLD)
    store = make_store(source, clock, ttl=10)
    seen: list[str | None] = []
    store.get("AUTH_SECRET")
    store.watch("AUTH_SECRET", seen.append)

    source.values["AUTH_SECRET"] = NEW
    clock.now += 11
    store.get("AUTH_SECRET")
    assert seen == [NEW]


# --- the signing key -------------------------------------------------------------


def test_rotated_secret_signs_and_the_old_one_still_verifies(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    signed_before = signing.dumps({"user": 7})

    use_auth_secret(NEW, debug=False)
    assert settings.SECRET_KEY == NEW
    assert settings.SECRET_KEY_FALLBACKS == [OLD]
    assert signing.loads(signed_before) == {"user": 7}
    assert signing.loads(signing.dumps("fresh"), fallback_keys=[]) == "fresh"


def test_rotating_back_does_not_list_a_key_twice(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    use_auth_secret(NEW, debug=False)
    use_auth_secret(OLD, debug=False)
    assert (settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS) == (OLD, [NEW])


def test_only_a_few_old_secrets_are_kept(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    for number in range(6):
        use_auth_secret(f"{number}" * 60, debug=False)
    assert settings.SECRET_KEY_FALLBACKS == ["4" * 60, "3" * 60, "2" * 60]


def test_short_new_secret_is_logged_without_its_value_and_ignored(settings, caplog):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    with caplog.at_level(logging.ERROR):
        use_auth_secret("short-secret", debug=False)
    assert (settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS) == (OLD, [])
    assert "AUTH_SECRET" in caplog.text and "short-secret" not in caplog.text


def test_running_process_takes_a_rewritten_secret_file(tmp_path):
    """Nothing reads AUTH_SECRET here: the watcher notices the new file alone."""
    secret_file = tmp_path / "auth_secret"
    secret_file.write_text(STRONG_SECRET)
    script = (
        "import pathlib, time\n"
        "from django.conf import settings\n"
        "from django.core import signing\n"
        "before = signing.dumps('kept')\n"
        f"pathlib.Path({str(secret_file)!r}).write_text({NEW!r})\n"
        "deadline = time.monotonic() + 10\n"
        f"while settings.SECRET_KEY != {NEW!r} and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        f"print(settings.SECRET_KEY == {NEW!r}, signing.loads(before),\n"
        f"      settings.SECRET_KEY_FALLBACKS == [{STRONG_SECRET!r}])\n"
    )
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        script,
        DEBUG="false",
        WARDEN_DATA_DIR=str(tmp_path),
        ALLOWED_HOSTS="warden.example",
        AUTH_SECRET_FILE=str(secret_file),
        MASTER_KEYS="k1:" + KEY_A,
        SECRETS_CACHE_SECONDS="1",
    )
    assert result.stdout.split() == ["True", "kept", "True"], result.stderr
    assert NEW not in result.stderr and STRONG_SECRET not in result.stderr
