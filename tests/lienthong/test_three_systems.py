"""Three motcua systems as separate processes (`motcua serve`, scheduler in-process), each on its own
database — the commune A on PostgreSQL, the police B and the paying agency C on SQLite files — plus a stand-in
for the national portal (an HTTP receiver in this test). A khai tử case received at A reaches B and C, their
officials complete their steps through the API, the results come back to A and A returns the case. B is
killed while A is sending and started again: nothing is lost, nothing arrives twice. The portal stand-in
gets every status of every case of every system once and in order."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from engine import control_slip, org, partners
from engine.db import Database
from engine.models import Case, InboxMessage, OutboxMessage

MOTCUA = str(Path(sys.executable).parent / "motcua")
CODES = {"A": "UBND-XA-A1", "B": "CONG-AN", "C": "BHXH", "P": "DVCQG"}
USERS = ("xa_a1_clerk", "xa_a1_specialist", "xa_a1_leader")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal(BaseHTTPRequestHandler):
    """The national portal stand-in: verifies each sender's signature and records the statuses."""

    received: list[dict] = []
    keys: dict[str, str] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        sender = self.headers.get("webhook-sender", "")
        try:
            body = Webhook(self.keys[sender]).verify(raw, dict(self.headers))
        except Exception:  # noqa: BLE001 — a stand-in answers 401 to anything unsigned
            self.send_response(401)
            self.end_headers()
            return
        with self.lock:
            self.received.append(body)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"accepted"}')

    def log_message(self, *args: Any) -> None:
        pass


