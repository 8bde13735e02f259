"""The container's health probe, against a server that records what it is sent."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gateway_project import probe
from gateway_project.tests.serving import serving

ANSWERS = {"/healthz": 200, "/readyz": 503, "/moved": 301}


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self):
        Recorder.seen.append(dict(self.headers, path=self.path))
        status = ANSWERS.get(self.path, 404)
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "https://gateway.example.test" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def bound_server() -> HTTPServer:
    for port in range(9100, 9200):
        try:
            return HTTPServer(("127.0.0.1", port), Recorder)
        except OSError:
            continue
    raise RuntimeError("no free port in 9100-9199")


@pytest.fixture
def server(monkeypatch):
    Recorder.seen = []
    with serving(bound_server()) as running:
        monkeypatch.setenv("PORT", str(running.server_address[1]))
        monkeypatch.delenv("ALLOWED_HOSTS_FILE", raising=False)
        yield running


def test_a_200_is_healthy_and_the_request_looks_proxied(server, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", ".gateway.example.test,other.example.test")

    assert probe.main(["/healthz"]) == 0

    (request,) = Recorder.seen
    assert request["path"] == "/healthz"
    assert request["Host"] == "gateway.example.test"
    assert request["X-Forwarded-Proto"] == "https"


def test_any_host_allowed_is_asked_as_localhost(server, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "*")

    assert probe.main([]) == 0

    assert Recorder.seen[0]["Host"] == "localhost"


def test_not_ready_is_a_failure(server, monkeypatch, capsys):
    monkeypatch.setenv("ALLOWED_HOSTS", "gateway.example.test")

    assert probe.main(["/readyz"]) == 1

    assert "/readyz answered 503" in capsys.readouterr().err


def test_a_redirect_fails_and_is_not_followed(server, monkeypatch, capsys):
    monkeypatch.setattr(probe, "PATHS", ("/moved",))
    monkeypatch.setenv("ALLOWED_HOSTS", "gateway.example.test")

    assert probe.main(["/moved"]) == 1

    assert "TRUST_X_FORWARDED_PROTO=true" in capsys.readouterr().err
    assert [request["path"] for request in Recorder.seen] == ["/moved"]


def test_only_the_health_paths_are_probed(server, capsys):
    assert probe.main(["/admin/"]) == 1

    assert "must be one of /healthz, /readyz" in capsys.readouterr().err
    assert Recorder.seen == []


def test_nothing_listening_is_a_failure(server, monkeypatch, capsys):
    server.shutdown()
    server.server_close()

    assert probe.main(["/healthz"]) == 1

    assert "no answer on port" in capsys.readouterr().err
