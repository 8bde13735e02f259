"""What the container runs, run here: its entry point, secrets given as files.

The database and its roles are made by the script the compose file gives
PostgreSQL; migrations run as the owner, the gateway and the api serve as
their own roles under gunicorn, and the audit purge runs as the CronJob does.
Redis is a server of the test's own that wants the password from its file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import httpx
import psycopg
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.services

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
HOST = "gateway.example.test"
# What the TLS-terminating proxy in front of the container sends.
PROXIED = {"Host": HOST, "X-Forwarded-Proto": "https"}


def free_port() -> int:
    for port in range(9100, 9200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 9100-9199")


@pytest.fixture
def secrets(tmp_path) -> Path:
    folder = tmp_path / "secrets"
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "make-secrets.sh"), str(folder)],
        check=True,
        capture_output=True,
    )
    return folder


def secret_values(folder: Path) -> list[str]:
    return [path.read_text().strip() for path in folder.iterdir()]


@dataclass
class Database:
    name: str
    owner: str
    app: str
    gateway: str
    address: str  # host:port/name
    # Each role's password as PostgreSQL keeps it (a SCRAM verifier).
    verifiers: dict[str, str] = field(default_factory=dict)

    def url(self, role: str) -> str:
        return f"postgres://{role}@{self.address}"


@pytest.fixture
def database(secrets) -> Iterator[Database]:
    """A database and roles made by deploy/postgres/init-roles.sh, then dropped."""
    admin = dj_database_url.parse(os.environ["DATABASE_URL"])
    host, port = admin["HOST"] or "127.0.0.1", str(admin["PORT"] or 5432)
    suffix = uuid.uuid4().hex[:8]
    made = Database(
        name=f"wdep_{suffix}",
        owner=f"wdep_owner_{suffix}",
        app=f"wdep_app_{suffix}",
        gateway=f"wdep_gateway_{suffix}",
        address=f"{host}:{port}/wdep_{suffix}",
    )
    environment = {
        "PATH": os.environ["PATH"],
        "PGHOST": host,
        "PGPORT": port,
        "POSTGRES_USER": admin["USER"] or "postgres",
        "WARDEN_DB_NAME": made.name,
        "WARDEN_DB_OWNER": made.owner,
        "WARDEN_DB_APP": made.app,
        "WARDEN_DB_GATEWAY": made.gateway,
        "WARDEN_DB_SECRETS": str(secrets),
    }
    if admin["PASSWORD"]:
        environment["PGPASSWORD"] = admin["PASSWORD"]
    script = ROOT / "deploy" / "postgres" / "init-roles.sh"
    for _ in range(2):  # the second run must change nothing and not fail
        result = subprocess.run(
            ["sh", str(script)], env=environment, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    admin_url = psycopg.conninfo.make_conninfo(
        host=host,
        port=port,
        user=admin["USER"],
        password=admin["PASSWORD"] or None,
        dbname="postgres",
    )
    with psycopg.connect(admin_url, autocommit=True) as connection:
        made.verifiers = dict(
            connection.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s) "
                "AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreaterole",
                [[made.owner, made.app, made.gateway]],
            ).fetchall()
        )
    try:
        yield made
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {made.name} WITH (FORCE)")
            for role in (made.app, made.gateway, made.owner):
                connection.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def redis_url(secrets, tmp_path) -> Iterator[str]:
    """A Redis server of this test's own, which wants the password in the file."""
    port = free_port()
    password = (secrets / "redis_password").read_text().strip()
    config = f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\n'
    process = subprocess.Popen(
        ["redis-server", "-", "--dir", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(config + f"requirepass {password}\n")
    process.stdin.close()
    try:
        _wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def container_environment(
    secrets: Path, data: Path, redis_url: str, **extra: str
) -> dict[str, str]:
    """The environment the compose file and the manifests give the image."""
    return {
        # Nothing inherited but the way to the programs: no secret comes in
        # from the test's own environment.
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "gateway_project.settings",
        "WARDEN_DATA_DIR": str(data),
        "ALLOWED_HOSTS": HOST,
        "TRUST_X_FORWARDED_PROTO": "true",
        # The test stands where the TLS proxy would.
        "TRUSTED_PROXIES": "127.0.0.1",
        "AUTH_SECRET_FILE": str(secrets / "auth_secret"),
        "MASTER_KEYS_FILE": str(secrets / "master_keys"),
        "REDIS_URL": redis_url,
        "REDIS_PASSWORD_FILE": str(secrets / "redis_password"),
        "LISTEN_ADDRESS": "127.0.0.1",
        "WORKERS": "1",
        **extra,
    }


def entrypoint(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str]


def serve(env: dict[str, str], log: Path) -> Server:
    port = free_port()
    env = {**env, "PORT": str(port)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["sh", str(ENTRYPOINT), "serve"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log, env)
    deadline = time.monotonic() + 60
    while entrypoint("probe", "/healthz", env=env).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError("the server did not start:\n" + log.read_text())
        time.sleep(0.2)
    return server


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()


def scram_matches(verifier: str, password: str) -> bool:
    """Return True if PostgreSQL's SCRAM-SHA-256 verifier is for ``password``."""
    method, _, rest = verifier.partition("$")
    salt_part, _, keys = rest.partition("$")
    iterations, _, salt = salt_part.partition(":")
    stored, _, server = keys.partition(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return (
        method == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == base64.b64decode(stored)
        and hmac.digest(salted, b"Server Key", "sha256") == base64.b64decode(server)
    )


def test_the_database_roles_get_the_passwords_in_their_files(database, secrets):
    verifiers = database.verifiers
    for role, secret in [
        (database.owner, "db_owner_password"),
        (database.app, "db_app_password"),
        (database.gateway, "db_gateway_password"),
    ]:
        password = (secrets / secret).read_text().strip()
        assert scram_matches(verifiers[role], password), role
    assert not scram_matches(verifiers[database.app], "not the password")


def test_migrate_serve_each_role_and_purge_with_secrets_as_files(
    database, secrets, redis_url, tmp_path
):
    data = tmp_path / "data"
    base = container_environment(secrets, data, redis_url)
    as_role = {
        role: {**base, "DATABASE_PASSWORD_FILE": str(secrets / secret)}
        for role, secret in [
            ("owner", "db_owner_password"),
            ("app", "db_app_password"),
            ("gateway", "db_gateway_password"),
        ]
    }
    migrated = entrypoint(
        "migrate",
        env={
            **as_role["owner"],
            "DATABASE_URL": database.url(database.owner),
            "DATABASE_APP_ROLE": database.app,
            "DATABASE_GATEWAY_ROLE": database.gateway,
        },
    )
    assert migrated.returncode == 0, migrated.stderr
    # As the image's build does.
    collected = entrypoint("manage", "collectstatic", "--no-input", env=base)
    assert collected.returncode == 0, collected.stderr

    gateway = serve(
        {
            **as_role["gateway"],
            "WARDEN_ROLE": "gateway",
            "DATABASE_URL": database.url(database.gateway),
        },
        tmp_path / "gateway.log",
    )
    try:
        ready = httpx.get(gateway.base_url + "/readyz", headers=PROXIED)
        assert entrypoint("probe", "/readyz", env=gateway.env).returncode == 0
        site = httpx.get(gateway.base_url + "/accounts/login/", headers=PROXIED)
    finally:
        assert stop(gateway) == 0
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    assert site.status_code == 404  # the gateway serves /v1 only
    assert_discloses_nothing(ready, secrets)
    refused = entrypoint("probe", "/healthz", env=gateway.env)
    assert refused.returncode == 1
    assert "no answer" in refused.stderr

    api = serve(
        {
            **as_role["app"],
            "WARDEN_ROLE": "api",
            "DATABASE_URL": database.url(database.app),
        },
        tmp_path / "api.log",
    )
    try:
        ready = httpx.get(api.base_url + "/readyz", headers=PROXIED)
        page = httpx.get(api.base_url + "/accounts/login/", headers=PROXIED)
        style = httpx.get(api.base_url + "/static/warden.css", headers=PROXIED)
    finally:
        assert stop(api) == 0
    assert ready.json() == {"status": "ready"}
    assert_discloses_nothing(ready, secrets)
    assert page.status_code == 200
    assert style.status_code == 200
    assert style.text == (ROOT / "static" / "warden.css").read_text()

    purged = entrypoint(
        "manage",
        "audit_purge",
        env={**as_role["app"], "DATABASE_URL": database.url(database.app)},
    )
    assert purged.returncode == 0, purged.stderr

    output = "".join(
        [gateway.log.read_text(), api.log.read_text(), migrated.stdout, migrated.stderr]
        + [purged.stdout, purged.stderr]
    )
    for value in secret_values(secrets):
        assert value not in output


def assert_discloses_nothing(response: httpx.Response, secrets: Path) -> None:
    text = response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
    for value in secret_values(secrets):
        assert value not in text
    for name in ("gunicorn", "python", "django", "postgres", "redis"):
        assert name not in text.lower()
    server = response.headers.get("server", "")
    assert not any(character.isdigit() for character in server), server


def test_a_missing_secret_file_stops_the_server_naming_it(secrets, tmp_path):
    env = container_environment(
        secrets,
        tmp_path / "data",
        "redis://127.0.0.1:1/0",
        MASTER_KEYS_FILE=str(tmp_path / "absent"),
        PORT=str(free_port()),
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )
    result = entrypoint("serve", env=env)
    assert result.returncode == 3  # gunicorn's "a worker failed to boot"
    output = result.stdout + result.stderr
    assert "MASTER_KEYS_FILE" in output and "cannot be read" in output
    for value in secret_values(secrets):
        assert value not in output


def test_an_unknown_command_is_refused_with_the_usage():
    result = entrypoint("runserver", env={"PATH": os.environ["PATH"]})
    assert result.returncode == 64
    assert "usage: entrypoint.sh" in result.stderr
