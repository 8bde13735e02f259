"""Data keys wrapped by Vault Transit, against a real OpenBao dev server."""

from __future__ import annotations

import base64
import re
import uuid

import httpx
import hvac
import pytest

from gateway_project.tests.openbao import ROOT_TOKEN, free_port, needs_bao
from gateway_project.tests.test_env import assert_one_line_error, manage
from providers import crypto, transit
from providers.crypto import CryptoError
from providers.models import DataKey
from providers.services import credential_plaintext, data_key_for
from providers.tests.test_crypto import (
    OTHER_SECRET,
    SECRET,
    all_rows,
    fresh,
    make_org,
    run,
    store,
    tamper,
)
from tests.conftest import start_gateway, stop
from tests.factories import make_tenant
from tests.fake_upstream import FakeUpstream

pytestmark = needs_bao

DATA_KEY = bytes(range(100, 132))


class Transit:
    """A Transit key of the test's own, and the settings that use it."""

    def __init__(self, client, name: str, settings) -> None:
        self.client, self.name, self.settings = client, name, settings

    @property
    def key_id(self) -> str:
        return f"transit:{self.name}"

    def use(self, **overrides) -> None:
        self.settings.MASTER_KEY_BACKEND = "vault-transit"
        self.settings.VAULT_TRANSIT = {
            **self.settings.VAULT_TRANSIT,
            "address": self.client.url,
            "mount": "transit",
            "key": self.name,
            **overrides,
        }

    def decrypt(self, wrapped: bytes, organization_id: int) -> bytes:
        context = base64.b64encode(crypto.data_key_aad(organization_id)).decode()
        answer = self.client.secrets.transit.decrypt_data(
            self.name, wrapped.decode(), context=context
        )
        return base64.b64decode(answer["data"]["plaintext"])


@pytest.fixture
def vault(openbao_address):
    client = hvac.Client(url=openbao_address, token=ROOT_TOKEN, timeout=5)
    if "transit/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("transit", path="transit")
    return client


