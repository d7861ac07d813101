"""/admin/lienthong: an administrator sees the identity, adds a partner (a bad one is refused naming its
fields), sees a message given up on and sends it again; officials are turned away."""

from __future__ import annotations

from sqlalchemy import select

from engine import lienthong_outbox, partners
from engine.models import OutboxMessage
from tests.helpers import Browser, text  # noqa: F401 — the shared page client


def test_admin_adds_a_partner_and_retries_a_message(db, tmp_path):
    web = Browser(db, tmp_path)
    partners.ensure_identity(tmp_path / "instance", "UBND-XA-A1")
    web.login("xa_a1_clerk")
    assert web.get("/admin/lienthong").status_code == 403
    web.login("admin")
    page = text(web.get("/admin/lienthong"))
    assert "UBND-XA-A1" in page and 'id="no-partners"' in page
    bad = web.post("/admin/lienthong/partners", {"code": "CONG AN", "name": "Công an", "url": "cutru",
                                                 "kind": "system", "key": "abc"})
    assert bad.status_code == 422
    assert all(f'data-field="{f}"' in text(bad) for f in ("code", "url", "key"))
    ok = web.post("/admin/lienthong/partners", {"code": "CONG-AN", "name": "Công an huyện", "kind": "system",
                                                "url": "https://cutru.example.vn", "key": partners.new_secret()})
    assert ok.status_code == 302
    assert 'data-code="CONG-AN"' in text(web.get("/admin/lienthong"))

    with db.transaction() as s:
        row = lienthong_outbox.enqueue(s, "CONG-AN", "ping", {"kind": "ping"})
        s.flush()
        row.state, row.attempts, row.last_error = "incident", 8, "HTTP 503"
        outbox_id = row.id
    page = text(web.get("/admin/lienthong"))
    assert f'data-id="{outbox_id}"' in page and "HTTP 503" in page
    assert web.post(f"/admin/lienthong/outbox/{outbox_id}/retry").status_code == 302
    with db.transaction() as s:
        assert s.scalar(select(OutboxMessage.state).where(OutboxMessage.id == outbox_id)) == "pending"
    web.post("/lang/en", {"next": "/admin/lienthong"})
    assert "Partner systems" in text(web.get("/admin/lienthong"))
