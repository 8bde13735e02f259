"""DATABASE_URL=...?sslmode=verify-full&sslrootcert=...: the options reach
psycopg through the settings (pool included), the connection is encrypted,
and a server whose certificate another CA signed is refused with an error
that names the cause and not the password. The server is a throwaway
cluster with ssl=on and a certificate of a CA made for the test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gateway_project.tests.certificates import TestCA
from gateway_project.tests.local_servers import SUPERUSER_PASSWORD, postgres_cluster
from gateway_project.tests.test_env import manage

# Run by manage.py shell: the pool's connection reports on itself.
SSL_STATE = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    print(*cursor.fetchone())
"""


@dataclass
class TLSPostgres:
    port: int
    ca: TestCA

    def url(self, **options: str) -> str:
        query = "&".join(f"{name}={value}" for name, value in options.items())
        return (
            f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{self.port}"
            f"/postgres?{query}"
        )


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory) -> Iterator[TLSPostgres]:
    ca = TestCA(tmp_path_factory.mktemp("postgres-ca"))
    with postgres_cluster(tls=ca.server("postgres")) as port:
        yield TLSPostgres(port, ca)


def shell(script: str, database_url: str, data_dir) -> tuple[int, str, str]:
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        script,
        WARDEN_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        DATABASE_POOL_TIMEOUT="3",
    )
    return result.returncode, result.stdout, result.stderr


def test_verify_full_connects_encrypted(tls_postgres, tmp_path):
    url = tls_postgres.url(
        sslmode="verify-full", sslrootcert=str(tls_postgres.ca.cert_file)
    )

    code, out, err = shell(SSL_STATE, url, tmp_path)

    assert code == 0, err
    encrypted, version = out.split()
    assert encrypted == "True"
    assert version in ("TLSv1.2", "TLSv1.3")


def test_without_sslmode_the_same_server_is_reached_in_clear(tls_postgres, tmp_path):
    # The comparison that shows the query above can tell the two apart.
    code, out, err = shell(SSL_STATE, tls_postgres.url(sslmode="disable"), tmp_path)

    assert code == 0, err
    assert out.split() == ["False", "None"]


def test_verify_full_against_another_ca_is_refused_without_the_password(
    tls_postgres, tmp_path
):
    stranger = TestCA(tmp_path, name="stranger")
    url = tls_postgres.url(sslmode="verify-full", sslrootcert=str(stranger.cert_file))

    code, out, err = shell(SSL_STATE, url, tmp_path)

    assert code != 0
    assert "certificate verify failed" in err
    assert SUPERUSER_PASSWORD not in out + err


def test_verify_full_checks_the_host_name(tls_postgres, tmp_path):
    # The certificate names 127.0.0.1 and localhost; the CA is the right one.
    other = tls_postgres.ca.server("misnamed", names=("db.example",))
    with postgres_cluster(tls=other) as port:
        url = (
            f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/postgres"
            f"?sslmode=verify-full&sslrootcert={tls_postgres.ca.cert_file}"
        )
        code, out, err = shell(SSL_STATE, url, tmp_path)

    assert code != 0
    assert "does not match host name" in err
    assert SUPERUSER_PASSWORD not in out + err
