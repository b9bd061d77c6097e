from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso.cli.app import app
from retrieval.documents import load_knowledge
from retrieval.lint import lint, lint_paths
from retrieval.models import Kind, Visibility

REPO = Path(__file__).resolve().parents[2]

# Line numbers below refer to this file: each case swaps one line and expects the error there.
VALID = """\
---
id: sample
title: サンプルの質問
visibility: public
lang: ja
updated: 2026-01-05
links:
  - https://help.example.com/a
---
本文です。
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def variant(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_valid_file_has_no_problems(tmp_path: Path) -> None:
    assert lint_paths([write(tmp_path / "faq" / "ok.md", VALID)]) == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("本文だけでフロントマターがない\n", 1, "no front matter"),
        ("---\nid: a\ntitle: b\n", 1, "unterminated front matter"),
        (variant("title: サンプルの質問", "title: 質問: 答え"), 3, "bad YAML"),
        (variant("title: サンプルの質問", 'title: "閉じていない'), 3, "bad YAML"),
        ("---\n- id\n- title\n---\n本文\n", 2, "must be 'key: value' lines"),
        (variant("id: sample\n", ""), 1, "missing 'id'"),
        (variant("title: サンプルの質問", 'title: ""'), 3, "title: must be non-empty text"),
        (variant("id: sample", "id: Sample ID"), 2, "'Sample ID' is not a valid id"),
        (variant("visibility: public", "visibility: secret"), 4,
         "visibility: unknown value 'secret': use one of public, internal"),
        (variant("lang: ja", "lang: fr"), 5, "lang: unknown value 'fr'"),
        (variant("lang: ja", "phase: launch"), 5, "phase: unknown value 'launch'"),
        (variant("updated: 2026-01-05", "updated: 2026/01/05"), 6, "write it as YYYY-MM-DD"),
        (variant("updated: 2026-01-05", "updated: 2026-02-30"), 6, "updated: bad value"),
        (variant("  - https://help.example.com/a", "  - ftp://help.example.com/a"), 8,
         "'ftp://help.example.com/a' is not an http(s) URL"),
        (variant("links:\n  - https://help.example.com/a", "links: https://help.example.com/a"),
         7, "links: must be a list"),
        (variant("lang: ja", "aliases: 別の聞き方"), 5, "aliases: must be a list"),
        (variant("lang: ja", "tags:\n  - ok\n  - 2026"), 7, "tags: 2026 is not text"),
        (variant("lang: ja", "visiblity: internal"), 5,
         "unknown key 'visiblity' (did you mean 'visibility'?)"),
        (variant("lang: ja", "id: again"), 5, "duplicate key 'id' (first on line 2)"),
        (variant("本文です。\n", "\n  \n"), 9, "empty body"),
    ],
)
def test_each_problem_is_reported_once_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path / "faq" / "entry.md", text)

    problems = lint_paths([path])

    assert [(p.path, p.line) for p in problems] == [(str(path), line)]
    assert message in problems[0].message
    assert str(problems[0]).startswith(f"{path}:{line}: ")


def test_file_that_is_not_utf8_is_reported_at_the_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "faq" / "sjis.md"
    path.parent.mkdir()
    path.write_bytes(variant("本文です。", "シフトJISの本文").encode("shift_jis"))

    problems = lint_paths([path])

    # Lines 1-2 are ASCII and decode; line 3 holds the first Shift_JIS title bytes.
    assert [(p.line, "not UTF-8" in p.message) for p in problems] == [(3, True)]


def test_duplicate_id_is_reported_on_the_second_file_naming_the_first(tmp_path: Path) -> None:
    first = write(tmp_path / "faq" / "a.md", VALID)
    second = write(tmp_path / "faq" / "sub" / "b.md", VALID)

    problems = lint_paths([tmp_path])

    assert [str(p) for p in problems] == [
        f"{second}:2: duplicate id 'sample' (already used by {first})"
    ]


def test_unrelated_unknown_key_is_only_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "cases" / "x.md", variant("lang: ja", "industry: 小売"))

    report = lint([path])

    assert report.errors == []
    assert [(w.line, w.warning) for w in report.warnings] == [(5, True)]
    assert report.summary() == "1 file OK (1 warning)"


def test_drafts_folder_linted_directly_is_checked_as_faq(tmp_path: Path) -> None:
    drafts = tmp_path / "var" / "drafts"
    write(drafts / "good.md", VALID)
    write(drafts / "bad.md", variant("visibility: public", "visibility: everyone"))

    report = lint([drafts])

    assert report.files == 2
    assert [(Path(p.path).name, p.line) for p in report.errors] == [("bad.md", 4)]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    problems = lint_paths([tmp_path / "nowhere"])

    assert [p.message for p in problems] == ["no such path"]


def test_cli_names_a_missing_path_instead_of_counting_files(tmp_path: Path) -> None:
    write(tmp_path / "faq" / "a.md", VALID)

    result = runner.invoke(app, ["knowledge", "lint", str(tmp_path / "faq" / "typo.md")])

    assert result.exit_code == 2
    assert result.stderr.strip() == f"no such path: {tmp_path / 'faq' / 'typo.md'}"
    assert "files" not in result.output


def test_misspelt_visibility_says_the_entry_is_kept_off_public_surfaces(tmp_path: Path) -> None:
    bad = write(tmp_path / "faq" / "bad.md", variant("visibility: public", "visiblity: public"))

    result = runner.invoke(app, ["knowledge", "lint", str(tmp_path)])

    assert result.exit_code == 1
    assert (f"{bad}:4: unknown key 'visiblity' (did you mean 'visibility'?): until this is "
            "fixed the entry is kept off public surfaces") in result.output


def test_shipped_knowledge_base_lints_clean() -> None:
    report = lint([REPO / "knowledge"])

    assert [str(p) for p in report.problems] == []
    assert report.files >= 48


def test_shipped_knowledge_base_has_every_kind_and_internal_entries() -> None:
    entries = load_knowledge(REPO / "knowledge").entries
    by_kind = {kind: [e for e in entries if e.kind is kind] for kind in Kind}
    faq = by_kind[Kind.FAQ]

    assert len(faq) >= 40 and len(by_kind[Kind.CASE]) >= 5 and len(by_kind[Kind.PLAYBOOK]) >= 3
    assert 5 <= sum(e.visibility is Visibility.INTERNAL for e in faq) <= 8
    assert all(e.visibility is Visibility.INTERNAL for e in by_kind[Kind.PLAYBOOK])
    assert sum(e.lang == "en" for e in faq) >= 12
    assert all(1 <= len(e.aliases) <= 3 and e.links and e.updated and e.phase for e in faq)


def test_safety_fixture_internal_entry_has_no_public_near_twin() -> None:
    entries = {e.id: e for e in load_knowledge(REPO / "knowledge").entries}
    public_text = " ".join(
        " ".join((e.title, *e.aliases, e.body))
        for e in entries.values() if e.visibility is Visibility.PUBLIC
    )

    fixture = entries["discount-approval"]
    assert fixture.visibility is Visibility.INTERNAL
    assert fixture.title == "値引きの承認ルールは?"
    assert not any(word in public_text for word in ("値引", "割引", "ディスカウント", "discount"))


runner = CliRunner()


def test_cli_prints_each_problem_and_exits_1(tmp_path: Path) -> None:
    bad = write(tmp_path / "faq" / "bad.md", variant("lang: ja", "lang: fr"))
    write(tmp_path / "faq" / "good.md", variant("id: sample", "id: other"))

    result = runner.invoke(app, ["knowledge", "lint", str(tmp_path)])

    assert result.exit_code == 1
    assert f"{bad}:5: lang: unknown value 'fr'" in result.output
    assert result.output.strip().endswith("1 error in 1 of 2 files")


def test_cli_reports_files_ok_and_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "faq" / "a.md", VALID)
    write(tmp_path / "playbooks" / "b.md", variant("id: sample", "id: plan"))

    result = runner.invoke(app, ["knowledge", "lint", str(tmp_path)])

    assert result.exit_code == 0
    assert result.output == "2 files OK\n"


def test_cli_defaults_to_the_configured_knowledge_folder(tmp_path: Path) -> None:
    write(tmp_path / "faq" / "bad.md", "no front matter\n")

    result = runner.invoke(app, ["knowledge", "lint"], env={"BANSO_KNOWLEDGE_DIR": str(tmp_path)})

    assert result.exit_code == 1
    assert "bad.md:1: no front matter" in result.output