class System:
    def __init__(self, name: str, db: Database, tmp: Path) -> None:
        self.name, self.db, self.path = name, db, tmp / name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.identity = partners.ensure_identity(self.path, CODES[name])
        with db.transaction() as s:
            self.tokens = {u: org.issue_token(s, org.user_by_username(s, u)) for u in USERS}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "MOTCUA_DATABASE_URL": self.db.url, "MOTCUA_INSTANCE_PATH": str(self.path),
               "MOTCUA_AGENCY_CODE": CODES[self.name], "MOTCUA_SWEEP_SECONDS": "0.3",
               "MOTCUA_LIENTHONG_BACKOFF_SECONDS": "0.5"}
        log = open(self.path / "serve.log", "a")  # noqa: SIM115 — closed with the process
        self.proc = subprocess.Popen([MOTCUA, "serve", "--port", str(self.port)], env=env, stdout=log, stderr=log)
        _until(lambda: _healthy(self.url), 30, f"{self.name} did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def call(self, method: str, path: str, user: str, body: Any = None) -> Any:
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {self.tokens[user]}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{self.name} {method} {path}: {e.code} {e.read()!r}") from e

    def tasks(self, code: str) -> list[dict]:
        return self.call("GET", f"/api/v1/cases/{code}", "xa_a1_clerk")["tasks"]

    def complete(self, code: str, user: str, data: dict) -> None:
        tasks = self.tasks(code)
        assert len(tasks) == 1, tasks
        self.call("POST", f"/api/v1/tasks/{tasks[0]['id']}/complete", user, {"data": data})

    def cases(self) -> list[str]:
        with self.db.transaction() as s:
            return list(s.scalars(select(Case.code).order_by(Case.id)))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def _until(check: Any, seconds: float, what: str) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(what)


@pytest.fixture
def systems(db: Database, tmp_path: Path, sqlite_template: Path):
    portal = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    Portal.received = []
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    dbs = {"A": db}
    for name in ("B", "C"):
        shutil.copy(sqlite_template, tmp_path / f"{name}.db")
        dbs[name] = Database(f"sqlite:///{tmp_path / name}.db")
    sys_ = {n: System(n, d, tmp_path) for n, d in dbs.items()}
    Portal.keys = {CODES[n]: s.identity.secret for n, s in sys_.items()}
    links = {"A": ("B", "C"), "B": ("A",), "C": ("A",)}
    portal_key = partners.new_secret()  # the portal's own key (it sends nothing in this test)
    for me, others in links.items():
        with dbs[me].transaction() as s:
            for o in others:
                partners.add_partner(s, CODES[o], f"Hệ thống {o}", sys_[o].url, "system", sys_[o].identity.secret,
                                     unit_code="XA_A1" if o == "A" else None)
            partners.add_partner(s, CODES["P"], "Cổng DVC quốc gia (giả lập)", f"http://127.0.0.1:{portal.server_port}",
                                 "portal", portal_key)
    for s in sys_.values():
        s.start()
    yield sys_
    for s in sys_.values():  # all at once: each takes a few seconds to stop its scheduler
        s.terminate()
    for s in sys_.values():
        s.stop()
    portal.shutdown()
    for name in ("B", "C"):
        dbs[name].dispose()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_khai_tu_across_three_processes_with_a_crash_and_a_portal(systems):
    a, b, c = systems["A"], systems["B"], systems["C"]
    started = time.monotonic()
    code = a.call("POST", "/api/v1/cases", "xa_a1_clerk", {
        "procedure": "lien_thong_khai_tu", "applicant": {"name": "Trần Thị Hoa", "id_number": "036080002222"},
        "data": {"co_quan_cong_an": "CONG-AN", "co_quan_chi_tra": "BHXH", "ho_ten_nguoi_chet": "Trần Văn Bình",
                 "so_dinh_danh_nguoi_chet": "036050001111", "ngay_chet": "2026-11-28", "thu_tuc": ["khai_tu"]}})["code"]

    b.kill()  # the police system goes down just before the commune sends
    a.complete(code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "15/2026/TLKT"})
    c_code = _until(lambda: c.cases() and c.cases()[0], 20, "C never got the case")

    def attempts_to_b() -> int:
        with a.db.transaction() as s:
            return s.scalar(select(OutboxMessage.attempts).where(OutboxMessage.partner_code == "CONG-AN")) or 0
    _until(lambda: attempts_to_b() >= 2, 20, "A did not retry B")  # it kept trying while B was down
    b.start()
    b_code = _until(lambda: b.cases() and b.cases()[0], 30, "B never got the case after its restart")

    b.complete(b_code, "xa_a1_specialist", {"ket_qua": "Đã xóa đăng ký thường trú"})
    c.complete(c_code, "xa_a1_specialist", {"ket_qua": "Đủ điều kiện", "so_tien": 36000000})
    c.complete(c_code, "xa_a1_leader", {"ket_qua": "Đã chi trả", "so_tien": 36000000})
    _until(lambda: [t["name"] for t in a.tasks(code)] == ["Trả toàn bộ kết quả cho người nộp"], 30,
           "the results did not come back to A")
    a.complete(code, "xa_a1_clerk", {})
    assert a.call("GET", f"/api/v1/cases/{code}", "xa_a1_clerk")["status_code"] == 10

    # nothing lost, nothing twice
    assert len(b.cases()) == 1 and len(c.cases()) == 1
    for sysm in (b, c):
        with sysm.db.transaction() as s:
            assert s.scalar(select(func.count()).select_from(InboxMessage)) == 1
    # each system's Phiếu kiểm soát shows the handovers to and from its partners
    for sysm, case_code, partner in ((a, code, "CONG-AN"), (a, code, "BHXH"), (b, b_code, "UBND-XA-A1"),
                                     (c, c_code, "UBND-XA-A1")):
        with sysm.db.transaction() as s:
            rows = control_slip.control_rows(s, s.scalar(select(Case).where(Case.code == case_code)))
        assert any(f"({partner})" in r.receiver and r.done_at for r in rows), (sysm.name, partner)
        assert any(f"({partner})" in r.giver for r in rows), (sysm.name, partner)

    # the portal got every status of every case once, in order (each change continues the previous one)
    # (the demo organisations share agency codes, so a case is known by its system and its code)
    expected = {}
    for sysm in (a, b, c):
        for case_code in sysm.cases():
            status = sysm.call("GET", f"/api/v1/cases/{case_code}", "xa_a1_clerk")["status_code"]
            expected[(CODES[sysm.name], case_code)] = status

    def portal_done() -> bool:
        with Portal.lock:
            last = {}
            for m in Portal.received:
                last[(m["sender"], m["case"]["code"])] = m["status"]["to"]
        return last == expected
    _until(portal_done, 20, f"portal saw {[(m['case']['code'], m['status']) for m in Portal.received]}")
    with Portal.lock:
        got = list(Portal.received)
    assert len({m["id"] for m in got}) == len(got)  # once
    for key, final in expected.items():
        chain = [m["status"] for m in got if (m["sender"], m["case"]["code"]) == key]
        assert chain[0] == {**chain[0], "from": None, "to": 2}  # from its reception
        assert all(prev["to"] == nxt["from"] for prev, nxt in zip(chain, chain[1:], strict=False)), chain
        assert chain[-1]["to"] == final
    sample = next(m for m in got if m["sender"] == "UBND-XA-A1" and m["status"]["to"] == 10)
    assert sample["dvcqg"]["DongBoHoSoMC"]["MaTTHC"] == "1.006714"
    assert sample["dvcqg"]["CapNhatTienDoHoSoMC"]["TrangThai"] == "10"
    # over the wire too: a wrong signature, an unknown partner and a replayed message are refused by B
    def post_to_b(ident: partners.Identity, at: Any = None) -> int:
        text, headers = partners.signed_request(ident, partners.new_message_id(), {"message": "ping"}, now=at)
        req = urllib.request.Request(b.url + "/api/v1/lienthong/messages", data=text.encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
    from datetime import timedelta

    from engine.models import utcnow
    assert post_to_b(partners.Identity("UBND-XA-A1", partners.new_secret())) == 401
    assert post_to_b(partners.Identity("KHONG-RO", partners.new_secret())) == 401
    assert post_to_b(a.identity, utcnow() - timedelta(minutes=6)) == 401
    assert post_to_b(a.identity) == 200
    assert time.monotonic() - started < 90
