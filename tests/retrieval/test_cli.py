"""`banso ask`, `banso index` and `banso eval` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso.cli.app import app
from tests.retrieval.conftest import FAQ_JA, INTERNAL


@pytest.fixture
def env(tmp_path: Path, knowledge: Path) -> dict[str, str]:
    return {"BANSO_DATA_DIR": str(tmp_path / "var"), "BANSO_KNOWLEDGE_DIR": str(knowledge)}


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_ask_json_prints_decision_and_ranked_hits(env: dict[str, str]) -> None:
    code, out, _ = invoke(["ask", "粗大ごみの出し方を教えてください", "--json"], env)
    assert code == 0
    payload = json.loads(out)
    assert payload["decision"] == "answer"
    assert payload["lang"] == "ja"
    assert payload["hits"][0]["id"] == "sodai-gomi"
    assert payload["hits"][0]["path"] == "faq/sodai-gomi.md"
    scores = [h["score"] for h in payload["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert 0.5 < payload["confidence"] <= 1.0  # P(answer) of an exact question


def test_ask_public_by_default_never_lists_internal(env: dict[str, str]) -> None:
    internal_ids = {e.id for e in INTERNAL}
    code, out, _ = invoke(["ask", INTERNAL[0].title, "--json", "-k", "100"], env)
    assert code == 0
    assert not {h["id"] for h in json.loads(out)["hits"]} & internal_ids

    code, out, _ = invoke(["ask", INTERNAL[0].title, "--json", "--visibility", "internal"], env)
    assert json.loads(out)["hits"][0]["id"] == INTERNAL[0].id


def test_ask_prints_readable_lines(env: dict[str, str]) -> None:
    code, out, _ = invoke(["ask", FAQ_JA[0].title], env)
    assert code == 0
    assert out.splitlines()[0].startswith("decision: answer")
    assert "[koseki]" in out.splitlines()[1]


def test_ask_empty_question_is_an_error_message(env: dict[str, str]) -> None:
    code, _, err = invoke(["ask", "  "], env)
    assert code == 2
    assert "empty" in err


def test_index_prints_counts_then_reuses_the_cache(env: dict[str, str]) -> None:
    code, out, _ = invoke(["index"], env)
    assert code == 0
    # 12 answers + 12 titles + 2 aliases, each embedded once
    assert "12 entries (9 public, 3 internal), 0 file errors, 26 texts embedded" in out
    code, out, _ = invoke(["index"], env)
    assert "0 texts embedded" in out


def test_index_reports_a_broken_file(env: dict[str, str], knowledge: Path) -> None:
    (knowledge / "faq" / "broken.md").write_text("no front matter\n", "utf-8")
    code, out, err = invoke(["index"], env)
    assert code == 0
    assert "1 file errors" in out
    assert "broken.md" in err


def test_eval_json_prints_every_metric(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text(
        '{"_id": "1", "title": "戸籍謄本の手数料", "text": "450円"}\n'
        '{"_id": "2", "title": "粗大ごみの出し方", "text": "電話で申し込み"}\n', "utf-8")
    (tmp_path / "q.jsonl").write_text('{"_id": "a", "text": "粗大ごみを出したい"}\n', "utf-8")
    (tmp_path / "r.tsv").write_text("query-id\tcorpus-id\tscore\na\t2\t2\n", "utf-8")
    args = ["eval", "--corpus", str(tmp_path / "c.jsonl"), "--queries", str(tmp_path / "q.jsonl"),
            "--qrels", str(tmp_path / "r.tsv"), "--json"]
    code, out, _ = invoke(args, env)
    assert code == 0
    report = json.loads(out)
    assert report["queries"] == 1 and report["hit@1"] == 1.0 and report["recall@10"] == 1.0
    curve = report["curve"]
    assert [p["threshold"] for p in curve] == sorted(p["threshold"] for p in curve)
    coverage = [p["coverage"] for p in curve]
    assert coverage == sorted(coverage, reverse=True)  # a stricter threshold answers fewer
    assert (tmp_path / "var" / "eval-cache").is_dir()  # a second run reuses the vectors


def test_eval_with_bad_file_exits_with_message(env: dict[str, str], tmp_path: Path) -> None:
    args = ["eval", "--corpus", str(tmp_path / "missing.jsonl"), "--queries", "q", "--qrels", "r"]
    code, _, err = invoke(args, env)
    assert code == 2
    assert "missing.jsonl" in err
