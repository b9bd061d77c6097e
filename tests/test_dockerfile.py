"""The image installs every package the project has: a room missing from the Dockerfile's COPY
lines builds an image whose `banso serve` dies on its first import."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def test_the_image_copies_every_package_pyproject_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.rstrip("*")
                for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.M))
    assert packages <= copied, f"Dockerfile does not COPY {sorted(packages - copied)}"
