"""The deployment bundle (deploy/) says what the code reads: every setting it names exists, every
command is a real `aios` command, ports and probe paths match the services, no usable secret ships.
No image is built here (no Docker daemon): the files are parsed and held against the code."""

from __future__ import annotations

import re

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from app.cli import app
from app.local_stack import make_settings
from assistant.settings import PROJECT_DIR, Settings
from assistant.settings.knowledge import service_token
from channels.app import create_app as create_gateway
from knowledge.service.app import TOKEN_HEADER
from knowledge.service.app import create_app as create_knowledge

DEPLOY = PROJECT_DIR / "deploy"
OURS = {"gateway", "rasa", "actions", "knowledge", "llama-server", "worker"}
# Each service: its settings' port field and the health path its probes use.
PORT_OF = {"gateway": ("gateway", "port"), "rasa": ("rasa", "port"), "actions": ("actions", "port"),
           "knowledge": ("knowledge", "port"), "llama-server": ("knowledge", "llama_server_port")}


def setting_names() -> set[str]:
    """AIOS_* names of every field of every settings class (the source of truth)."""
    names = set()
    for area in Settings.model_fields.values():
        cls = area.annotation
        prefix = cls.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def k8s() -> list[dict]:
    """Every object kustomization.yaml applies (and it applies every manifest in the folder)."""
    folder = DEPLOY / "k8s"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(f.name for f in folder.glob("*.yaml") if f.name != "kustomization.yaml")
    return [d for name in listed for d in yaml.safe_load_all((folder / name).read_text()) if d]


def env_file() -> dict[str, str]:
    lines = (DEPLOY / "aios.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def deployments() -> dict[str, dict]:
    return {d["metadata"]["name"].removeprefix("aios-"): d["spec"]["template"]["spec"]["containers"][0]
            for d in k8s() if d["kind"] == "Deployment"}


def test_every_variable_named_is_a_setting():
    known = setting_names()
    named = set(env_file())
    for service in compose()["services"].values():
        named |= {k for k in (service.get("environment") or {}) if k.startswith("AIOS_")}
    for doc in k8s():
        if doc["kind"] == "ConfigMap":
            named |= set(doc["data"])
        if doc["kind"] == "Secret":
            named |= set(doc["stringData"])
    for container in deployments().values():
        named |= {e["name"] for e in container.get("env", [])}
    assert named - known == set()
    assert {"AIOS_DATABASE_URL", "AIOS_RASA_LOCK_STORE_URL", "AIOS_TEMPORAL_EMBEDDED"} <= named


def test_every_service_runs_in_both_and_every_command_exists():
    services = compose()["services"]
    assert OURS <= set(services) and OURS == set(deployments())
    commands = [services[name]["command"] for name in OURS | {"migrate", "temporal-setup"}]
    commands += [c["args"] for c in deployments().values()]
    commands += [d["spec"]["template"]["spec"]["containers"][0]["args"] for d in k8s() if d["kind"] == "Job"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    commands.append(yaml.safe_load(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)))
    assert '"/app/.venv/bin/aios"' in re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M).group(1)
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)


@pytest.mark.parametrize("service", sorted(PORT_OF))
def test_ports_agree_with_the_settings(service):
    area, field = PORT_OF[service]
    default = getattr(getattr(Settings(), area), field)
    container = deployments()[service]
    [port] = [p["containerPort"] for p in container["ports"]]
    [svc] = [d for d in k8s() if d["kind"] == "Service" and d["metadata"]["name"] == service]
    assert svc["spec"]["ports"][0]["port"] == port == default
    env = {e["name"]: e["value"] for e in container["env"]}
    assert [v for k, v in env.items() if k.endswith("_PORT")] == [str(port)]
    assert [v for k, v in env.items() if k.endswith("_HOST")] == ["0.0.0.0"]  # reachable from other pods
    compose_env = compose()["services"][service]["environment"]
    assert [v for k, v in compose_env.items() if k.endswith("_PORT")] == [str(port)]
    assert f" {port}" in re.search(r"^EXPOSE (.+)$", (DEPLOY / "Dockerfile").read_text(), re.M).group(0)


async def test_probe_paths_are_served(tmp_path):
    probes = {name: c["readinessProbe"]["httpGet"]["path"] for name, c in deployments().items() if "ports" in c}
    settings = make_settings(tmp_path)
    gateway = httpx.ASGITransport(app=create_gateway(settings))
    async with httpx.AsyncClient(transport=gateway, base_url="http://gateway") as http:
        assert (await http.get(probes["gateway"])).status_code == 200
    # The knowledge service's route, without its store (not started here): served, not 404.
    knowledge = httpx.ASGITransport(app=create_knowledge(settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=knowledge, base_url="http://knowledge") as http:
        assert (await http.get(probes["knowledge"])).status_code not in (401, 404, 405)  # open to probes
        token = {TOKEN_HEADER: service_token(settings.core.secret_key.get_secret_value())}
        assert (await http.get("/no-such-path", headers=token)).status_code == 404
    assert probes["actions"] == "/health" and '"/health"' in (PROJECT_DIR / "actions" / "server.py").read_text()
    assert probes["rasa"] == "/"  # Rasa's own unauthenticated greeting
    assert probes["llama-server"] == "/health"  # llama.cpp's server (as the install step's smoke check)
    for container in deployments().values():
        if "ports" in container:
            assert container["livenessProbe"]["httpGet"]["path"] == container["readinessProbe"]["httpGet"]["path"]


def test_no_usable_secret_ships():
    values = list(env_file().values())
    values += [v for d in k8s() if d["kind"] == "Secret" for v in d["stringData"].values()]
    secretish = [v for v in values if "CHANGE-ME" in v or v.startswith(("postgresql://", "redis://"))]
    assert secretish and all("CHANGE-ME" in v for v in secretish)
