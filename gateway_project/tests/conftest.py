"""Fixtures the settings and secret tests share."""

from __future__ import annotations

import pytest

from gateway_project.tests import openbao


@pytest.fixture(scope="session")
def openbao_address(tmp_path_factory):
    """Return the address of an OpenBao dev server started for the session."""
    with openbao.dev_server(tmp_path_factory.mktemp("bao-home")) as url:
        yield url
