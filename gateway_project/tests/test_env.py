"""Configuration from the environment: typed readers, secrets, startup checks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gateway_project import env
from gateway_project.env import ConfigError
from gateway_project.secrets import (
    development_secrets,
    parse_master_keys,
    required_secret,
)

ROOT = Path(__file__).resolve().parent.parent.parent
NAME = "WARDEN_TEST_SETTING"
STRONG_SECRET = "p" + hashlib.sha256(b"warden-env-test").hexdigest()  # 65 chars


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


KEY_A = b64(bytes(range(32)))
KEY_B = b64(bytes(range(1, 33)))


@pytest.fixture(autouse=True)
def clean_names(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


# --- typed readers ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "2", "ture", "yes please", "-1"])
def test_boolean_refuses_values_that_are_not_true_or_false(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ConfigError, match=NAME):
        env.boolean(NAME)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" on ", True), ("no", False), ("0", False)],
)
def test_boolean_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv(NAME, value)
    assert env.boolean(NAME, default=not expected) is expected


def test_boolean_unset_gives_the_default():
    assert env.boolean(NAME, default=True) is True
    assert env.boolean(NAME, default=False) is False


@pytest.mark.parametrize("value", ["ten", "1.5", "0x10", "12abc"])
def test_integer_refuses_values_that_are_not_whole_numbers(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ConfigError, match=NAME):
        env.integer(NAME, 5)


def test_integer_refuses_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv(NAME, "0")
    with pytest.raises(ConfigError, match="at least 1"):
        env.integer(NAME, 5, minimum=1)


def test_integer_reads_a_number_and_defaults_when_unset(monkeypatch):
    assert env.integer(NAME, 5) == 5
    monkeypatch.setenv(NAME, "42")
    assert env.integer(NAME, 5) == 42


def test_number_refuses_text(monkeypatch):
    monkeypatch.setenv(NAME, "fast")
    with pytest.raises(ConfigError, match=NAME):
        env.number(NAME, 1.0)


def test_name_file_is_read_and_stripped(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("from-a-file\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(path))
    assert env.raw(NAME) == "from-a-file"
    assert env.string(NAME) == "from-a-file"


def test_name_and_name_file_together_is_an_error(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("from-a-file")
    monkeypatch.setenv(NAME, "from-the-environment")
    monkeypatch.setenv(f"{NAME}_FILE", str(path))
    with pytest.raises(ConfigError, match=f"{NAME}_FILE"):
        env.raw(NAME)


def test_name_file_that_cannot_be_read_is_an_error_naming_the_path(
    monkeypatch, tmp_path
):
    missing = tmp_path / "missing"
    monkeypatch.setenv(f"{NAME}_FILE", str(missing))
    with pytest.raises(ConfigError) as excinfo:
        env.raw(NAME)
    assert str(excinfo.value) == (
        f"{NAME}_FILE ({missing}) cannot be read: No such file or directory"
    )


# --- the master keyring ----------------------------------------------------------


def test_master_keys_parse_in_order_with_the_first_active():
    keyring = parse_master_keys(f"new:{KEY_B}, old:{KEY_A}")
    assert keyring == [("new", bytes(range(1, 33))), ("old", bytes(range(32)))]


@pytest.mark.parametrize("size", [16, 31, 33, 64])
def test_master_keys_of_the_wrong_length_are_refused(size):
    with pytest.raises(ConfigError, match=f"not {size}"):
        parse_master_keys(f"k1:{b64(os.urandom(size))}")


@pytest.mark.parametrize("encoded", ["not base64!", "AAEC$wQF", KEY_A[:-1] + "*"])
def test_master_keys_that_are_not_base64_are_refused(encoded):
    with pytest.raises(ConfigError, match="not base64"):
        parse_master_keys(f"k1:{encoded}")


def test_master_keys_with_a_duplicate_id_are_refused():
    with pytest.raises(ConfigError, match="twice"):
        parse_master_keys(f"k1:{KEY_A},k1:{KEY_B}")


@pytest.mark.parametrize(
    "value", [KEY_A, f":{KEY_A}", "k1:", "", f"k1:{KEY_A},", f"k1:{KEY_A},,"]
)
def test_master_keys_without_an_id_or_key_are_refused(value):
    with pytest.raises(ConfigError, match="id:base64key"):
        parse_master_keys(value)


def test_master_key_errors_do_not_echo_the_key_material():
    short = b64(b"\x01" * 31)
    with pytest.raises(ConfigError) as excinfo:
        parse_master_keys(f"k1:{KEY_A},k2:{short}")
    assert short not in str(excinfo.value)
    assert KEY_A not in str(excinfo.value)


def test_required_secret_with_debug_off_never_generates(tmp_path):
    with pytest.raises(ConfigError, match=NAME):
        required_secret(NAME, debug=False, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_development_secrets_created_concurrently_are_shared(tmp_path, monkeypatch):
    first = development_secrets(tmp_path)
    real_exists = Path.exists
    raced = []

    def exists_before_the_other_process_wrote(self):
        if self.name == "dev-secrets.json" and not raced:
            raced.append(self)
            return False
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", exists_before_the_other_process_wrote)
    assert development_secrets(tmp_path) == first


# --- starting the real process ---------------------------------------------------


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    """Run manage.py with only the given environment (plus the settings module)."""
    environment = {"DJANGO_SETTINGS_MODULE": "gateway_project.settings", **variables}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        umask=0o022,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def production(tmp_path, *args: str, **changes: str | None):
    """Run manage.py as a production start would, with ``changes`` to its
    valid environment (None drops a variable)."""
    variables = {
        "DEBUG": "false",
        "WARDEN_DATA_DIR": str(tmp_path),
        "AUTH_SECRET": STRONG_SECRET,
        "MASTER_KEYS": f"k1:{KEY_A}",
        "ALLOWED_HOSTS": "gateway.example.com",
    }
    variables.update(changes)
    return manage(*args, **{k: v for k, v in variables.items() if v is not None})


def test_production_start_without_auth_secret_stops_with_one_line(tmp_path):
    result = production(tmp_path, "check", AUTH_SECRET=None)
    assert_one_line_error(result, "AUTH_SECRET")
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_start_without_master_keys_stops_with_one_line(tmp_path):
    result = production(tmp_path, "check", MASTER_KEYS=None)
    assert_one_line_error(result, "MASTER_KEYS")
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_start_with_a_short_auth_secret_stops_with_one_line(tmp_path):
    result = production(tmp_path, "check", AUTH_SECRET="too-short")
    assert_one_line_error(result, "AUTH_SECRET")
    assert "too-short" not in result.stderr


def test_malformed_boolean_stops_the_start_with_one_line(tmp_path):
    result = manage("check", DEBUG="flase", WARDEN_DATA_DIR=str(tmp_path))
    assert_one_line_error(result, "DEBUG")


DIGESTS = (
    "import hashlib;from django.conf import settings as s;"
    "print(hashlib.sha256(s.SECRET_KEY.encode()).hexdigest(),"
    "hashlib.sha256(s.MASTER_KEYS[0][1]).hexdigest())"
)


def test_development_start_generates_private_secrets_and_reuses_them(tmp_path):
    data = tmp_path / "data"
    first = manage("shell", "-v", "0", "-c", DIGESTS, WARDEN_DATA_DIR=str(data))
    assert first.returncode == 0, first.stderr
    path = data / "dev-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert len(saved["AUTH_SECRET"]) >= 50
    key_id, key = parse_master_keys(saved["MASTER_KEYS"])[0]
    assert first.stdout.split() == [
        hashlib.sha256(saved["AUTH_SECRET"].encode()).hexdigest(),
        hashlib.sha256(key).hexdigest(),
    ]

    second = manage("shell", "-v", "0", "-c", DIGESTS, WARDEN_DATA_DIR=str(data))
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert json.loads(path.read_text()) == saved


def test_deploy_check_passes_with_production_settings(tmp_path):
    result = production(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        MASTER_KEYS=f"k2:{KEY_B},k1:{KEY_A}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert not (tmp_path / "dev-secrets.json").exists()


@pytest.mark.parametrize("value", ["60", "60/x", "0/m", "/m", "ten/m", "60/m/ip"])
def test_rate_refuses_what_is_not_a_rate(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ConfigError, match=NAME):
        env.rate(NAME, "60/m")


@pytest.mark.parametrize("value", ["60/m", "5/10m", "1/s", "1000/d"])
def test_rate_reads_a_rate_and_defaults_when_unset(monkeypatch, value):
    assert env.rate(NAME, "7/h") == "7/h"
    monkeypatch.setenv(NAME, value)
    assert env.rate(NAME, "7/h") == value


def test_a_database_that_does_not_answer_stops_a_command_with_one_line(tmp_path):
    # Nothing listens on port 1 of the loopback address.
    result = manage(
        "migrate",
        WARDEN_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://warden:db-password-canary@127.0.0.1:1/warden",
        DATABASE_POOL_TIMEOUT="0.5",
    )

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("warden: the database cannot be used")
    assert "Traceback" not in result.stderr + result.stdout
    assert "db-password-canary" not in result.stderr + result.stdout


def test_production_start_allowing_any_host_stops_with_one_line(tmp_path):
    result = production(tmp_path, "check", ALLOWED_HOSTS="gateway.example.com,*")
    assert_one_line_error(result, "ALLOWED_HOSTS")
