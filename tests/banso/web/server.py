"""Run `banso serve` as a real subprocess on a free loopback port (shared by the web tests)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BANSO = Path(sys.executable).with_name("banso")
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    lines: list[dict[str, Any]] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._queue.put(raw)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = STARTUP_SECONDS) -> dict[str, Any]:
        """Read log lines until one's message contains `text` (blocks on the pipe, no polling)."""
        while True:
            raw = self._queue.get(timeout=timeout)
            if raw is None:
                raise AssertionError(f"server exited before logging {text!r}: {self.lines[-5:]}")
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                line = {"msg": raw.rstrip(), "level": "RAW"}
            self.lines.append(line)
            if text in str(line.get("msg")):
                return line

    def drain(self) -> None:
        while True:
            raw = self._queue.get(timeout=30)
            if raw is None:
                return
            try:
                self.lines.append(json.loads(raw))
            except json.JSONDecodeError:
                self.lines.append({"msg": raw.rstrip(), "level": "RAW"})

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.drain()
        return code

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30)


def start_server(env_overrides: dict[str, str], *args: str) -> ServerProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANSO_", "SLACK_"))}
    env.update({"BANSO_LOG_FORMAT": "json", "OMP_WAIT_POLICY": "PASSIVE", **env_overrides})
    proc = subprocess.Popen(
        [str(BANSO), "serve", "--port", str(port), *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    server = ServerProcess(proc, port)
    threading.Thread(target=server._pump, daemon=True).start()
    try:
        server.wait_for("Uvicorn running on")
    except BaseException:
        proc.kill()
        raise
    return server
