"""GET /: the website chat page (one HTML file, no build step, no external assets)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["chat"])

# Inline scripts and styles only, no third-party origin: a strict policy costs nothing here.
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


@cache
def _page() -> str:
    return (files("banso.web") / "static" / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse, summary="Website chat page")
def chat_page() -> HTMLResponse:
    return HTMLResponse(
        _page(), headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}
    )
