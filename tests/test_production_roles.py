"""The documented production database setup, end to end, on a fresh database.

An owner role that is not a superuser migrates; the application connects as a
separate role and is bound by row-level security; the owner itself is refused
as the serving role.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import dj_database_url
import psycopg
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.services


@pytest.fixture
def roles():
    parsed = dj_database_url.parse(os.environ["DATABASE_URL"])
    admin_url = psycopg.conninfo.make_conninfo(
        host=parsed["HOST"] or "127.0.0.1",
        port=parsed["PORT"] or 5432,
        user=parsed["USER"],
        password=parsed["PASSWORD"] or None,
        dbname="postgres",
    )
    suffix = uuid.uuid4().hex[:8]
    owner, app, name = f"wit_owner_{suffix}", f"wit_app_{suffix}", f"wit_{suffix}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS")
        admin.execute(f"CREATE ROLE {app} LOGIN NOSUPERUSER NOBYPASSRLS")
        admin.execute(f"CREATE ROLE {owner}_member LOGIN IN ROLE {owner}")
        admin.execute(f"CREATE ROLE {owner}_maker LOGIN CREATEROLE")
        admin.execute(f"CREATE ROLE {owner}_su NOLOGIN SUPERUSER")
        admin.execute(f"CREATE ROLE {owner}_heir LOGIN IN ROLE {owner}_su")
        admin.execute(f"CREATE ROLE {owner}_cr NOLOGIN CREATEROLE")
        admin.execute(f"CREATE ROLE {owner}_crm LOGIN IN ROLE {owner}_cr")
        admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
    base = f"{parsed['HOST'] or '127.0.0.1'}:{parsed['PORT'] or 5432}/{name}"
    yield {
        "owner_url": f"postgres://{owner}@{base}",
        "app_url": f"postgres://{app}@{base}",
        "app": app,
        "owner_member_url": f"postgres://{owner}_member@{base}",
        "maker_url": f"postgres://{owner}_maker@{base}",
        "heir_url": f"postgres://{owner}_heir@{base}",
        "crm_url": f"postgres://{owner}_crm@{base}",
    }
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {app}")
        for extra in ("member", "maker", "heir", "su", "crm", "cr"):
            admin.execute(f"DROP ROLE IF EXISTS {owner}_{extra}")
        admin.execute(f"DROP ROLE IF EXISTS {owner}")


def manage(*args: str, debug: bool = True, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], debug=debug, **env)


def run(command: list[str], *, debug: bool, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_APP_ROLE", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="gateway_project.settings",
        DEBUG="true" if debug else "false",
        AUTH_SECRET="p" * 64,
        MASTER_KEYS="k1:" + "B" * 43 + "=",
        ALLOWED_HOSTS="gateway.example",
        **env,
    )
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_owner_migrates_app_role_serves_and_is_isolated(roles):
    migrated = manage(
        "migrate", DATABASE_URL=roles["owner_url"], DATABASE_APP_ROLE=roles["app"]
    )
    assert migrated.returncode == 0, migrated.stderr

    as_app = {"DATABASE_URL": roles["app_url"]}
    created = manage("create_organization", "acme", **as_app)
    assert created.returncode == 0, created.stderr
    script = (
        "import django; django.setup()\n"
        "from accounts.models import Organization\n"
        "from accounts.services import project_create\n"
        "from audit.services import record\n"
        "from keys.models import ApiKey\n"
        "from keys.services import api_key_create\n"
        "org = Organization.objects.get(slug='acme')\n"
        "project = project_create(organization=org, slug='web')\n"
        "api_key_create(project=project, name='k')\n"
        "record('thing.done', organization=org)\n"
        "print('visible without a tenant:', ApiKey.objects.count())\n"
    )
    used = run([sys.executable, "-c", script], debug=True, **as_app)
    assert used.returncode == 0, used.stderr
    assert "visible without a tenant: 0" in used.stdout

    for command in (["audit_purge"], ["audit_verify"]):
        result = manage(*command, **as_app)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "acme: ok" in manage("audit_verify", **as_app).stdout

    serve = [sys.executable, "-c", "import gateway_project.asgi"]
    assert run(serve, debug=False, **as_app).returncode == 0
    refused = run(serve, debug=False, DATABASE_URL=roles["owner_url"])
    assert refused.returncode == 3
    assert "owns the tenant tables" in refused.stderr
    # A member of the owner role may alter the tables as the owner can.
    inherited = run(serve, debug=False, DATABASE_URL=roles["owner_member_url"])
    assert inherited.returncode == 3
    assert "member of their owner" in inherited.stderr
    maker = run(serve, debug=False, DATABASE_URL=roles["maker_url"])
    assert maker.returncode == 3 and "CREATEROLE" in maker.stderr
    heir = run(serve, debug=False, DATABASE_URL=roles["heir_url"])
    assert heir.returncode == 3 and "_su, which bypass" in heir.stderr
    crm = run(serve, debug=False, DATABASE_URL=roles["crm_url"])
    assert crm.returncode == 3 and "_cr, which bypass" in crm.stderr
    wsgi = [sys.executable, "-c", "import gateway_project.wsgi"]
    refused_wsgi = run(wsgi, debug=False, DATABASE_URL=roles["owner_url"])
    assert refused_wsgi.returncode == 3
    assert "owns the database" in refused_wsgi.stderr
