"""Secrets from AWS Secrets Manager, against moto's server on 127.0.0.1."""

from __future__ import annotations

import base64
import time

import pytest

from gateway_project.env import ConfigError
from gateway_project.secret_sources import SecretStore
from gateway_project.secret_sources.aws import AwsSecretsManagerSource
from gateway_project.secrets import MasterKeyring
from providers import crypto

KEY_A = "a:" + base64.b64encode(bytes(range(32))).decode()
KEY_B = "b:" + base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture(scope="module")
def endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch, tmp_path):
    """Fake credentials, and no instance metadata or shared config to look for."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def prefix(request):
    return f"warden-{request.node.name[:40]}/"


@pytest.fixture
def source(endpoint, prefix):
    return AwsSecretsManagerSource(
        prefix=prefix, region="eu-west-1", endpoint_url=endpoint
    )


def test_secret_is_read_by_its_prefixed_id(source, prefix):
    source._client.create_secret(Name=prefix + "AUTH_SECRET", SecretString="s3cret")
    assert SecretStore(source, ttl=60).get("AUTH_SECRET") == "s3cret"


def test_binary_secret_is_read_as_text(source, prefix):
    source._client.create_secret(Name=prefix + "REDIS_PASSWORD", SecretBinary=b"pw")
    assert source.fetch("REDIS_PASSWORD") == "pw"


def test_missing_secret_names_the_secret_id(source, prefix):
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("MASTER_KEYS")
    assert str(excinfo.value) == (
        f"MASTER_KEYS is not set in AWS Secrets Manager "
        f"(secret id '{prefix}MASTER_KEYS')"
    )


def test_deleted_secret_is_unreadable_and_the_message_has_no_value(source, prefix):
    client = source._client
    client.create_secret(Name=prefix + "AUTH_SECRET", SecretString="do-not-print")
    client.delete_secret(SecretId=prefix + "AUTH_SECRET")
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    message = str(excinfo.value)
    assert message.startswith("AUTH_SECRET cannot be read from AWS Secrets Manager")
    assert "InvalidRequestException" in message
    assert "do-not-print" not in message


def test_unreachable_endpoint_is_a_configuration_error():
    source = AwsSecretsManagerSource(
        prefix="warden/", region="eu-west-1", endpoint_url="http://127.0.0.1:9"
    )
    with pytest.raises(ConfigError, match="EndpointConnectionError"):
        SecretStore(source, ttl=60).get("AUTH_SECRET")


def test_rotated_master_keys_are_used_after_the_cache_time(source, prefix, settings):
    client = source._client
    client.create_secret(Name=prefix + "MASTER_KEYS", SecretString=KEY_A)
    store = SecretStore(source, ttl=0.2)
    settings.MASTER_KEYS = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    old_id, wrapped = crypto.wrap(b"\x05" * 32, 7)
    assert old_id == "a"

    client.put_secret_value(
        SecretId=prefix + "MASTER_KEYS", SecretString=f"{KEY_B},{KEY_A}"
    )
    time.sleep(0.3)
    assert wait_for_active_key("b")
    assert crypto.wrap(b"\x06" * 32, 7)[0] == "b"
    assert crypto.unwrap(old_id, wrapped, 7) == b"\x05" * 32


def wait_for_active_key(key_id: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if crypto.active_master_key()[0] == key_id:
            return True
        time.sleep(0.05)
    return False
