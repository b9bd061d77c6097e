"""docs/operations.md and the deployment files stay true to the code."""

from __future__ import annotations

import yaml

from banso.cli.ops import BEGIN, END, env_name, settings_reference
from core.settings import Settings
from tests.conftest import REPO

DOC = REPO / "docs" / "operations.md"


def test_settings_table_in_operations_doc_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()

    assert table == settings_reference(), (
        "docs/operations.md is out of date: run `banso config reference --write "
        "docs/operations.md`"
    )
    for name, field in Settings.model_fields.items():
        assert f"`{env_name(name, field)}`" in table
        assert field.description, f"setting {name} has no description for the doc"


def test_compose_replicas_share_one_database_behind_the_load_balancer() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    replicas = [name for name in services if name.startswith("banso-")]
    nginx = compose["configs"]["nginx"]["content"]

    assert len(replicas) == 2
    urls = {services[name]["environment"]["BANSO_DATABASE_URL"] for name in replicas}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql+psycopg://")
    assert services["migrate"]["command"] == ["banso", "db", "upgrade"]
    for name in replicas:
        assert f"server {name}:8000" in nginx
        trusted = services[name]["environment"]["BANSO_TRUSTED_PROXIES"]
        assert trusted == services["lb"]["networks"]["default"]["ipv4_address"]


def test_dockerfile_runs_serve_as_non_root_with_a_healthcheck() -> None:
    lines = (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()

    assert lines[-1] == 'CMD ["banso", "serve", "--host", "0.0.0.0"]'
    assert any(line.startswith("USER ") and line != "USER root" for line in lines)
    assert any("/healthz" in line for line in lines)
    assert any("banso index" in line for line in lines)
