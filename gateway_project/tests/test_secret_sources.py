"""The secret layer: the environment source, the cache, the live keyring."""

from __future__ import annotations

import base64
import logging

import pytest

from gateway_project import secret_sources
from gateway_project.env import ConfigError
from gateway_project.secret_sources import SecretStore, SourceError
from gateway_project.secret_sources.environment import EnvironmentSource
from gateway_project.secrets import MasterKeyring, url_with_password
from gateway_project.tests.test_env import assert_one_line_error, manage

NAME = "WARDEN_TEST_SECRET"
KEY_A = "a:" + base64.b64encode(bytes(range(32))).decode()
KEY_B = "b:" + base64.b64encode(bytes(range(1, 33))).decode()


class FakeSource:
    """A source whose values and failures the test sets."""

    def __init__(self, **values: str) -> None:
        self.values: dict[str, str] = dict(values)
        self.failure: str | None = None
        self.reads = 0

    def fetch(self, name: str) -> str | None:
        self.reads += 1
        if self.failure:
            raise SourceError(self.failure)
        return self.values.get(name)

    def describe(self, name: str) -> str:
        return f"the fake source ({name})"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def make_store(source, clock, ttl=60.0) -> SecretStore:
    return SecretStore(source, ttl=ttl, clock=clock, spawn=lambda work: work())


# --- the environment source ------------------------------------------------------


