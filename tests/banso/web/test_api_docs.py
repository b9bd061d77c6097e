"""API docs work offline (assets served by Banso itself) and document /slack/events, which
answers 503 with the reason when Slack is not configured."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html) + re.findall(
        r'url: ?["\']([^"\']+)["\']', html)


def test_swagger_ui_and_redoc_load_every_asset_from_this_server(client: TestClient) -> None:
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        urls = _asset_urls(html)

        assert any(url.endswith(script) for url in urls), urls
        assert all(url.startswith("/") for url in urls), urls  # nothing from another origin
        for url in urls:
            assert client.get(url).status_code == 200, url
        assert "<script" in html and "googleapis" not in html


def test_slack_events_is_documented_with_what_it_answers(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/slack/events"]["post"]

    assert set(operation["responses"]) >= {"200", "401", "503"}
    assert "SLACK_SIGNING_SECRET" in operation["description"]


def test_slack_events_without_slack_answers_503_with_the_reason(client: TestClient) -> None:
    response = client.post("/slack/events", json={"type": "url_verification", "challenge": "c"})

    assert response.status_code == 503
    assert response.json() == {"detail": "Slack is not configured: set SLACK_BOT_TOKEN and "
                               "SLACK_SIGNING_SECRET (HTTP mode) and restart"}
