"""Web fixtures: a small real knowledge base, a real retriever over it, and app builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from banso.knowledge import load_retriever
from banso.runtime import Runtime, build_runtime
from banso.web.app import create_app
from core.settings import Settings
from core.slack.client import slack_client
from retrieval.service import Retriever
from tests.services import services_for

FILES = {
    "faq/password-reset.md": """---
id: password-reset
title: パスワードを忘れました
aliases: [パスワードを再設定したい, ログインできない]
visibility: public
tags: [login]
links: [https://help.example.com/password]
---
ログイン画面の **「パスワードをお忘れの方」** から再設定メールを送れます。

- メールが届かない場合は迷惑メールフォルダを確認してください
- 管理者はユーザー一覧から再設定リンクを送れます

<b>HTML</b> はそのまま文字として表示されます。
""",
    "faq/invoice.md": """---
id: invoice-download
title: 請求書をダウンロードしたい
aliases: [領収書の発行]
visibility: public
links: [https://help.example.com/billing]
---
管理画面の「契約と請求」から PDF の請求書をダウンロードできます。
""",
    "faq/export-csv.md": """---
id: export-csv
title: How do I export data to CSV?
aliases: [download a spreadsheet of my records]
visibility: public
lang: en
links: [https://help.example.com/export]
---
Open **Reports**, choose the period and click *Export CSV*.
""",
    "playbooks/discount-limit.md": """---
id: churn-discount-limit
title: 解約防止の値引き上限はいくらですか
aliases: [解約引き止めの割引率]
visibility: internal
---
社外秘: 値引きは最大 20% まで、部長承認が必要です。
""",
}

INTERNAL_MARKER = "社外秘"


@pytest.fixture(scope="session")
def knowledge_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("knowledge")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def retriever_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retriever-data")


@pytest.fixture(scope="session")
def retriever(knowledge_root: Path, retriever_data: Path) -> Retriever:
    # Built once per run: loading the embedder and indexing is the slow part.
    return load_retriever(Settings(data_dir=retriever_data, knowledge_dir=knowledge_root))


@pytest.fixture
def web_settings(settings: Settings, knowledge_root: Path) -> Settings:
    return settings.model_copy(update={"knowledge_dir": knowledge_root})


class FakeClock:
    """Monotonic seconds the test moves by hand (the rate limiter's clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(
    web_settings: Settings, engine: Engine, retriever: Retriever, clock: FakeClock
) -> Callable[..., FastAPI]:
    def make(**overrides: Any) -> FastAPI:
        settings = web_settings.model_copy(update=overrides)
        services = services_for(settings, engine, retriever=retriever)
        return create_app(Runtime(services=services), clock=clock)

    return make


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


SLACK_SECRET = "web-tests-signing-secret"


@pytest.fixture
def make_slack_app(
    web_settings: Settings, engine: Engine, retriever: Retriever, clock: FakeClock
) -> Callable[..., FastAPI]:
    """The app as `banso serve` builds it in Slack HTTP mode (POST /slack/events mounted)."""

    def make(**overrides: Any) -> FastAPI:
        settings = web_settings.model_copy(update={
            "slack_bot_token": SecretStr("xoxb-test"),
            "slack_signing_secret": SecretStr(SLACK_SECRET), **overrides,
        })
        services = services_for(settings, engine, slack=slack_client(settings),
                                retriever=retriever)
        return create_app(build_runtime(settings, services=services), clock=clock)

    return make
