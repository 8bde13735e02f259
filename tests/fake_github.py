"""A stand-in for GitHub's OAuth and user API, on 127.0.0.1, for sign-in tests.

It signs in whoever asks as the one person it is given, and says whether
GitHub verified that person's address.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class GitHubPerson:
    login: str
    email: str
    verified: bool = True
    id: int = field(default_factory=lambda: secrets.randbelow(10**8))


@dataclass
class FakeGitHub:
    base_url: str
    person: GitHubPerson
    codes: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)


@contextmanager
def fake_github(person: GitHubPerson) -> Iterator[FakeGitHub]:
    state = FakeGitHub("", person)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/login/oauth/authorize":
                code = secrets.token_hex(8)
                state.codes[code] = query["client_id"]
                target = (
                    query["redirect_uri"]
                    + "?"
                    + urlencode({"code": code, "state": query.get("state", "")})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            elif url.path == "/api/v3/user" and self._authorised():
                self._json(
                    {"id": state.person.id, "login": state.person.login,
                     "name": state.person.login.title(), "email": None}
                )  # fmt: skip
            elif url.path == "/api/v3/user/emails" and self._authorised():
                self._json(
                    [{"email": state.person.email, "primary": True,
                      "verified": state.person.verified, "visibility": "private"}]
                )  # fmt: skip
            else:
                self._json({"message": "Not Found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {
                k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()
            }
            if self.path.startswith("/login/oauth/access_token") and state.codes.pop(
                form.get("code", ""), None
            ):
                token = "gho_" + secrets.token_hex(16)
                state.tokens.add(token)
                self._json({"access_token": token, "token_type": "bearer"})
            else:
                self._json({"error": "bad_verification_code"}, 400)

        def _authorised(self) -> bool:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            return scheme.lower() == "token" and token in state.tokens

        def _json(self, body: object, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