@pytest.fixture(params=["aes256-gcm96", "derived"])
def key(request, vault, settings, monkeypatch):
    """A fresh Transit key, derived or not, in force as the master key."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    name = f"{slug[:36]}-{uuid.uuid4().hex[:8]}"
    derived = request.param == "derived"
    vault.secrets.transit.create_key(name, derived=derived or None)
    monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
    monkeypatch.delenv("VAULT_TOKEN_FILE", raising=False)
    transit.forget()
    key = Transit(vault, name, settings)
    key.use()
    yield key
    transit.forget()


# --- wrapping ---------------------------------------------------------------------


@pytest.mark.django_db
def test_credential_stored_under_transit_round_trips(key):
    organization = make_org("transit-a")
    credential = store(organization)

    row = all_rows(DataKey, organization=organization)[0]
    assert row.master_key_id == key.key_id
    assert bytes(row.wrapped_key).startswith(b"vault:v1:")
    transit.forget()
    assert credential_plaintext(fresh(credential)) == SECRET


@pytest.mark.django_db
def test_wrapped_blob_holds_neither_the_data_key_nor_the_secret(key):
    organization = make_org("transit-a")
    credential = store(organization)
    data_key = data_key_for(organization.pk)
    wrapped = bytes(all_rows(DataKey, organization=organization)[0].wrapped_key)

    for plain in (data_key, base64.b64encode(data_key), SECRET.encode()):
        assert plain not in wrapped
    assert SECRET.encode() not in bytes(fresh(credential).ciphertext)
    # Vault holds what unwraps it: its decrypt gives back this data key.
    assert key.decrypt(wrapped, organization.pk).endswith(data_key)


def test_data_key_wrapped_for_one_organisation_does_not_unwrap_for_another(key):
    key_id, wrapped = crypto.wrap(DATA_KEY, 1)

    assert crypto.unwrap(key_id, wrapped, 1) == DATA_KEY
    with pytest.raises(CryptoError):
        crypto.unwrap(key_id, wrapped, 2)
    with pytest.raises(CryptoError):
        crypto.unwrap(key_id, wrapped, 11)


@pytest.mark.django_db
def test_wrapped_key_copied_to_another_organisation_fails(key):
    source = make_org("transit-a")
    store(source, "openai", SECRET)
    target = store(make_org("transit-b"), "openai", OTHER_SECRET)
    wrapped = bytes(all_rows(DataKey, organization=source)[0].wrapped_key)
    tamper(DataKey, {"organization": target.organization}, wrapped_key=wrapped)
    transit.forget()

    # The unwrap itself refuses, before any credential is tried with the key.
    with pytest.raises(CryptoError):
        data_key_for(target.organization_id)
    with pytest.raises(CryptoError):
        credential_plaintext(fresh(target))


def test_unwrapped_data_key_is_kept_in_memory_for_the_cache_time(key, monkeypatch):
    key_id, wrapped = crypto.wrap(DATA_KEY, 1)
    assert crypto.unwrap(key_id, wrapped, 1) == DATA_KEY

    monkeypatch.setenv("VAULT_TOKEN", "revoked")
    assert crypto.unwrap(key_id, wrapped, 1) == DATA_KEY
    transit.forget()
    with pytest.raises(transit.TransitError, match="permission denied"):
        crypto.unwrap(key_id, wrapped, 1)


def test_without_a_cache_time_every_unwrap_asks_vault(key, monkeypatch):
    key.use(cache_seconds=0)
    key_id, wrapped = crypto.wrap(DATA_KEY, 1)
    assert crypto.unwrap(key_id, wrapped, 1) == DATA_KEY

    monkeypatch.setenv("VAULT_TOKEN", "revoked")
    with pytest.raises(transit.TransitError):
        crypto.unwrap(key_id, wrapped, 1)


# --- rotate_master_key ------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_master_key_moves_keyring_data_keys_to_transit(key, settings):
    settings.MASTER_KEY_BACKEND = "keyring"
    keyring_id = settings.MASTER_KEYS[0][0]
    first = store(make_org("transit-a"), "openai", SECRET)
    second = store(make_org("transit-b"), "openai", OTHER_SECRET)
    assert {row.master_key_id for row in all_rows(DataKey)} == {keyring_id}

    key.use()
    # Not moved yet, and still readable through MASTER_KEYS.
    assert credential_plaintext(fresh(first)) == SECRET
    output = run("rotate_master_key")

    assert f"rewrapped 2 data keys under master key {key.key_id}" in output
    rows = all_rows(DataKey)
    assert {row.master_key_id for row in rows} == {key.key_id}
    assert all(bytes(row.wrapped_key).startswith(b"vault:v1:") for row in rows)
    assert "rewrapped 0 data keys" in run("rotate_master_key")

    settings.MASTER_KEYS = []
    transit.forget()
    assert credential_plaintext(fresh(first)) == SECRET
    assert credential_plaintext(fresh(second)) == OTHER_SECRET


@pytest.mark.django_db
def test_keyring_data_key_fails_once_master_keys_is_gone(key, settings):
    settings.MASTER_KEY_BACKEND = "keyring"
    credential = store(make_org("transit-a"))
    key.use()
    settings.MASTER_KEYS = []

    with pytest.raises(CryptoError, match="is not in MASTER_KEYS"):
        credential_plaintext(fresh(credential))


@pytest.mark.django_db
def test_transit_key_rotation_is_followed_by_rewrap(key):
    organization = make_org("transit-a")
    credential = store(organization)
    data_key = data_key_for(organization.pk)
    before = bytes(all_rows(DataKey)[0].wrapped_key)
    key.client.secrets.transit.rotate_key(key.name)

    output = run("rotate_master_key")

    assert f"rewrapped 1 data keys under master key {key.key_id}" in output
    row = all_rows(DataKey)[0]
    assert row.master_key_id == key.key_id
    assert bytes(row.wrapped_key).startswith(b"vault:v2:")
    assert row.rotated_at is not None
    assert "rewrapped 0 data keys" in run("rotate_master_key")
    assert bytes(all_rows(DataKey)[0].wrapped_key) == bytes(row.wrapped_key)

    # With version 1 retired, only the rewrapped key still unwraps.
    key.client.secrets.transit.update_key_configuration(
        key.name, min_decryption_version=2
    )
    transit.forget()
    assert data_key_for(organization.pk) == data_key
    assert credential_plaintext(fresh(credential)) == SECRET
    with pytest.raises(transit.TransitError):
        crypto.unwrap(key.key_id, before, organization.pk)


@pytest.mark.django_db
def test_moving_to_another_transit_key_rewraps_through_the_old_one(key, vault):
    credential = store(make_org("transit-a"))
    old_id = key.key_id
    successor = Transit(vault, f"{key.name}-next", key.settings)
    vault.secrets.transit.create_key(successor.name, derived=True)
    successor.use()

    assert "rewrapped 1 data keys" in run("rotate_master_key")
    assert {row.master_key_id for row in all_rows(DataKey)} == {successor.key_id}
    assert old_id != successor.key_id
    transit.forget()
    assert credential_plaintext(fresh(credential)) == SECRET


@pytest.mark.django_db
def test_rotate_org_key_wraps_the_fresh_data_key_with_transit(key):
    organization = make_org("transit-a")
    credential = store(organization)
    old_key = data_key_for(organization.pk)
    before = bytes(all_rows(DataKey)[0].wrapped_key)

    run("rotate_org_key", "--org", organization.slug)

    row = all_rows(DataKey)[0]
    assert row.master_key_id == key.key_id
    assert bytes(row.wrapped_key) != before
    assert data_key_for(organization.pk) != old_key
    assert credential_plaintext(fresh(credential)) == SECRET


# --- failures ---------------------------------------------------------------------


@pytest.mark.django_db
def test_unreachable_vault_names_transit_and_the_key(key):
    credential = store(make_org("transit-a"))
    closed = f"http://127.0.0.1:{free_port()}"
    key.use(address=closed)
    transit.forget()

    with pytest.raises(transit.TransitError) as excinfo:
        credential_plaintext(fresh(credential))
    message = str(excinfo.value)
    assert message.startswith(f"Vault Transit key transit/{key.name} cannot decrypt")
    assert f"Vault at {closed} is unreachable" in message
    assert ROOT_TOKEN not in message
    with pytest.raises(transit.TransitError, match="cannot encrypt"):
        crypto.wrap(DATA_KEY, 1)


def test_token_without_decrypt_permission_is_refused_by_name(key, monkeypatch):
    key.client.sys.create_or_update_policy(
        name=f"{key.name}-encrypt-only",
        policy=f'path "transit/encrypt/{key.name}" {{ capabilities = ["update"] }}',
    )
    token = key.client.auth.token.create(policies=[f"{key.name}-encrypt-only"])
    limited = token["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", limited)

    key_id, wrapped = crypto.wrap(DATA_KEY, 1)
    with pytest.raises(transit.TransitError) as excinfo:
        crypto.unwrap(key_id, wrapped, 1)
    message = str(excinfo.value)
    assert message == (
        f"Vault Transit key transit/{key.name} refused to decrypt a data key: "
        "permission denied"
    )
    assert limited not in message


def test_token_file_is_read_again_for_each_call(key, monkeypatch, tmp_path):
    token = tmp_path / "token"
    token.write_text("expired")
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_TOKEN_FILE", str(token))
    with pytest.raises(transit.TransitError, match="permission denied"):
        crypto.wrap(DATA_KEY, 1)

    token.write_text(ROOT_TOKEN)
    key_id, wrapped = crypto.wrap(DATA_KEY, 1)
    assert crypto.unwrap(key_id, wrapped, 1) == DATA_KEY


# --- configuration ----------------------------------------------------------------

PRODUCTION = {"DEBUG": "false", "AUTH_SECRET": "v" * 60, "ALLOWED_HOSTS": "x.example"}


def test_gateway_starts_under_transit_without_master_keys(key, tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from providers import crypto; i, w = crypto.wrap(bytes(32), 3); "
        "print(i, w[:9].decode(), crypto.unwrap(i, w, 3) == bytes(32))",
        **PRODUCTION,
        WARDEN_DATA_DIR=str(tmp_path),
        MASTER_KEY_BACKEND="vault-transit",
        VAULT_ADDR=key.client.url,
        VAULT_TOKEN=ROOT_TOKEN,
        VAULT_TRANSIT_KEY=key.name,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [key.key_id, "vault:v1:", "True"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"MASTER_KEY_BACKEND": "kms"}, "MASTER_KEY_BACKEND"),
        ({"MASTER_KEY_BACKEND": "vault-transit"}, "VAULT_ADDR"),
        (
            {
                "MASTER_KEY_BACKEND": "vault-transit",
                "VAULT_ADDR": "http://127.0.0.1:1",
                "VAULT_TRANSIT_KEY": "k" * 57,
            },
            "VAULT_TRANSIT_KEY",
        ),
    ],
    ids=["unknown-backend", "no-address", "long-key-name"],
)
def test_bad_transit_configuration_stops_with_one_line(variables, named, tmp_path):
    result = manage("check", **PRODUCTION, WARDEN_DATA_DIR=str(tmp_path), **variables)
    assert_one_line_error(result, named)


# --- the proxy ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", ["aes256-gcm96"], indirect=True)
def test_gateway_unwraps_through_transit_and_answers_503_without_vault(key, tmp_path):
    chat = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
    }
    replies = []
    with FakeUpstream() as upstream:
        tenant = make_tenant(upstream_url=upstream.base_url + "/v1")
        for address in (key.client.url, f"http://127.0.0.1:{free_port()}"):
            server = start_gateway(
                tmp_path / "gateway.log",
                MASTER_KEY_BACKEND="vault-transit",
                VAULT_ADDR=address,
                VAULT_TRANSIT_KEY=key.name,
                VAULT_TOKEN=ROOT_TOKEN,
            )
            try:
                replies.append(
                    httpx.post(
                        server.v1 + "/chat/completions",
                        headers={"authorization": f"Bearer {tenant.key}"},
                        json=chat,
                        timeout=15,
                    )
                )
            finally:
                stop(server)
        sent = upstream.requests[-1].headers["authorization"]

    served, refused = replies
    assert served.status_code == 200, served.text
    assert sent == "Bearer sk-test-provider-key-0000"
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert ROOT_TOKEN not in refused.text
