"""Fixtures the provider tests share with the proxy tests."""

from tests.conftest import fake_upstream  # noqa: F401  (a fixture)
