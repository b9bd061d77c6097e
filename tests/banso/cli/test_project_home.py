"""One project home: every `banso` command finds the same database and knowledge folder, says
which, and refuses to run outside a project (the `banso` executable, from temp folders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BANSO = str(Path(sys.executable).parent / "banso")

ACCOUNTS = """id,name,mrr,contract_start
H001,株式会社さくら製作所,"1,200,000",2025-04-01
H002,ひまわり商事株式会社,80000,2025-07-15
H003,Blue Ocean LLC,45000,2024-02-01
"""


def banso(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BANSO_", "SLACK_"))}
    return subprocess.run([BANSO, *args], cwd=cwd, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project as a team lays it out: knowledge/ with one FAQ, and a csv/ folder of exports."""
    home = tmp_path / "acme"
    faq = home / "knowledge" / "faq"
    faq.mkdir(parents=True)
    (faq / "password.md").write_text(
        "---\nid: password-reset\ntitle: パスワードを忘れました\nvisibility: public\nlang: ja\n"
        "---\nログイン画面の「パスワードをお忘れですか」から再設定できます。\n", encoding="utf-8")
    (home / "csv").mkdir()
    (home / "csv" / "acc.csv").write_text(ACCOUNTS, encoding="utf-8")
    return home


@pytest.mark.parametrize("command", [["report"], ["ask", "パスワードを忘れました"],
                                     ["import", "accounts", "acc.csv"], ["jobs", "list"],
                                     ["serve"]])
def test_a_command_outside_any_project_says_where_to_run_and_exits_2(
    tmp_path: Path, command: list[str]
) -> None:
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    (elsewhere / "acc.csv").write_text(ACCOUNTS, encoding="utf-8")

    result = banso(*command, cwd=elsewhere)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "no Banso project at" in line and str(elsewhere) in line
    assert "run banso inside the project folder, or set BANSO_HOME=" in line
    assert not (elsewhere / "var").exists()


def test_import_from_a_subfolder_lands_in_the_project_database_and_says_which(
    project: Path, tmp_path: Path
) -> None:
    imported = banso("import", "accounts", "acc.csv", cwd=project / "csv")

    assert imported.returncode == 0, imported.stderr
    assert "accounts: 3 inserted" in imported.stdout
    database = project / "var" / "core.db"
    assert imported.stderr.splitlines()[0] == (
        f"banso: database sqlite:///{database}, knowledge {project / 'knowledge'}")
    assert database.is_file() and not (project / "csv" / "var").exists()

    # Another folder with BANSO_HOME sees the same rows, and says so once.
    report = banso("report", "--json", cwd=tmp_path, BANSO_HOME=str(project))
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["book"]["accounts"] == 3
    assert report.stderr.count("banso: database") == 1
    assert f"sqlite:///{database}" in report.stderr


def test_banso_toml_marks_the_project_and_its_settings_apply(project: Path) -> None:
    (project / "banso.toml").write_text('data_dir = "state"\n', encoding="utf-8")

    result = banso("import", "accounts", "acc.csv", cwd=project / "csv")

    assert result.returncode == 0, result.stderr
    assert (project / "state" / "core.db").is_file()
    assert f"database sqlite:///{project / 'state' / 'core.db'}" in result.stderr


def test_ask_answers_from_the_project_knowledge_from_a_subfolder(project: Path) -> None:
    result = banso("ask", "パスワードを忘れました", "--json", cwd=project / "csv")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["id"] == "password-reset"
    assert f"knowledge {project / 'knowledge'}" in result.stderr


def test_banso_home_that_does_not_exist_is_named(tmp_path: Path) -> None:
    result = banso("report", cwd=tmp_path, BANSO_HOME=str(tmp_path / "nope"))

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"BANSO_HOME: no such folder (got {str(tmp_path / 'nope')!r}); for example "
        "BANSO_HOME=/srv/banso"]
