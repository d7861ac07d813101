"""The wheel runs where an operator installs it. Build it from a copy of the sources (with the browser bundles
and compiled translations `make assets` made), install it into a fresh virtualenv outside the checkout, and
run the production recipe from a folder outside the checkout: `motcua init --demo` on a fresh PostgreSQL
database, `gunicorn -w 2 'web:create_app()'` and `motcua scheduler`. Then what a desk and a monitor see: the
login page (in English too), the bundles, a reception through the API, its Mẫu 01 PDF, /readyz with the
scheduler holding the lease, and /metrics adding up both workers.

Speed: the new virtualenv reuses the test virtualenv's dependencies through a .pth file instead of
downloading them, so a dependency used by the code but missing from setup.cfg would not be caught here."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL
from tests.helpers import csrf_token

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[1]
# What the wheel is built from: the sources as committed plus the generated assets, nothing else.
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "*.egg-info", "instance", "tests",
                                  "docs", "bench", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache")


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout}\n{done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv outside the checkout with only the wheel installed from our sources."""
    if not (REPO / "web" / "static" / "dist" / "app.js").exists() or not list(REPO.glob("web/translations/*/*/*/*.mo")):
        pytest.fail("the wheel needs the browser bundles and compiled translations: run `make assets` first")
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv = root / "src", root / "dist", root / "venv"
    shutil.copytree(REPO, src, symlinks=True, ignore=LEFT_OUT)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)])
    (wheel,) = dist.glob("motcua-*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "motcua-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the reused site-packages holds the checkout's editable motcua; the wheel must win.
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
         "--ignore-installed", str(wheel)])
    return venv


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    name = f"motcua_wheel_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg", "") + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="module")
def deployment(installed: Path, pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`motcua init --demo`, gunicorn with two workers and the scheduler, all run from outside the checkout."""
    here = tmp_path_factory.mktemp("srv")
    (here / "prometheus").mkdir()
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(here), "LANG": "C.UTF-8",
           "MOTCUA_DATABASE_URL": pg_database, "MOTCUA_INSTANCE_PATH": str(here / "instance"),
           "MOTCUA_SECRET_KEY": uuid.uuid4().hex, "MOTCUA_SWEEP_SECONDS": "0.5", "MOTCUA_LEASE_SECONDS": "5",
           "PROMETHEUS_MULTIPROC_DIR": str(here / "prometheus")}
    bin_ = installed / "bin"
    where = run([str(bin_ / "python"), "-c", "import engine, web; print(engine.__file__, web.__file__)"],
                env=env, cwd=here).stdout
    assert str(REPO) not in where and all(p.startswith(str(installed)) for p in where.split())
    init = run([str(bin_ / "motcua"), "init", "--demo"], env=env, cwd=here).stdout
    assert "ncc_mai_tang: deployed version 1" in init
    port = free_port()
    logs = {name: open(here / f"{name}.log", "w+") for name in ("web", "scheduler")}  # noqa: SIM115
    procs = [
        subprocess.Popen([str(bin_ / "python"), "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                          "web:create_app()"], env=env, cwd=here, stdout=logs["web"], stderr=logs["web"]),
        subprocess.Popen([str(bin_ / "motcua"), "scheduler", "--holder", "wheel-node"], env=env, cwd=here,
                         stdout=logs["scheduler"], stderr=logs["scheduler"]),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # workers still importing
                pass
            assert all(p.poll() is None for p in procs), (here / "web.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
            time.sleep(0.2)
        yield {"base": base, "env": env, "bin": bin_, "cwd": here, "logs": logs}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for fh in logs.values():
            fh.close()


def login(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=10)
    token = csrf_token(form.text)
    resp = browser.post(f"{base}/login", data={"csrf_token": token, "username": username, "password": "motcua2026"},
                        timeout=10, allow_redirects=False)
    assert resp.status_code == 302, resp.text[:500]
    return browser


def test_installed_wheel_serves_the_desk_the_api_the_slips_and_the_probes(deployment: dict) -> None:
    base = deployment["base"]
    page = requests.get(f"{base}/login", timeout=10)
    assert page.status_code == 200 and "Đăng nhập" in page.text
    bundle = requests.get(f"{base}/static/dist/modeler.js", timeout=10)  # bpmn-js, built by `make assets`
    assert bundle.status_code == 200 and bundle.content == (REPO / "web/static/dist/modeler.js").read_bytes()
    english = requests.Session()
    token = csrf_token(english.get(f"{base}/login", timeout=10).text)
    english.post(f"{base}/lang/en", data={"csrf_token": token}, timeout=10)  # a POST form, as in the header
    assert "Log in" in english.get(f"{base}/login", timeout=10).text  # the compiled catalogs shipped

    token = run([str(deployment["bin"] / "motcua"), "user", "token", "xa_a1_clerk"], env=deployment["env"],
                cwd=deployment["cwd"]).stdout.strip()
    resp = requests.post(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {token}",
                                                           "X-Request-Id": "wheel-smoke-1"}, timeout=30,
                         json={"procedure": "ncc_mai_tang", "channel": "desk",
                               "applicant": {"name": "Nguyễn Văn An", "id_number": "036090001234",
                                             "address": "Thôn 1, xã An Phú"}})
    assert resp.status_code == 201, resp.text
    assert resp.headers["X-Request-Id"] == "wheel-smoke-1"
    code = resp.json()["code"]

    pdf = login(base, "xa_a1_clerk").get(f"{base}/cases/{code}/slips/01.pdf", timeout=60)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert code in words and "Nguyễn Văn An" in words

    deadline = time.monotonic() + 15
    while True:  # the scheduler takes the lease at its first tick
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        if body["scheduler"]["active"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert body["ready"] and body["schema"]["at_head"] and body["database"]["backend"] == "postgresql"
    assert body["scheduler"]["holder"] == "wheel-node" and body["scheduler"]["active"], body

    metrics = requests.get(f"{base}/metrics", timeout=10).text
    assert 'motcua_receptions_total{channel="desk"} 1.0' in metrics
    assert re.search(r'motcua_sweep_duration_seconds_count [1-9]', metrics), "the scheduler's sweeps are missing"
    # The step the reception opened was announced to its officials; with no SMTP configured here their
    # e-mails wait in the outbox, and the gauge says so.
    assert re.search(r"motcua_outbox_backlog [1-9]", metrics), "the new step's notices are not in the outbox"
    lines = [json.loads(line) for line in (deployment["cwd"] / "web.log").read_text().splitlines()
             if line.startswith("{")]  # gunicorn's own lines are plain text
    (mine,) = [x for x in lines if x.get("request_id") == "wheel-smoke-1"]
    assert (mine["user"], mine["method"], mine["path"], mine["status"]) == ("xa_a1_clerk", "POST", "/api/v1/cases", 201)
