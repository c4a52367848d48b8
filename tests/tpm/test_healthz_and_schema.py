import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_database_and_redis(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(client, db, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}


def test_openapi_schema_generates_without_warnings(db):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            "/dev/null",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr


def test_openapi_schema_names_contract_paths(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/projects/",
        "/api/v1/projects/{key}/",
        "/api/v1/projects/{project_key}/members/",
        "/api/v1/projects/{project_key}/members/{user_id}/",
    ]:
        assert path in paths, path
    member = schema["components"]["schemas"]["Membership"]["properties"]
    assert {"user", "role", "hourly_rate", "capacity_hours_per_week"} <= set(member)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_are_served_offline(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    if path == "/api/docs/":
        html = response.content.decode()
        assert "swagger-ui" in html
        assert "cdn" not in html.lower()


def test_check_deploy_with_production_settings_is_clean():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "-real-production-secret-Z9",
        "ALLOWED_HOSTS": "tpm.example.com",
        "HOME": "/tmp",
    }
    import os

    for name in ("DATABASE_URL", "REDIS_URL", "TPM_DATA_DIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
