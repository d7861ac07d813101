"""Real gunicorn deployments for tests that need more than one process: started from this venv, waited for
until they answer, stopped (quickly: the workers are idle by then) whatever the test did."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workdir: Path, workers: int, *, ready: str = "/healthz",
             extra: tuple[str, ...] = ()) -> Iterator[str]:
    """`gunicorn -w WORKERS 'web:create_app()'` with `env`; yields its base URL once `ready` answers.
    Its stderr is kept in WORKDIR/gunicorn.err and shown when it stops or never answers."""
    port = free_port()
    err_path = workdir / "gunicorn.err"
    errors = err_path.open("w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers),
                               "-b", f"127.0.0.1:{port}", *extra, "web:create_app()"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail("gunicorn stopped: " + err_path.read_text()[-3000:])
            try:
                urllib.request.urlopen(url + ready, timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer within 90 s: " + err_path.read_text()[-3000:])
                time.sleep(0.3)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        errors.close()
