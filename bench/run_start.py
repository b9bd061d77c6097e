"""How long `bash scripts/run.sh` takes until /healthz answers, first and second start.

The first start installs what changed (scripts/setup.sh); the second finds the stamp in .venv
and skips installation, so it costs only the server's own start (migrations, index load).
Loopback only; each start is stopped with SIGTERM once it answers. Usage:

    .venv/bin/python bench/run_start.py [--starts 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_start() -> float:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(["bash", "scripts/run.sh", "--port", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while time.monotonic() - started < LIMIT_SECONDS:
            if proc.poll() is not None:
                raise RuntimeError(f"run.sh exited with {proc.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"no /healthz within {LIMIT_SECONDS} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=2)
    args = parser.parse_args()
    for number in range(1, args.starts + 1):
        print(f"start {number}: {one_start():.1f} s to /healthz", flush=True)


if __name__ == "__main__":
    main()