def test_environment_source_reads_the_variable_then_the_file(monkeypatch, tmp_path):
    source = EnvironmentSource()
    monkeypatch.setenv(NAME, "from-the-environment")
    assert source.fetch(NAME) == "from-the-environment"

    monkeypatch.delenv(NAME)
    (tmp_path / "secret").write_text("from-a-file\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "secret"))
    assert source.fetch(NAME) == "from-a-file"


def test_rewritten_secret_file_is_picked_up_after_the_cache_time(
    monkeypatch, tmp_path, clock
):
    path = tmp_path / "secret"
    path.write_text("first")
    monkeypatch.setenv(f"{NAME}_FILE", str(path))
    store = make_store(EnvironmentSource(), clock, ttl=30)
    assert store.get(NAME) == "first"

    path.write_text("second")
    clock.now += 29
    assert store.get(NAME) == "first"
    clock.now += 2
    store.get(NAME)  # starts the refresh
    assert store.get(NAME) == "second"


def test_missing_environment_secret_names_the_variable_and_its_file(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    store = SecretStore(EnvironmentSource(), ttl=60)
    with pytest.raises(ConfigError) as excinfo:
        store.get(NAME)
    assert str(excinfo.value) == (
        f"{NAME} is not set in the environment ({NAME} or {NAME}_FILE)"
    )


def test_an_empty_secret_file_is_named_as_the_place_looked_in(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.setenv(f"{NAME}_FILE", str(empty))
    store = SecretStore(EnvironmentSource(), ttl=60)
    with pytest.raises(ConfigError) as excinfo:
        store.get(NAME)
    assert str(excinfo.value) == (
        f"{NAME} is not set in the file {empty} named by {NAME}_FILE (empty)"
    )


# --- the cache -------------------------------------------------------------------


def test_reads_within_the_cache_time_do_not_ask_the_source(clock):
    source = FakeSource(**{NAME: "one"})
    store = make_store(source, clock)
    assert [store.get(NAME) for _ in range(5)] == ["one"] * 5
    assert source.reads == 1


def test_unreadable_secret_at_start_names_secret_and_source_not_value(clock):
    source = FakeSource(**{NAME: "the-value"})
    source.failure = "AccessDeniedException"
    with pytest.raises(ConfigError) as excinfo:
        make_store(source, clock).get(NAME)
    message = str(excinfo.value)
    assert message == (
        f"{NAME} cannot be read from the fake source ({NAME}): AccessDeniedException"
    )
    assert "the-value" not in message


def test_failed_refresh_keeps_the_last_value_and_retries_a_cache_time_later(
    clock, caplog
):
    source = FakeSource(**{NAME: "one"})
    store = make_store(source, clock, ttl=10)
    store.get(NAME)
    source.failure, source.values[NAME] = "ServiceUnavailable", "two"
    clock.now += 11
    with caplog.at_level(logging.WARNING):
        assert store.get(NAME) == "one"
        assert store.get(NAME) == "one"
    assert source.reads == 2
    assert "ServiceUnavailable" in caplog.text and "two" not in caplog.text

    source.failure = None
    clock.now += 11
    store.get(NAME)
    assert store.get(NAME) == "two"


def test_secret_deleted_from_the_source_keeps_the_last_value(clock, caplog):
    source = FakeSource(**{NAME: "one"})
    store = make_store(source, clock, ttl=10)
    store.get(NAME)
    del source.values[NAME]
    clock.now += 11
    with caplog.at_level(logging.WARNING):
        store.get(NAME)
        assert store.get(NAME) == "one"
    assert "no longer there" in caplog.text


def test_one_refresh_at_a_time_per_name(clock):
    source = FakeSource(**{NAME: "one"})
    pending = []
    store = SecretStore(source, ttl=10, clock=clock, spawn=pending.append)
    store.get(NAME)
    clock.now += 11
    for _ in range(3):
        assert store.get(NAME) == "one"
    assert len(pending) == 1

    source.values[NAME] = "two"
    pending[0]()
    assert store.get(NAME) == "two"


def test_unknown_backend_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("SECRETS_BACKEND", "keepass")
    with pytest.raises(
        ConfigError, match="SECRETS_BACKEND must be env, aws, vault, gcp or azure"
    ):
        secret_sources.configured_source()


# --- the live keyring ------------------------------------------------------------


def test_keyring_follows_the_rotated_secret(clock):
    source = FakeSource(MASTER_KEYS=KEY_A)
    store = make_store(source, clock, ttl=10)
    keyring = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    assert [key_id for key_id, _ in keyring] == ["a"]

    source.values["MASTER_KEYS"] = f"{KEY_B},{KEY_A}"
    clock.now += 11
    keyring.keys()
    assert keyring[0] == ("b", bytes(range(1, 33)))
    assert len(keyring) == 2


def test_keyring_that_no_longer_parses_is_logged_and_ignored(clock, caplog):
    source = FakeSource(MASTER_KEYS=KEY_A)
    store = make_store(source, clock, ttl=10)
    keyring = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    source.values["MASTER_KEYS"] = "b:c2hvcnQ="
    clock.now += 11
    with caplog.at_level(logging.ERROR):
        store.get("MASTER_KEYS")
        assert keyring[0][0] == "a"
    assert "must be 32 bytes" in caplog.text and "c2hvcnQ=" not in caplog.text


# --- passwords merged into URLs --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        (
            "postgres://app@db:5432/w",
            "p@ss/w:rd",
            "postgres://app:p%40ss%2Fw%3Ard@db:5432/w",
        ),
        (
            "postgres://app:old@db/w?sslmode=require",
            "new",
            "postgres://app:new@db/w?sslmode=require",
        ),
        ("rediss://:old@cache:6379/0", "new", "rediss://:new@cache:6379/0"),
        ("redis://cache:6379/0", "new", "redis://:new@cache:6379/0"),
        ("postgres://app:kept@db/w", None, "postgres://app:kept@db/w"),
    ],
)
def test_password_secret_replaces_the_urls_password(url, password, expected):
    assert url_with_password(url, password) == expected


def test_database_password_secret_reaches_the_database_settings(tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s;"
        "d = s.DATABASES['default'];print(d['USER'], d['PASSWORD'], s.REDIS_URL)",
        WARDEN_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://app@127.0.0.1:1/warden",
        DATABASE_PASSWORD="db-p@ss",
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_PASSWORD_FILE=str(_write(tmp_path / "redis", "redis-pass")),
    )
    assert result.stdout.split() == [
        "app",
        "db-p@ss",
        "redis://:redis-pass@127.0.0.1:1/0",
    ]


def _write(path, text):
    path.write_text(text)
    return path


def test_unknown_backend_stops_the_start_with_one_line(tmp_path):
    result = manage("check", WARDEN_DATA_DIR=str(tmp_path), SECRETS_BACKEND="keepass")
    assert_one_line_error(result, "SECRETS_BACKEND")
