"""The Docker deployment files, checked statically: CI machines have no Docker engine.

docker-compose.yml is validated against the compose specification (check-jsonschema ships the
schema, so this works offline) and then checked for the properties docs/deployment.md relies on.
No database and no Django are needed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a KEY=VALUE list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def is_one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def named_volumes_used_by(service: dict) -> set[str]:
    names = set()
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            source = volume.get("source") if volume.get("type", "volume") == "volume" else None
        else:
            source = volume.split(":", 1)[0] if ":" in volume else None
        if source and not source.startswith((".", "/", "~", "$")):
            names.add(source)
    return names


def test_compose_file_is_valid_against_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_has_no_obsolete_version_key(compose: dict) -> None:
    assert "version" not in compose


def test_compose_defines_app_and_backing_services(services: dict) -> None:
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)


def test_backing_services_use_supported_images(services: dict) -> None:
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_every_long_running_service_has_a_healthcheck(services: dict) -> None:
    long_running = [name for name, service in services.items() if not is_one_shot(service)]
    assert set(long_running) >= {"web", "worker", "beat", "postgres", "redis"}
    for name in long_running:
        healthcheck = services[name].get("healthcheck") or {}
        assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"
        assert healthcheck.get("test"), f"{name}: no healthcheck"


def test_web_healthcheck_probes_healthz(services: dict) -> None:
    test = services["web"]["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    assert "/healthz" in command


def test_named_volumes_are_declared_and_used(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    used = set().union(*(named_volumes_used_by(service) for service in services.values()))
    assert used == declared
    assert "pgdata" in named_volumes_used_by(services["postgres"])
    assert "redisdata" in named_volumes_used_by(services["redis"])


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_services_use_the_compose_postgres_and_redis(services: dict, name: str) -> None:
    env = environment_of(services[name])
    database, redis = urlsplit(env["DATABASE_URL"]), urlsplit(env["REDIS_URL"])
    assert database.scheme in {"postgres", "postgresql"}
    assert database.hostname == "postgres"
    assert redis.scheme == "redis"
    assert redis.hostname == "redis"


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_services_require_a_secret_key_and_disable_debug(services: dict, name: str) -> None:
    env = environment_of(services[name])
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", env["SECRET_KEY"])
    assert env["DEBUG"] in {"0", "False", "false"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_after_migrations(services: dict, name: str) -> None:
    depends_on = services[name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_runs_once_after_backing_services_are_healthy(services: dict) -> None:
    migrate = services["migrate"]
    assert is_one_shot(migrate)
    assert "migrate" in " ".join(migrate["command"])
    for backing in ("postgres", "redis"):
        assert migrate["depends_on"][backing]["condition"] == "service_healthy"


def test_beat_is_a_single_instance(services: dict) -> None:
    beat = services["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "beat" in beat["command"]


def test_dockerfile_runs_python_311_as_non_root_with_a_healthcheck() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    base_images = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert base_images
    assert all(image.startswith("python:3.11") for image in base_images)
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    healthchecks = [line for line in lines if line.upper().startswith("HEALTHCHECK ")]
    assert healthchecks
    assert "NONE" not in healthchecks[-1].upper().split()
