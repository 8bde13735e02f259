"""What ``docker build`` would put in the image, and that the server runs from it.

No engine runs here, so the build context is made as Docker makes it (the
tracked files less what .dockerignore names), the Dockerfile's own
collectstatic step runs in it, and Django's deployment checks pass there with
the production settings and secrets given as files.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

SECRETS = {
    "AUTH_SECRET": base64.urlsafe_b64encode(os.urandom(48)).decode(),
    "MASTER_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
}


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Return a regex for one .dockerignore pattern (Go's filepath.Match, **)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            rules.append((keep, pattern_regex(line.lstrip("!").strip("/"))))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    result = False
    for keep, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            result = not keep
    return result


def build_context() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    rules = dockerignore()
    return [path for path in tracked.split("\0") if path and not excluded(path, rules)]


def test_the_context_leaves_out_tests_deployment_files_and_local_state():
    rules = dockerignore()
    for path in [
        ".venv/bin/python",
        ".git/config",
        "var/warden.sqlite3",
        "var/dev-secrets.json",
        "secrets/master_keys",
        "artifacts/report.txt",
        ".env",
        "tests/conftest.py",
        "accounts/tests/test_tokens.py",
        "guardrails/__pycache__/engine.cpython-311.pyc",
        "deploy/kubernetes/gateway.yaml",
        "docker-compose.yml",
    ]:
        assert excluded(path, rules), path
    context = build_context()
    for needed in [
        "manage.py",
        "deploy/entrypoint.sh",
        "gateway_project/probe.py",
        "guardrails/jailbreak_model.json",
        "static/warden.css",
        "templates/home.html",
        "requirements.txt",
    ]:
        assert needed in context, needed


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory) -> Path:
    """The context copied as the Dockerfile copies it to /app."""
    app = tmp_path_factory.mktemp("image") / "app"
    for path in build_context():
        target = app / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)
    return app


def dockerfile_step(word: str) -> str:
    """Return the first command of the final stage's RUN that mentions ``word``."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final_stage = text.rsplit("\nFROM ", 1)[1]
    (run,) = [
        line[len("RUN ") :]
        for line in final_stage.splitlines()
        if line.startswith("RUN ") and word in line
    ]
    return run.split(" && ")[0]


def image_environment(app: Path, **extra: str) -> dict[str, str]:
    """The final stage's ENV, with /app where the tree is."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final_stage = text.rsplit("\nFROM ", 1)[1]
    environment = {"PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    for line in final_stage.splitlines():
        if line.startswith("ENV "):
            for name, value in re.findall(r"(\w+)=(\S+)", line):
                if name != "PATH":
                    environment[name] = value.replace("/app", str(app))
    return {**environment, **extra}


def test_the_build_step_collects_static_files_and_leaves_no_secret(image_tree):
    step = dockerfile_step("collectstatic")
    result = subprocess.run(
        ["sh", "-c", step],
        cwd=image_tree,
        env=image_environment(image_tree),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = image_tree / "var"
    assert (data / "static" / "warden.css").read_text() == (
        ROOT / "static" / "warden.css"
    ).read_text()
    assert not (data / "dev-secrets.json").exists()
    assert not list(data.glob("*.sqlite3"))


def test_the_deployment_checks_pass_in_the_image_tree(image_tree, tmp_path):
    files = {}
    for name, value in SECRETS.items():
        (tmp_path / name).write_text(value + "\n")
        files[f"{name}_FILE"] = str(tmp_path / name)
    result = subprocess.run(
        [
            "sh",
            "deploy/entrypoint.sh",
            "manage",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=image_tree,
        env=image_environment(
            image_tree,
            ALLOWED_HOSTS="gateway.example.test",
            TRUST_X_FORWARDED_PROTO="true",
            TRUSTED_PROXIES="172.30.80.1",
            **files,
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    for value in SECRETS.values():
        assert value not in result.stdout + result.stderr
