"""The khai tử group across three systems, each a real motcua app on its own database: the commune (A, the
test's backend), the police (B) and the paying agency (C). The diagrams say who talks to whom; messages go
through the outbox, signed, to the other app's inbound endpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import control_slip, lienthong_outbox, partners
from engine.config import load_settings
from engine.db import Database
from engine.models import Case, InboxMessage, OutboxMessage, WorkItem
from tests.api_client import Api

DECEASED = {"co_quan_cong_an": "CONG-AN", "co_quan_chi_tra": "BHXH", "ho_ten_nguoi_chet": "Trần Văn Bình",
            "so_dinh_danh_nguoi_chet": "036050001111", "ngay_chet": "2026-11-28",
            "thu_tuc": ["khai_tu", "xoa_thuong_tru", "mai_tang_phi"]}


class Network:
    def __init__(self, tmp_path: Path, a_db: Database, template: Path) -> None:
        self.dbs = {"A": a_db}
        self.tmp = tmp_path
        for name in ("B", "C"):
            shutil.copy(template, tmp_path / f"{name}.db")
            self.dbs[name] = Database(f"sqlite:///{tmp_path / name}.db")
        self.codes = {"A": "UBND-XA-A1", "B": "CONG-AN", "C": "BHXH"}
        self.ids = {n: partners.ensure_identity(tmp_path / n, c) for n, c in self.codes.items()}
        self.apis = {n: Api(d, tmp_path / n) for n, d in self.dbs.items()}
        self.urls = {n: f"http://{n.lower()}.test" for n in self.dbs}
        links = {"A": ("B", "C"), "B": ("A",), "C": ("A",)}
        for me, others in links.items():
            with self.dbs[me].transaction() as s:
                for o in others:
                    partners.add_partner(s, self.codes[o], f"Hệ thống {o}", self.urls[o], "system",
                                         self.ids[o].secret, unit_code="XA_A1" if o == "A" else None)

    def post(self, url: str, text: str, headers: dict) -> int:
        target = next(n for n, u in self.urls.items() if url.startswith(u))
        return self.apis[target].client.post("/api/v1/lienthong/messages", data=text, headers=headers).status_code

    def dispatch(self, name: str) -> lienthong_outbox.DispatchReport:
        settings = load_settings(database_url=self.dbs[name].url, instance_path=self.tmp / name / "instance")
        return lienthong_outbox.dispatch(self.dbs[name], settings, self.ids[name], post=self.post)

    def linked_case(self, name: str) -> str:
        with self.dbs[name].transaction() as s:
            return s.scalars(select(Case.code).order_by(Case.id.desc())).first()

    def complete(self, name: str, code: str, user: str, data: dict) -> dict:
        api = self.apis[name]
        tasks = api.get(f"/api/v1/cases/{code}", user=user).json["tasks"]
        assert len(tasks) == 1, tasks
        resp = api.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", user=user, json={"data": data})
        assert resp.status_code == 200, resp.json
        return resp.json

    def dispose(self) -> None:
        for n in ("B", "C"):
            self.dbs[n].dispose()


@pytest.fixture
def net(db: Database, tmp_path: Path, sqlite_template: Path):
    n = Network(tmp_path, db, sqlite_template)
    yield n
    n.dispose()


def _receive(net: Network, data: dict) -> str:
    resp = net.apis["A"].post("/api/v1/cases", user="xa_a1_clerk", json={
        "procedure": "lien_thong_khai_tu", "applicant": {"name": "Trần Thị Hoa", "id_number": "036080002222"},
        "data": data})
    assert resp.status_code == 201, resp.json
    return resp.json["code"]


def test_a_khai_tu_case_reaches_police_and_paying_agency_and_comes_back(net):
    code = _receive(net, DECEASED)
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "15/2026/TLKT"})
    with net.dbs["A"].transaction() as s:
        queued = [(m.partner_code, m.message) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert queued == [("CONG-AN", "khai_tu_xoa_thuong_tru"), ("BHXH", "khai_tu_tro_cap_mai_tang")]
    assert len(net.dispatch("A").delivered) == 2

    b_code, c_code = net.linked_case("B"), net.linked_case("C")
    b_case = net.apis["B"].get(f"/api/v1/cases/{b_code}", user="xa_a1_specialist").json
    assert b_case["procedure"] == "xoa_thuong_tru_lien_thong" and b_case["data"]["origin_case_code"] == code
    assert b_case["data"]["so_trich_luc_khai_tu"] == "15/2026/TLKT"  # send_fields arrived as the case's data
    assert "co_quan_chi_tra" not in b_case["data"]  # what is not listed in send_fields stays home

    net.complete("B", b_code, "xa_a1_specialist", {"ket_qua": "Đã xóa đăng ký thường trú", "ghi_chu": "OK"})
    assert net.dispatch("B").delivered
    net.complete("C", c_code, "xa_a1_specialist", {"ket_qua": "Đủ điều kiện", "so_tien": 36000000})
    net.complete("C", c_code, "xa_a1_leader", {"ket_qua": "Đã chi trả", "so_tien": 36000000})
    assert net.dispatch("C").delivered

    a_case = net.apis["A"].get(f"/api/v1/cases/{code}", user="xa_a1_clerk").json
    assert [t["name"] for t in a_case["tasks"]] == ["Trả toàn bộ kết quả cho người nộp"]
    assert a_case["data"]["ket_qua_xoa_thuong_tru"]["ket_qua"] == "Đã xóa đăng ký thường trú"
    assert a_case["data"]["ket_qua_tro_cap_mai_tang"]["so_tien"] == 36000000
    net.complete("A", code, "xa_a1_clerk", {})
    a_case = net.apis["A"].get(f"/api/v1/cases/{code}", user="xa_a1_clerk").json
    assert a_case["status_code"] == 10 and a_case["result"] == "approved"

    with net.dbs["A"].transaction() as s:
        rows = control_slip.control_rows(s, s.scalar(select(Case).where(Case.code == code)))
    to_partners = [r for r in rows if r.receiver.startswith("Hệ thống liên thông")]
    from_partners = [r for r in rows if r.giver.startswith("Hệ thống liên thông")]
    assert {r.receiver.split("(")[-1] for r in to_partners} == {"CONG-AN)", "BHXH)"}
    assert all(r.done_at is not None and "xác nhận" in r.note for r in to_partners)
    assert {r.step for r in from_partners} == {"ket_qua_xoa_thuong_tru", "ket_qua_tro_cap_mai_tang"}
    for other, case_code in (("B", b_code), ("C", c_code)):
        with net.dbs[other].transaction() as s:
            rows = control_slip.control_rows(s, s.scalar(select(Case).where(Case.code == case_code)))
        assert any("UBND-XA-A1" in r.giver and r.step.startswith("khai_tu_") for r in rows)  # from the commune
        assert any("UBND-XA-A1" in r.receiver and r.done_at for r in rows)


def test_two_procedures_only_go_to_the_police(net):
    code = _receive(net, {**DECEASED, "co_quan_chi_tra": "", "thu_tuc": ["khai_tu", "xoa_thuong_tru"]})
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "16/2026/TLKT"})
    assert [m for m in net.dispatch("A").delivered]
    with net.dbs["C"].transaction() as s:
        assert s.scalar(select(InboxMessage)) is None
    net.complete("B", net.linked_case("B"), "xa_a1_specialist", {"ket_qua": "Đã xóa"})
    net.dispatch("B")
    with net.dbs["A"].transaction() as s:
        items = s.scalars(select(WorkItem).join(Case).where(Case.code == code, WorkItem.state == "open")).all()
        assert [i.task_bpmn_id for i in items] == ["tra_ket_qua"]


def test_deploy_refuses_an_unknown_partner_and_a_missing_message_name(api):
    xml = Path("bpmn/xoa_thuong_tru_lien_thong.bpmn").read_text()
    unknown = xml.replace('value="=origin_system"', 'value="KHONG-CO"')
    # validation is offline (no partner table); deploying needs the partner registered
    from engine import deploy
    from engine.errors import Invalid

    with api.db.transaction() as s, pytest.raises(Invalid) as e:
        deploy.deploy(s, unknown.encode(), "x.bpmn", forms={}, procedure_code="xoa_thuong_tru_lien_thong")
    assert e.value.details["problems"][0]["element_id"] == "gui_ket_qua"
    assert "KHONG-CO" in e.value.details["problems"][0]["message"]
    nameless = xml.replace('name="message" value="ket_qua_xoa_thuong_tru"', 'name="message" value=""')
    v = deploy.validate(nameless.encode(), "x.bpmn", levels={"commune"}, roles={"specialist"}, forms={})
    assert [p.element_id for p in v.problems] == ["gui_ket_qua"] and "message" in v.problems[0].message


def test_the_same_dossier_resent_under_a_new_id_creates_no_second_case(net):
    code = _receive(net, {**DECEASED, "co_quan_chi_tra": ""})
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "17/2026/TLKT"})
    with net.dbs["A"].transaction() as s:
        body = s.scalar(select(OutboxMessage.body).where(OutboxMessage.partner_code == "CONG-AN"))
    net.dispatch("A")
    again, headers = partners.signed_request(net.ids["A"], partners.new_message_id(), body)
    resp = net.apis["B"].client.post("/api/v1/lienthong/messages", data=again, headers=headers)
    assert resp.status_code == 200 and resp.json["status"] == "accepted"
    with net.dbs["B"].transaction() as s:
        assert len(s.scalars(select(Case)).all()) == 1
    broken, headers = partners.signed_request(net.ids["A"], partners.new_message_id(),
                                              {**body, "applicant": "Trần Thị Hoa", "data": [1]})
    resp = net.apis["B"].client.post("/api/v1/lienthong/messages", data=broken, headers=headers)
    assert resp.status_code == 422 and set(resp.json["details"]) == {"applicant", "data"}
