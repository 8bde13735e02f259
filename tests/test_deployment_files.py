"""The Dockerfile, the compose file and the Kubernetes manifests, checked statically.

No container engine runs here: the compose file is validated against the
Compose specification's schema (check-jsonschema's copy), the manifests
against Kubernetes' own schemas (kubernetes-validate's copies, strict: no
unknown field), the Dockerfile by hadolint; then what each file promises
about roles, secrets and privileges is read back from it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

BIN = ROOT / ".venv" / "bin"
KUBERNETES = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes the manifests claim (CronJob timeZone is GA since
# 1.27), and the newest schema the validator ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
SECRET_SETTINGS = {
    "AUTH_SECRET",
    "MASTER_KEYS",
    "DATABASE_PASSWORD",
    "REDIS_PASSWORD",
    "POSTGRES_PASSWORD",
}
APP_USER = 10001
DATABASE_ROLES = {
    "gateway": "warden_gateway",
    "api": "warden_app",
    "audit-purge": "warden_app",
    "migrate": "warden_owner",
}
DATABASE_SECRETS = {
    "gateway": "db_gateway_password",
    "api": "db_app_password",
    "audit-purge": "db_app_password",
    "migrate": "db_owner_password",
}


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# The compose file.


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_follows_the_compose_specification():
    result = run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        "docker-compose.yml",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_refuses_a_broken_file(tmp_path):
    broken = (ROOT / "docker-compose.yml").read_text()
    broken = broken.replace("restart: unless-stopped", "restart: 5\n    restarts: 2")
    (tmp_path / "docker-compose.yml").write_text(broken)
    result = run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        tmp_path / "docker-compose.yml",
    )
    assert result.returncode == 1
    assert "'restarts' was unexpected" in result.stdout


def test_compose_secrets_are_the_files_make_secrets_writes(compose, tmp_path):
    made = tmp_path / "secrets"
    run("sh", ROOT / "deploy" / "make-secrets.sh", made)
    assert {path.name for path in made.iterdir()} == set(compose["secrets"])
    for name, secret in compose["secrets"].items():
        assert secret == {"file": f"./secrets/{name}"}


def test_compose_services_read_each_secret_from_a_file_they_mount(compose):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert not SECRET_SETTINGS & set(environment), name
        for setting, value in environment.items():
            if setting.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert secret in service["secrets"], (name, setting)
        url = environment.get("DATABASE_URL", "")
        assert not re.search(r"//[^@/]*:[^@/]*@", url), f"{name}: password in URL"


def test_compose_runs_each_role_as_its_own_database_role(compose):
    services = compose["services"]
    for name, role in DATABASE_ROLES.items():
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith(f"postgres://{role}@"), name
        secret = DATABASE_SECRETS[name]
        assert environment["DATABASE_PASSWORD_FILE"] == f"/run/secrets/{secret}"
    assert services["gateway"]["environment"]["WARDEN_ROLE"] == "gateway"
    assert services["api"]["environment"]["WARDEN_ROLE"] == "api"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["environment"]["DATABASE_APP_ROLE"] == "warden_app"
    assert services["audit-purge"]["command"] == ["manage", "audit_purge"]
    for name in ("gateway", "api"):
        waits = services[name]["depends_on"]["migrate"]
        assert waits == {"condition": "service_completed_successfully"}
        (published,) = services[name]["ports"]
        assert published.startswith("${") and ":-127.0.0.1:" in published


def test_compose_keeps_the_data_stores_off_every_outside_network(compose):
    assert compose["networks"]["backend"] == {"internal": True}
    for name in ("postgres", "redis", "migrate", "audit-purge"):
        assert compose["services"][name]["networks"] == ["backend"], name
        assert "ports" not in compose["services"][name]
    for name in ("gateway", "api", "migrate", "audit-purge"):
        service = compose["services"][name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]


def test_the_database_init_script_is_the_one_the_compose_file_mounts(compose):
    volumes = compose["services"]["postgres"]["volumes"]
    mounted = [v for v in volumes if v.startswith("./deploy/postgres/")]
    assert mounted == [
        "./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/init-roles.sh:ro"
    ]
    script = (ROOT / "deploy" / "postgres" / "init-roles.sh").read_text()
    for role in ("warden_owner", "warden_app", "warden_gateway"):
        assert role in script


# The Kubernetes manifests.


def kustomization_resources() -> list[Path]:
    main = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    migrate = yaml.safe_load(
        (KUBERNETES / "migrate" / "kustomization.yaml").read_text()
    )
    return [KUBERNETES / name for name in main["resources"]] + [
        KUBERNETES / "migrate" / name for name in migrate["resources"]
    ]


def manifests() -> list[dict[str, Any]]:
    return [doc for path in kustomization_resources() for doc in load_all(path)]


def pod_templates() -> dict[str, dict[str, Any]]:
    """Each workload's pod template, by its component label."""
    templates = {}
    for doc in manifests():
        if doc["kind"] in ("Deployment", "Job"):
            template = doc["spec"]["template"]
        elif doc["kind"] == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
        else:
            continue
        templates[template["metadata"]["labels"]["app.kubernetes.io/component"]] = (
            template
        )
    return templates


