"""Servers a test starts for itself on a free port of 127.0.0.1.

A throwaway PostgreSQL cluster whose logins need the superuser's password
(scram-sha-256), unlike the shared test server that trusts every local
connection; given a certificate, it also speaks TLS. Without a server's
binaries the test skips, unless REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway_project.tests.certificates import ServerFiles

SUPERUSER_PASSWORD = "superuser-password-for-the-test-cluster"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing(reason: str) -> None:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_cluster(tls: ServerFiles | None = None) -> Iterator[int]:
    """Start a cluster (with ``ssl=on`` when given ``tls``); yield its port."""
    bin_dir = binaries()
    if bin_dir is None:
        missing("needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql)")
    # PostgreSQL refuses to run as root: then the cluster belongs to postgres,
    # in a folder of its own that user can reach.
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root needs the postgres user to own the cluster")
    base = Path(tempfile.mkdtemp(prefix="warden-pg-"))
    (base / "pwfile").write_text(SUPERUSER_PASSWORD)
    owned = [base, base / "pwfile"]
    options = "-c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    if tls is not None:
        # The server reads its key only from a file its own user alone can read.
        shutil.copy(tls.cert, base / "server.crt")
        shutil.copy(tls.key, base / "server.key")
        (base / "server.key").chmod(0o600)
        owned += [base / "server.crt", base / "server.key"]
        options += (
            f" -c ssl=on -c ssl_cert_file={base / 'server.crt'}"
            f" -c ssl_key_file={base / 'server.key'}"
        )
    if owner is not None:
        for path in owned:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()

    def run(*command: str | Path) -> None:
        subprocess.run(
            [str(part) for part in command],
            check=True,
            capture_output=True,
            cwd=base,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            timeout=120,
        )

    data = base / "data"
    run(
        bin_dir / "initdb",
        "-D",
        data,
        "-U",
        "postgres",
        "--auth=scram-sha-256",
        f"--pwfile={base / 'pwfile'}",
    )
    run(
        bin_dir / "pg_ctl",
        "-D",
        data,
        "-l",
        base / "log",
        "-o",
        f"{options} -p {port}",
        "-w",
        "start",
    )
    try:
        yield port
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
