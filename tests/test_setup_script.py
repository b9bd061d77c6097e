"""`scripts/setup.sh` (run by `scripts/run.sh` on every start) installs only when something
changed. The real script runs in a copy of the project whose python3/pip record their calls,
so the test sees exactly which installs a start would do, without downloading anything."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FAKE_PYTHON3 = """#!/usr/bin/env bash
# python3 -m venv .venv: lay out a venv whose python and pip only log what they are asked.
echo "python3 $*" >> "$CALLS"
mkdir -p .venv/bin
printf '#!/usr/bin/env bash\\necho "python $*" >> "$CALLS"\\n' > .venv/bin/python
printf '#!/usr/bin/env bash\\necho "pip $*" >> "$CALLS"\\n' > .venv/bin/pip
chmod +x .venv/bin/python .venv/bin/pip
"""


def _project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "banso"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", project / "scripts" / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "python3"
    fake.write_text(FAKE_PYTHON3, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}",
           "CALLS": str(tmp_path / "calls.log")}
    return project, env


def _setup(project: Path, env: dict[str, str], *args: str) -> tuple[str, list[str]]:
    calls = Path(env["CALLS"])
    calls.unlink(missing_ok=True)
    done = subprocess.run(["bash", "scripts/setup.sh", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    logged = calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []
    return done.stdout, [line for line in logged if line.startswith(("pip", "python3"))]


def test_second_start_installs_nothing(tmp_path: Path) -> None:
    project, env = _project(tmp_path)

    _, first = _setup(project, env)
    assert "pip install -q -e ." in first

    out, second = _setup(project, env)
    assert second == []
    assert "up to date" in out


def test_changed_pyproject_or_new_extras_install_again(tmp_path: Path) -> None:
    project, env = _project(tmp_path)
    _setup(project, env)

    _, dev = _setup(project, env, "--dev")
    assert "pip install -q -e .[dev]" in dev
    assert _setup(project, env)[1] == []  # a dev install serves a plain start too

    with (project / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write("\n# a new dependency\n")
    _, changed = _setup(project, env)
    assert "pip install -q -e ." in changed