def test_every_manifest_file_is_in_a_kustomization():
    listed = set(kustomization_resources())
    on_disk = {
        path for path in KUBERNETES.rglob("*.yaml") if path.name != "kustomization.yaml"
    }
    assert on_disk == listed


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_manifests_validate_against_the_kubernetes_schema(version):
    result = run(
        BIN / "kubernetes-validate",
        "--strict",
        "--kubernetes-version",
        version,
        *kustomization_resources(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr


def test_the_kubernetes_check_refuses_an_unknown_field(tmp_path):
    broken = (KUBERNETES / "gateway.yaml").read_text()
    broken = broken.replace("readOnlyRootFilesystem: true", "readOnlyRootFS: true")
    (tmp_path / "gateway.yaml").write_text(broken)
    result = run(BIN / "kubernetes-validate", "--strict", tmp_path / "gateway.yaml")
    assert result.returncode != 0
    assert "readOnlyRootFS" in result.stdout + result.stderr


def test_there_is_a_deployment_and_a_service_per_role():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in manifests()}
    for role in ("gateway", "api"):
        assert ("Deployment", f"warden-{role}") in kinds
        assert ("Service", f"warden-{role}") in kinds
    assert ("CronJob", "warden-audit-purge") in kinds
    assert ("Job", "warden-migrate") in kinds


def test_pods_run_unprivileged_as_the_image_user():
    for name, template in pod_templates().items():
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == APP_USER, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"USER {APP_USER}:{APP_USER}" in dockerfile


def test_secrets_reach_the_pods_as_files_and_each_role_its_own_password():
    config = next(doc for doc in manifests() if doc["kind"] == "ConfigMap")
    assert not SECRET_SETTINGS & set(config["data"])
    for name, template in pod_templates().items():
        (container,) = template["spec"]["containers"]
        assert "secretKeyRef" not in str(container), name
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "secrets"]
        (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == "secrets"]
        assert "subPath" not in mount, "a subPath mount never sees a rotation"
        files = {
            f"{mount['mountPath']}/{item['path']}": item["key"]
            for item in volume["secret"]["items"]
        }
        for setting, path in config["data"].items():
            if setting.endswith("_FILE"):
                assert path in files, (name, setting)
        assert (
            files[config["data"]["DATABASE_PASSWORD_FILE"]] == (DATABASE_SECRETS[name])
        )
        environment = {e["name"]: e["value"] for e in container["env"]}
        role = DATABASE_ROLES[name]
        assert environment["DATABASE_URL"] == f"postgres://{role}@$(WARDEN_DATABASE)"


def test_servers_have_probes_that_run_the_image_check():
    probe = ["/app/deploy/entrypoint.sh", "probe"]
    for name in ("gateway", "api"):
        (container,) = pod_templates()[name]["spec"]["containers"]
        assert container["readinessProbe"]["exec"]["command"] == [*probe, "/readyz"]
        assert container["livenessProbe"]["exec"]["command"] == [*probe, "/healthz"]
        environment = {e["name"]: e["value"] for e in container["env"]}
        assert environment["WARDEN_ROLE"] == name


def test_every_pod_is_covered_by_a_network_policy_without_metadata_access():
    covered = set()
    for policy in (doc for doc in manifests() if doc["kind"] == "NetworkPolicy"):
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        (component,) = [
            expression
            for expression in policy["spec"]["podSelector"]["matchExpressions"]
            if expression["key"] == "app.kubernetes.io/component"
        ]
        covered |= set(component["values"])
        for rule in policy["spec"]["egress"]:
            for peer in rule.get("to", []):
                if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0":
                    assert "169.254.0.0/16" in peer["ipBlock"]["except"]
    assert covered == set(pod_templates())


def test_the_cron_job_purges_daily_one_run_at_a_time():
    (cron,) = [doc for doc in manifests() if doc["kind"] == "CronJob"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    (container,) = pod_templates()["audit-purge"]["spec"]["containers"]
    assert container["args"] == ["manage", "audit_purge"]


# The image.


def test_the_dockerfile_passes_hadolint():
    result = run(BIN / "hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_pinned_unprivileged_and_holds_no_secret():
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert bases and all(
        re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", b)
        for b in bases
    )
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001:10001$", final_stage, re.MULTILINE)
    assert "HEALTHCHECK" in final_stage
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in final_stage
    for instruction in re.findall(r"^(?:ENV|ARG) .*$", dockerfile, re.MULTILINE):
        for name in SECRET_SETTINGS:
            assert name not in instruction
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for needed in ("**/.venv", ".git", "**/var", "**/*.sqlite3", "artifacts"):
        assert needed in ignored
    for secret_place in ("secrets", ".env"):
        assert secret_place in ignored
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()
