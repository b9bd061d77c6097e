"""A local stand-in for Slack's Web API: a real HTTP server on loopback that records every call.

The app reaches it through `SLACK_API_URL` (settings.slack_api_url), exactly as it reaches Slack.
Payloads are checked against Slack's documented limits; a message Slack would refuse is refused
here too (`invalid_blocks`), and the violation is kept in `stub.violations` so tests can assert
that none happened.

Posted messages are kept per channel with their metadata, so `conversations.history` and
`conversations.replies` read them back as Slack does. Faults on demand: `fail_next` answers an
error status (optionally after posting the message, as a Slack 500 sometimes does) and
`slow_next` posts the message but answers only after a delay (past a client's timeout).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

# https://docs.slack.dev/reference/block-kit/blocks and .../block-elements (limits as documented)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_URL = 3_000
MAX_VIEW_TITLE = 24  # a modal's title, submit and close labels
MAX_PRIVATE_METADATA = 3_000
MAX_CALLBACK_ID = 255
MAX_INPUT_LABEL = 2_000
MAX_RADIO_OPTIONS = 10
MAX_TEXT_INPUT = 3_000  # plain_text_input max_length


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def check_blocks(blocks: list[dict[str, Any]], max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Every way these blocks break Slack's documented limits (empty list = Slack accepts them)."""
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("duplicate block_id")
    for i, block in enumerate(blocks):
        problems += [f"block {i} ({block.get('type')}): {p}" for p in _check_block(block)]
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a Home tab or modal view (views.publish / views.open)."""
    problems = check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS)
    if view.get("type") == "modal":
        if not _text_of(view.get("title")):
            problems.append("modal without a title")
        problems += [f"modal {key} > {MAX_VIEW_TITLE}" for key in ("title", "submit", "close")
                     if len(_text_of(view.get(key))) > MAX_VIEW_TITLE]
        if any(b.get("type") == "input" for b in view.get("blocks", [])) and not view.get(
                "submit"):
            problems.append("modal with inputs needs a submit label")
    if len(str(view.get("private_metadata", ""))) > MAX_PRIVATE_METADATA:
        problems.append(f"private_metadata > {MAX_PRIVATE_METADATA}")
    if len(str(view.get("callback_id", ""))) > MAX_CALLBACK_ID:
        problems.append(f"callback_id > {MAX_CALLBACK_ID}")
    return problems


def _check_block(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = block.get("type")
    if len(str(block.get("block_id", ""))) > MAX_BLOCK_ID:
        problems.append("block_id too long")
    if kind == "section":
        text = _text_of(block.get("text"))
        fields = block.get("fields") or []
        if not text and not fields:
            problems.append("section needs text or fields")
        if len(text) > MAX_SECTION_TEXT:
            problems.append(f"section text {len(text)} > {MAX_SECTION_TEXT}")
        if len(fields) > MAX_SECTION_FIELDS:
            problems.append(f"{len(fields)} fields > {MAX_SECTION_FIELDS}")
        problems += [f"field text > {MAX_FIELD_TEXT}" for f in fields
                     if len(_text_of(f)) > MAX_FIELD_TEXT]
        if block.get("accessory"):
            problems += _check_element(block["accessory"])
    elif kind == "header":
        if len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
            problems.append(f"header text > {MAX_HEADER_TEXT}")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            problems.append(f"actions block with {len(elements)} elements")
        for element in elements:
            problems += _check_element(element)
        action_ids = [e["action_id"] for e in elements if "action_id" in e]
        if len(action_ids) != len(set(action_ids)):
            problems.append("duplicate action_id in one block")
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"context block with {len(elements)} elements")
        problems += [f"context text > {MAX_SECTION_TEXT}" for e in elements
                     if len(_text_of(e)) > MAX_SECTION_TEXT]
    elif kind == "input":
        label = _text_of(block.get("label"))
        if not label or len(label) > MAX_INPUT_LABEL:
            problems.append(f"input label of {len(label)} characters")
        if not block.get("element"):
            problems.append("input without an element")
        else:
            problems += _check_element(block["element"])
    elif kind not in {"divider", "image", "rich_text", "file", "video"}:
        problems.append(f"unknown block type {kind!r}")
    return problems


def _check_element(element: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if len(str(element.get("action_id", ""))) > MAX_ACTION_ID:
        problems.append("action_id too long")
    if element.get("type") == "button":
        if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            problems.append(f"button text > {MAX_BUTTON_TEXT}")
        if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
            problems.append(f"button value > {MAX_BUTTON_VALUE}")
        if len(str(element.get("url", ""))) > MAX_URL:
            problems.append(f"button url > {MAX_URL}")
    options = element.get("options") or []
    if len(options) > MAX_OPTIONS:
        problems.append(f"{len(options)} options > {MAX_OPTIONS}")
    if element.get("type") == "radio_buttons" and not 0 < len(options) <= MAX_RADIO_OPTIONS:
        problems.append(f"radio_buttons with {len(options)} options")
    if element.get("type") == "plain_text_input" and not (
            0 < int(element.get("max_length", MAX_TEXT_INPUT)) <= MAX_TEXT_INPUT):
        problems.append(f"plain_text_input max_length > {MAX_TEXT_INPUT}")
    problems += [f"option text > {MAX_OPTION_TEXT}" for o in options
                 if len(_text_of(o.get("text"))) > MAX_OPTION_TEXT]
    return problems


class SlackStub:
    """Start with `SlackStub()`, point the app at `stub.url`, assert on `stub.calls`."""

    BOT_USER_ID = "UBOT"
    BOT_ID = "BBOT"
    TEAM_ID = "T0001"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.usergroups: dict[str, list[str]] = {}
        self.members_by_email: dict[str, str] = {}  # users.lookupByEmail: email -> user id
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.uploads: dict[str, bytes] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> posted, oldest first
        self._failures: dict[str, list[tuple[int, int, bool]]] = {}
        self._delays: dict[str, list[float]] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._last_ts = 0.0
        self._holding = 0  # answers being held back by slow_next right now
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll makes close() quick (the default 0.5 s was most of a bot test's time).
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # --- test-facing API ---------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Calls to `method` once at least `count` arrived (lazy listeners run in threads)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"{count} call(s) to {method} not seen; saw {seen}")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1,
        posted: bool = False,
    ) -> None:
        """The next `times` calls to `method` answer `status` (429 with Retry-After by default).

        `posted=True`: the call takes effect first and only the answer is an error (a 500 or a
        gateway timeout after Slack stored the message)."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, retry_after, posted)] * times)

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` take effect at once but answer after `seconds`."""
        with self._lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def holding(self) -> int:
        """How many answers `slow_next` is holding back at this moment (the calls took effect)."""
        with self._lock:
            return self._holding

    def _hold(self, seconds: float) -> None:
        with self._lock:
            self._holding += 1
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self._holding -= 1

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message posted (in `channel`, or anywhere), oldest first, as Slack keeps them."""
        with self._lock:
            channels = [channel] if channel else list(self.messages)
            return [m for c in channels for m in self.messages.get(c, [])]

    def posted_keys(self) -> list[str]:
        """The dedupe key in each posted message's metadata (a duplicate shows up twice)."""
        return [str(m["metadata"]["event_payload"].get("key")) for m in self.posted()
                if isinstance(m.get("metadata"), dict)]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.violations.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- Web API methods ---------------------------------------------------------------------
    def _next_ts(self) -> str:
        # Slack's clock: real time, unique and increasing, so `oldest` windows work as on Slack.
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
            args["blocks"] = blocks
        if method in {"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"}:
            problems = check_blocks(blocks or [])
            if len(str(args.get("text", ""))) > MAX_MESSAGE_TEXT:
                problems.append(f"text > {MAX_MESSAGE_TEXT}")
            if not blocks and not args.get("text"):
                problems.append("no text and no blocks")
            if problems:
                self.violations += [f"{method}: {p}" for p in problems]
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        if method in {"views.publish", "views.open"}:
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view or {}
            args["view"] = view
            problems = check_view(view)
            if method == "views.open" and not args.get("trigger_id"):
                problems.append("views.open needs the click's trigger_id")
            if problems:
                self.violations += [f"{method}: {p}" for p in problems]
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return self._result(method, args)

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "C0")
        if method == "auth.test":
            return {"ok": True, "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID,
                    "team_id": self.TEAM_ID, "user": "banso", "team": "Test",
                    "url": "https://test.slack.com/"}
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {"ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", []),
                       "thread_ts": args.get("thread_ts"), "bot_id": self.BOT_ID}
            metadata = args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if metadata:
                message["metadata"] = metadata
            self.messages.setdefault(str(channel), []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            top = [m for m in self.messages.get(str(channel), [])
                   if m.get("thread_ts") in (None, m["ts"])]
            return self._page(top, args)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {"ok": True, "channel": channel,
                    "permalink": f"https://test.slack.com/archives/{channel}/p{ts}"}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(str(args.get("usergroup")), [])}
        if method == "conversations.replies":
            key = (str(channel), str(args.get("ts")))
            if key in self.threads:
                return {"ok": True, "messages": self.threads[key], "has_more": False}
            thread = [m for m in self.messages.get(str(channel), [])
                      if m["ts"] == key[1] or m.get("thread_ts") == key[1]]
            return self._page(thread, args, newest_first=False)
        if method == "users.info":
            user = str(args.get("user"))
            emails = [e for e, member in self.members_by_email.items() if member == user]
            return {"ok": True, "user": {"id": user, "name": user.lower(), "tz": "Asia/Tokyo",
                                         "real_name": f"User {user}", "locale": "ja-JP",
                                         "profile": {"email": emails[0]} if emails else {}}}
        if method == "users.lookupByEmail":
            email = str(args.get("email", "")).lower()
            if email not in self.members_by_email:
                return {"ok": False, "error": "users_not_found"}
            member = self.members_by_email[email]
            return {"ok": True, "user": {"id": member, "name": member.lower(),
                                         "profile": {"email": email}}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):05d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")}
                                          for f in files]}
        if method in {"reactions.add", "reactions.remove", "views.publish", "views.open",
                      "assistant.threads.setStatus", "response_url", "conversations.join"}:
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _page(messages: list[dict[str, Any]], args: dict[str, Any],
              newest_first: bool = True) -> dict[str, Any]:
        """One page of a history read: the `oldest`/`latest` window, `limit` and a cursor."""
        inclusive = str(args.get("inclusive", "")).lower() in {"1", "true"}
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or 1e12)

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        chosen = [m for m in messages if within(float(m["ts"]))]
        chosen.sort(key=lambda m: float(m["ts"]), reverse=newest_first)
        if str(args.get("include_all_metadata", "")).lower() not in {"1", "true"}:
            chosen = [{k: v for k, v in m.items() if k != "metadata"} for m in chosen]
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page, more = chosen[start:start + limit], start + limit < len(chosen)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _record(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any], float]:
        """(status, headers, body, seconds to wait before answering) of one call."""
        with self._lock:
            failures = self._failures.get(method)
            if failures:
                status, retry_after, posted = failures.pop(0)
                if posted:
                    self._answer(method, args)
                self.calls.append(Call(method, args, headers))
                self._lock.notify_all()
                error = "ratelimited" if status == 429 else "internal_error"
                return status, {"Retry-After": str(retry_after)}, {"ok": False,
                                                                   "error": error}, 0.0
            body = self._answer(method, args)
            if body.get("ok"):
                self.calls.append(Call(method, args, headers))
            delays = self._delays.get(method)
            delay = delays.pop(0) if delays else 0.0
            self._lock.notify_all()
            return 200, {}, body, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def _reply(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                args = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                self._dispatch(parsed.path, args)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parsed = urlparse(self.path)
                if parsed.path.startswith("/upload/"):
                    stub.uploads[parsed.path.rsplit("/", 1)[-1]] = raw
                    self._reply(200, {}, {"ok": True})
                    return
                args = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype and raw:
                    args.update(json.loads(raw))
                elif raw:
                    args.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                self._dispatch(parsed.path, args)

            def _dispatch(self, path: str, args: dict[str, Any]) -> None:
                if path.startswith("/response/"):
                    method = "response_url"
                else:
                    method = path.rsplit("/", 1)[-1]
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply_headers, body, delay = stub._record(method, args, headers)
                if delay:
                    stub._hold(delay)  # the call took effect; only the answer is late
                # A client that gave up waiting (its timeout) has closed the connection.
                with contextlib.suppress(OSError):
                    self._reply(status, reply_headers, body)

        return Handler


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request: X-Slack-Signature over `v0:{ts}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
