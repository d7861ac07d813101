"""Checking a PDF's signature (/xac-thuc and POST /api/v1/public/verify) is anonymous and costs CPU, so each
address has one allowance for both, counted in the Redis every worker shares; when it is used up both answer
429 in Vietnamese, saying what was stopped and when to come back, and other addresses are not affected."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from limits.storage import storage_from_string

from engine.config import load_settings
from engine.db import Database
from tests.helpers import csrf_token
from tests.security.conftest import REDIS_URL
from web import create_app

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def prefix() -> Iterator[str]:
    """This test's own keys in the shared Redis, removed afterwards."""
    name = f"motcua-test-verify-{uuid.uuid4().hex[:12]}"
    store = storage_from_string(REDIS_URL, key_prefix=name)
    if not store.check():
        pytest.fail(f"Redis is required for the shared allowance ({REDIS_URL}); set MOTCUA_TEST_REDIS")
    yield name
    store.reset()


def _workers(db: Database, tmp_path: Path, prefix: str, n: int = 2) -> list[Any]:
    """Two apps on one Redis, as two gunicorn workers would be."""
    return [create_app(load_settings(database_url=db.url, instance_path=tmp_path / f"instance{i}",
                                     ratelimit_storage=REDIS_URL, ratelimit_prefix=prefix, verify_limit="3/minute"),
                       database=db) for i in range(n)]


def _client(app: Any, address: str = "192.0.2.20") -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _page(client: Any) -> Any:
    token = csrf_token(client.get("/xac-thuc").get_data(as_text=True))
    return client.post("/xac-thuc", data={"csrf_token": token, "file": (io.BytesIO(PDF), "quyet-dinh.pdf")},
                       content_type="multipart/form-data")


def test_signature_checks_share_one_allowance_and_the_429_says_so_in_vietnamese(db: Database, tmp_path: Path,
                                                                               prefix: str) -> None:
    one, two = _workers(db, tmp_path, prefix)
    me_at_one, me_at_two = _client(one), _client(two)
    # Three checks, whichever worker answers and whichever way: each is answered (an unsigned PDF says so).
    assert me_at_one.post("/api/v1/public/verify", data=PDF, content_type="application/pdf").get_json()["signed"] \
        is False
    assert _page(me_at_two).status_code == 200
    assert me_at_two.post("/api/v1/public/verify", data=PDF, content_type="application/pdf").status_code == 200

    api = me_at_one.post("/api/v1/public/verify", data=PDF, content_type="application/pdf")
    assert api.status_code == 429 and api.get_json()["error"] == "too_many_requests"
    message = api.get_json()["message"]
    assert message.startswith("Kiểm tra chữ ký số tạm dừng") and "3 tệp mỗi phút" in message
    assert 0 < int(api.headers["Retry-After"]) <= 60
    assert re.search(r"thử lại sau \d+ giây", message)

    page = _page(me_at_two)
    html = page.get_data(as_text=True)
    assert page.status_code == 429 and "Kiểm tra chữ ký số tạm dừng" in html and int(page.headers["Retry-After"]) > 0
    assert 'id="verdict"' not in html and 'id="verify-file"' in html  # the form is there to try again later
    # The empty form costs nothing, and another address has its own allowance.
    assert me_at_one.get("/xac-thuc").status_code == 200
    other = _client(one, "198.51.100.30")
    assert other.post("/api/v1/public/verify", data=PDF, content_type="application/pdf").status_code == 200


def test_after_choosing_english_the_same_refusal_reads_in_english(db: Database, tmp_path: Path, prefix: str) -> None:
    (app,) = _workers(db, tmp_path, prefix, n=1)
    client = _client(app)
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get("/xac-thuc").get_data(as_text=True))})
    for _ in range(3):
        client.post("/api/v1/public/verify", data=PDF, content_type="application/pdf")
    refused = client.post("/api/v1/public/verify", data=PDF, content_type="application/pdf")
    assert refused.status_code == 429
    assert refused.get_json()["message"].startswith("Signature checks paused") and "3 files per minute" in \
        refused.get_json()["message"]
