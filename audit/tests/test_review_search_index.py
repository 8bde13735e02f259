"""PostgreSQL can answer the trail search from its GIN index."""

from __future__ import annotations

import os

from django.db import connection

import dj_database_url
import psycopg
import pytest

from audit.models import AuditEvent
from audit.selectors import search_filter

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def owner_connection() -> psycopg.Connection:
    """The tables' owner: in the test cluster a superuser, which RLS does not bind."""
    db = connection.settings_dict
    owner = dj_database_url.parse(os.environ["DATABASE_URL"])["USER"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=owner,
        password=db.get("PASSWORD") or None,
    )


def test_the_search_query_uses_the_search_index():
    query = AuditEvent.objects.filter(search_filter("quarterly rotation")).values("id")
    sql, params = query.query.sql_with_params()
    with owner_connection() as owner, owner.transaction():
        owner.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in owner.execute("EXPLAIN " + sql, params))
    assert "audit_auditevent_search" in plan, plan
