"""deploy/compose.yaml against the code and deploy/nginx.conf, without a Docker engine.

There is no Docker here, so what can rot silently is checked instead: the services and
their start order, every PARLEY_* variable names a setting and validates, the nodes listen
where nginx's upstream sends and where their healthchecks ask, the healthcheck paths are
served by the app, and the one-shot migration is a real ``parley`` command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from server.cli import _parser
from server.config import Settings
from tests.test_dockerfile import _image_env

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
NGINX = (DEPLOY / "nginx.conf").read_text()
NODES = ("parley-a", "parley-b")
PARLEY = ("migrate", *NODES)  # the services running the Parley image
IMAGE_ENV = _image_env()  # the Dockerfile's ENV


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` and ``${VAR:?message}`` as an operator who set nothing gets them."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if operator == ":-":
            return rest
        if operator == ":?":
            return "s" * 48  # required: compose refuses to start without it
        raise AssertionError(f"${{{name}}} has neither a default nor a required marker")

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value)


def env(service: str) -> dict[str, str]:
    """The container's environment: the image's ENV, then the service's."""
    given = SERVICES[service].get("environment", {})
    assert isinstance(given, dict), f"{service}: environment as a mapping"
    return {**IMAGE_ENV, **{k: interpolate(str(v)) for k, v in given.items()}}


def healthcheck_url(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    urls = [u for part in test for u in re.findall(r"https?://[^'\" ]+", part)]
    assert len(urls) == 1, f"{service}: one URL in its healthcheck, got {urls}"
    return urls[0]


def nginx_block(name: str) -> str:
    found = re.search(rf"^\s*{name} \{{\n(.*?)^\s*\}}", NGINX, re.M | re.S)
    assert found, f"deploy/nginx.conf has no `{name}` block"
    return found.group(1)


def upstream_servers() -> list[str]:
    return re.findall(r"^\s*server (\S+?)[ ;]", nginx_block("upstream parley"), re.M)


def test_the_services_are_two_nodes_redis_postgres_nginx_and_a_one_shot_migration():
    assert set(SERVICES) == {"postgres", "redis", "migrate", *NODES, "nginx"}
    for name in PARLEY:
        build = SERVICES[name]["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT, f"{name}: builds the repository"
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", f"{name}: the one Dockerfile"
    assert len({SERVICES[name]["image"] for name in PARLEY}) == 1
    assert "8000" not in str([SERVICES[n].get("ports") for n in NODES])  # only nginx is published


def test_every_parley_variable_is_a_setting_and_validates():
    fields = {f"PARLEY_{name.upper()}": name for name in Settings.model_fields}
    for service in PARLEY:
        values = env(service)
        unknown = [name for name in values if name.startswith("PARLEY_") and name not in fields]
        assert not unknown, f"{service} sets {unknown}, which server/config.py does not read"
        settings = Settings(
            _env_file=None,  # no .env file: only what compose sets
            **{fields[k]: v for k, v in values.items() if k.startswith("PARLEY_")},
        )
        assert settings.secret()  # the shared secret, never one generated per container


def test_the_nodes_share_one_database_one_redis_and_one_secret():
    postgres = SERVICES["postgres"]["environment"]
    wanted = {
        "PARLEY_DATABASE_URL": "postgresql+asyncpg://"
        f"{postgres['POSTGRES_USER']}:{interpolate(postgres['POSTGRES_PASSWORD'])}@postgres:5432/"
        f"{postgres['POSTGRES_DB']}",
        "PARLEY_REDIS_URL": "redis://redis:6379/0",
    }
    for service in PARLEY:
        assert {k: env(service)[k] for k in wanted} == wanted, service
    assert len({SERVICES[s]["environment"]["PARLEY_JWT_SECRET"] for s in NODES}) == 1
    assert "PARLEY_JWT_SECRET:?" in SERVICES["parley-a"]["environment"]["PARLEY_JWT_SECRET"]
    mounts = SERVICES["postgres"]["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in mounts and "pgdata" in COMPOSE["volumes"]


def test_migrations_run_once_and_the_nodes_start_after_them():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["parley", "migrate"]
    assert migrate["restart"] == "no"
    assert _parser().parse_args(migrate["command"][1:]).run.__name__ == "_migrate"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for node in NODES:
        command = SERVICES[node].get("command", ["parley", "serve"])
        assert command == ["parley", "serve"], node
        depends = SERVICES[node]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    for node in NODES:
        assert SERVICES["nginx"]["depends_on"][node]["condition"] == "service_healthy"


def test_nginx_sends_to_the_node_services_on_the_port_they_listen_on():
    listen = {f"{node}:{env(node)['PARLEY_PORT']}" for node in NODES}
    assert env("parley-a")["PARLEY_HOST"] == "0.0.0.0"  # reachable from nginx's container
    assert sorted(upstream_servers()) == sorted(listen)
    assert set(re.findall(r"proxy_pass http://(\w+);", NGINX)) == {"parley"}  # the upstream above
    for node in NODES:  # the node's healthcheck asks the port the node listens on
        assert urlsplit(healthcheck_url(node)).port == int(env(node)["PARLEY_PORT"])


def test_nginx_is_published_on_the_port_it_listens_on_and_runs_the_shipped_config():
    nginx = SERVICES["nginx"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    (published,) = nginx["ports"]
    container_port = int(str(published).rsplit(":", 1)[1])
    assert re.findall(r"^\s*listen (\d+);", NGINX, re.M) == [str(container_port)]
    assert urlsplit(healthcheck_url("nginx")).port == container_port


def test_healthcheck_paths_are_exposed_by_nginx():
    path = urlsplit(healthcheck_url("nginx")).path
    assert re.search(rf"location = {re.escape(path)} \{{\s*proxy_pass http://parley;", NGINX), path
    for node in NODES:
        assert urlsplit(healthcheck_url(node)).path == "/readyz"  # ready: database and Redis answer


@pytest.mark.parametrize("service", ["nginx", *NODES])
async def test_every_healthcheck_path_is_served_by_the_app(live_server, service):
    """The path each healthcheck asks, asked of a real server: 200 (SQLite, no Redis)."""
    response = await live_server.http.get(urlsplit(healthcheck_url(service)).path)
    assert response.status_code == 200, response.text


def test_every_service_but_the_migration_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name != "migrate":
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_the_file_has_nothing_compose_v1_refuses():
    """Debian 12's docker-compose 1.29 refuses a top-level ``name``; v2 accepts the file either way."""
    assert set(COMPOSE) <= {"services", "volumes", "x-parley"}, set(COMPOSE)
    assert COMPOSE["volumes"]["pgdata"]["name"] == "parley_pgdata"  # the project name no longer sets it


def test_docker_compose_1_29_validates_the_file():
    """``docker-compose config`` needs no engine: v1.29's own schema check (.ci/run installs it)."""
    command = shutil.which("docker-compose")
    if command is None:
        pytest.skip("no docker-compose (Debian: apt-get install docker-compose)")
    checked = subprocess.run(
        [command, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
        env={**os.environ, "PARLEY_JWT_SECRET": "s" * 48},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
