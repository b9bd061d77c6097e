"""The saved index: restart without re-embedding, edits re-embed only what changed, reloads."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from retrieval import fields
from retrieval.documents import LoadReport, load_knowledge
from retrieval.embedders import Embedder
from retrieval.models import Decision, Entry, Visibility
from retrieval.service import Retriever, build_retriever
from retrieval.store import KnowledgeSource
from tests.retrieval.conftest import FAQ_EN, FAQ_JA, INTERNAL, CountingEmbedder, write_entry

ALL = FAQ_JA + FAQ_EN + INTERNAL


@dataclass(frozen=True)
class Folders:
    knowledge_dir: Path
    index_dir: Path


def make_settings(tmp_path: Path, knowledge: Path) -> Folders:
    return Folders(knowledge_dir=knowledge, index_dir=tmp_path / "var" / "index")


def build(folders: Folders, embedder: Embedder) -> Retriever:
    return build_retriever(folders.knowledge_dir, folders.index_dir, embedder)


def ranking(retriever: Retriever, query: str, visibility: Visibility) -> list[tuple[str, float]]:
    return [(h.entry.id, round(h.score, 5)) for h in retriever.search(query, visibility).hits]


QUERIES = ["パスワードをリセットしたい", "粗大ごみ", "where are invoices", "返金の社内基準"]


def test_restart_loads_saved_index_without_embedding_any_passage(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    settings = make_settings(tmp_path, knowledge)
    first = build(settings, counting)
    assert len(counting.passages) == len(ALL)  # one answer vector per entry
    before = {q: ranking(first, q, Visibility.INTERNAL) for q in QUERIES}

    counting.reset()
    second = build(settings, counting)
    assert counting.passages == []
    assert counting.queries == []  # question rows came from disk too
    assert {q: ranking(second, q, Visibility.INTERNAL) for q in QUERIES} == before
    assert second.entries == first.entries


def test_saved_index_is_plain_files_without_pickle(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    settings = make_settings(tmp_path, knowledge)
    build(settings, counting)
    files = [p for p in settings.index_dir.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".npy", ".faiss", ".txt", ""}
    assert not any(b"\x80\x04\x95" in p.read_bytes()[:64] for p in files)  # pickle protocol 4


def test_editing_one_answer_re_embeds_only_that_answer(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    counting.reset()
    edited = Entry(id="sodai-gomi", title=FAQ_JA[1].title,
                   body="粗大ごみは予約センターに電話で申し込み、手数料券を貼って出します。")
    write_entry(knowledge, edited)

    assert retriever.reload_if_changed() is True
    assert counting.passages == [fields.answer_text(edited)]
    assert counting.queries == []  # the title did not change: its vector came from the cache
    hit = retriever.search("手数料券", Visibility.PUBLIC, k=1).hits[0]
    assert hit.entry.id == "sodai-gomi" and "予約センター" in hit.entry.body


def test_editing_a_title_re_embeds_that_title_and_answer_only(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    counting.reset()
    edited = Entry(id="juminhyo", title="住民票の写しをコンビニで取るには？", body=FAQ_JA[2].body)
    write_entry(knowledge, edited)

    assert retriever.reload_if_changed() is True
    assert counting.queries == [edited.title]
    assert counting.passages == [fields.answer_text(edited)]


def test_reload_without_changes_is_a_no_op(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    calls: list[Path] = []

    def loader(root: Path) -> LoadReport:
        calls.append(root)
        return load_knowledge(root)

    source = KnowledgeSource(knowledge, tmp_path / "index", counting, loader=loader)
    retriever = Retriever(source.load_or_build(), counting, source=source)
    calls.clear()
    assert retriever.reload_if_changed() is False
    assert calls == []  # unchanged files are not even parsed


def test_reload_picks_up_new_and_deleted_files(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    new = Entry(id="bike-parking", title="駐輪場の定期利用の申し込み方法は？",
                body="駅前駐輪場の定期利用は管理事務所で申し込みます。")
    write_entry(knowledge, new)
    (knowledge / "faq" / "koseki.md").unlink()

    assert retriever.reload_if_changed() is True
    ids = {e.id for e in retriever.entries}
    assert "bike-parking" in ids and "koseki" not in ids
    result = retriever.search("駐輪場の定期利用の申し込み方法は？", Visibility.PUBLIC)
    assert result.decision == Decision.ANSWER and result.hits[0].entry.id == "bike-parking"


def test_broken_file_keeps_its_last_good_version_and_the_rest_updates(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    (knowledge / "faq" / "password.md").write_text(
        "---\nid: password\nvisibility: public\ntitle: [unclosed\n---\nx\n", "utf-8"
    )
    write_entry(knowledge, Entry(id="en-invoice", title="Where can I download invoices?",
                                 body="Invoices are PDFs under Billing > History.", lang="en"))
    (knowledge / "faq" / "never-good.md").write_text("no front matter at all\n", "utf-8")

    assert retriever.reload_if_changed() is True
    by_id = {e.id: e for e in retriever.entries}
    assert by_id["password"].body == FAQ_JA[3].body  # last good version still served
    assert "Billing > History" in by_id["en-invoice"].body  # the good edit is live
    assert "never-good" not in by_id
    top = retriever.search("パスワードを忘れました", Visibility.PUBLIC, k=1).hits[0]
    assert top.entry.id == "password"


def test_broken_edit_that_may_make_an_entry_internal_keeps_it_from_public_search(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    (knowledge / "faq" / "password.md").write_text(
        "---\nid: password\nvisibility: internal\ntitle: [unclosed\n---\nx\n", "utf-8"
    )
    assert retriever.reload_if_changed() is True
    public = retriever.search("パスワードを忘れました", Visibility.PUBLIC)
    assert "password" not in {h.entry.id for h in public.hits}
    internal = retriever.search("パスワードを忘れました", Visibility.INTERNAL, k=1)
    assert internal.hits[0].entry.id == "password"


def test_broken_file_at_first_start_is_skipped_and_the_rest_serves(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    (knowledge / "faq" / "password.md").write_text("---\nid: [oops\n---\n", "utf-8")
    retriever = build(make_settings(tmp_path, knowledge), counting)
    ids = {e.id for e in retriever.entries}
    assert "password" not in ids and "koseki" in ids
    assert retriever.search("粗大ごみ", Visibility.PUBLIC, k=1).hits[0].entry.id == "sodai-gomi"


def test_unreadable_saved_index_is_rebuilt(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    settings = make_settings(tmp_path, knowledge)
    build(settings, counting)
    for manifest in settings.index_dir.rglob("manifest.json"):
        manifest.write_text("{not json", "utf-8")
    counting.reset()
    retriever = build(settings, counting)
    assert len(retriever.entries) == len(ALL)
    assert counting.passages == []  # rebuilt from the embedding cache, not the model


def test_index_built_with_another_model_is_not_used(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    settings = make_settings(tmp_path, knowledge)
    build(settings, counting)

    class OtherModel(CountingEmbedder):
        @property
        def name(self) -> str:
            return "another-model"

    other = OtherModel(counting._inner)
    build(settings, other)
    assert len(other.passages) == len(ALL)  # nothing reused across models


def test_missing_knowledge_folder_serves_an_empty_index(
    tmp_path: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, tmp_path / "nowhere"), counting)
    result = retriever.search("パスワード", Visibility.PUBLIC)
    assert result.hits == [] and result.decision == Decision.ABSTAIN


def test_cache_forgets_old_versions_of_edited_texts(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    source = KnowledgeSource(knowledge, tmp_path / "index", counting)
    retriever = Retriever(source.load_or_build(), counting, source=source)
    size = len(source.cache)
    old = FAQ_JA[0]
    write_entry(knowledge, Entry(id=old.id, title=old.title, aliases=old.aliases, body="500円"))
    assert retriever.reload_if_changed() is True
    assert len(source.cache) == size  # the old answer's vector was replaced, not kept
    assert len(KnowledgeSource(knowledge, tmp_path / "index", counting).cache) == size


def test_failed_rebuild_keeps_the_previous_index_serving(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    calls = 0

    def flaky_loader(root: Path) -> LoadReport:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("disk went away")
        return load_knowledge(root)

    source = KnowledgeSource(knowledge, tmp_path / "index", counting, loader=flaky_loader)
    retriever = Retriever(source.load_or_build(), counting, source=source)
    write_entry(knowledge, Entry(id="new-one", title="新しい質問", body="新しい答え"))

    assert retriever.reload_if_changed() is False
    assert {e.id for e in retriever.entries} == {e.id for e in ALL}
    assert retriever.search("粗大ごみ", Visibility.PUBLIC, k=1).hits[0].entry.id == "sodai-gomi"


def test_searches_during_a_reload_see_the_old_or_the_new_index(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    retriever = build(make_settings(tmp_path, knowledge), counting)
    old_ids = {e.id for e in retriever.entries}
    write_entry(knowledge, Entry(id="bike-parking", title="駐輪場の申し込み", body="事務所で。"))
    seen: list[set[str]] = []
    errors: list[BaseException] = []

    started, done = threading.Event(), threading.Event()

    def search_until_reloaded() -> None:
        try:
            while True:
                hits = retriever.search("駐輪場の申し込み", Visibility.PUBLIC, k=100).hits
                seen.append({h.entry.id for h in hits})
                started.set()
                if done.is_set():
                    return
        except BaseException as exc:  # any failure in the thread must fail the test
            errors.append(exc)
            started.set()

    worker = threading.Thread(target=search_until_reloaded)
    worker.start()
    started.wait(timeout=60)
    try:
        assert retriever.reload_if_changed() is True
    finally:
        done.set()
        worker.join(timeout=60)
    assert errors == []
    assert seen
    after = retriever.search("駐輪場の申し込み", Visibility.PUBLIC, k=1).hits[0].entry.id
    assert after == "bike-parking"
    public_old = {e.id for e in ALL if e.visibility == Visibility.PUBLIC} & old_ids
    assert all(ids in (public_old, public_old | {"bike-parking"}) for ids in seen)


def test_broken_files_are_reported_after_reload_and_after_restart(
    tmp_path: Path, knowledge: Path, counting: CountingEmbedder
) -> None:
    settings = make_settings(tmp_path, knowledge)
    retriever = build(settings, counting)
    assert retriever.broken_files == []
    (knowledge / "faq" / "never-good.md").write_text("no front matter at all\n", "utf-8")
    retriever.reload_if_changed()
    assert [p.split(":")[0].endswith("never-good.md") for p in retriever.broken_files] == [True]
    restarted = build(settings, counting)
    assert restarted.broken_files == retriever.broken_files
