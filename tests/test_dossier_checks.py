"""One rule decides whether a dossier may be received (engine.dossier_checks): the CCCD number has exactly 12
digits, the phone is a Vietnamese number (stored in its national form), the e-mail is an address, and every
required document of the procedure (processes/<code>.toml) is there. The desk, the API and online submission
answer the same problems for the same dossier, all at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import cases, dossier_checks, pending_uploads, public
from engine.errors import Invalid
from engine.models import Case
from tests.conftest import World
from web import dossier_words
from web.labels import msgid

PROCESSES = Path(__file__).resolve().parent.parent / "processes"


def _documents(code: str) -> list[dict]:
    return tomllib.loads((PROCESSES / f"{code}.toml").read_text(encoding="utf-8"))["documents"]


@pytest.mark.parametrize("typed,stored", [("036090001234", "036090001234"), (" 036 090 001 234 ", "036090001234"),
                                          ("001195000111", "001195000111")])
def test_a_twelve_digit_cccd_number_is_accepted(typed: str, stored: str) -> None:
    assert dossier_checks.id_number(typed) == stored


@pytest.mark.parametrize("typed", ["12ab", "03609000123", "0360900012345", "036-090-001-234", "036090001234x",
                                   "٠٣٦٠٩٠٠٠١٢٣٤", "123456789"])
def test_anything_else_is_not_a_cccd_number(typed: str) -> None:
    assert dossier_checks.id_number(typed) is None


@pytest.mark.parametrize("typed,stored", [
    ("0912345678", "0912345678"), ("091 234 5678", "0912345678"), ("0912.345.678", "0912345678"),
    ("+84 912 345 678", "0912345678"), ("+84912345678", "0912345678"), ("84912345678", "0912345678"),
    ("0084 912 345 678", "0912345678"), ("0352-123-456", "0352123456"), ("0708 123 456", "0708123456"),
    ("0812345678", "0812345678"), ("(028) 3822 1234", "02838221234"), ("+84 28 3822 1234", "02838221234"),
    ("0203 3825 123", "02033825123"),
])
def test_vietnamese_mobiles_and_landlines_are_accepted_in_their_national_form(typed: str, stored: str) -> None:
    assert dossier_checks.phone(typed) == stored


@pytest.mark.parametrize("typed", ["không có", "12345", "091234567", "09123456789", "0112345678", "01234567890",
                                   "0612345678", "0412345678", "+1 415 555 0100", "+84 12 345 678", "0912-345-67a"])
def test_anything_else_is_not_a_vietnamese_phone_number(typed: str) -> None:
    assert dossier_checks.phone(typed) is None


@pytest.mark.parametrize("typed", ["duc@example.vn", "nguyen.van.an+hoso@so-ldtbxh.hanoi.gov.vn", "A_B@x-y.com.vn"])
def test_an_email_address_is_accepted(typed: str) -> None:
    assert dossier_checks.email(typed) == typed


@pytest.mark.parametrize("typed", ["duc@", "@example.vn", "duc@example", "duc example@example.vn", "duc@@example.vn",
                                   "duc@example..vn", ".duc@example.vn", "duc.@example.vn", "duc@-example.vn",
                                   "duc@example.vn, an@example.vn", "đức@example.vn"])
def test_anything_else_is_not_an_email_address(typed: str) -> None:
    assert dossier_checks.email(typed) is None


def test_every_required_document_of_the_catalog_entry_is_asked_for() -> None:
    documents = _documents("ho_tro_mai_tang")
    required = [d["code"] for d in documents if d.get("required", True)]
    optional = [d["code"] for d in documents if not d.get("required", True)]
    assert required and optional  # the procedure has both kinds
    assert [d["code"] for d in dossier_checks.missing_documents(documents, [])] == required
    assert [d["code"] for d in dossier_checks.missing_documents(documents, [required[0], *optional])] == required[1:]
    assert dossier_checks.missing_documents(documents, required) == []


def test_the_desk_refuses_every_bad_field_and_each_missing_document_at_once(world: World) -> None:
    bad = {"name": "", "id_number": "12ab", "phone": "không có", "email": "duc@"}
    documents = _documents("ho_tro_mai_tang")
    with world.db.transaction() as s, pytest.raises(Invalid) as refused:
        cases.receive(s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", bad, {}, documents=[])
    missing = {f"documents.{d['code']}" for d in documents if d.get("required", True)}
    assert refused.value.details == {
        "applicant.name": dossier_checks.REQUIRED, "applicant.id_number": dossier_checks.ID_NUMBER,
        "applicant.phone": dossier_checks.PHONE, "applicant.email": dossier_checks.EMAIL,
        **{key: dossier_checks.DOCUMENT_MISSING for key in missing}}
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_good_dossier_is_stored_with_the_phone_in_its_national_form(world: World) -> None:
    required = [d["code"] for d in _documents("ho_tro_mai_tang") if d.get("required", True)]
    with world.db.transaction() as s:
        case = cases.receive(s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang",
                             {"name": "Đỗ Minh Đức", "id_number": "036 090 001 234", "phone": "+84 912 345 678",
                              "email": "duc@example.vn"}, {}, documents=required)
        code = case.code
    with world.db.transaction() as s:
        stored = s.scalar(select(Case).where(Case.code == code))
        assert (stored.applicant_id_number, stored.applicant_phone) == ("036090001234", "0912345678")
        assert stored.data["documents_received"] == required


def test_online_and_desk_answer_the_same_problems_for_the_same_applicant(world: World, tmp_path: Path) -> None:
    bad = {"name": "Đỗ Minh Đức", "id_number": "0360900012", "phone": "0612345678", "email": "duc@example"}
    with world.db.transaction() as s, pytest.raises(Invalid) as at_desk:
        cases.receive(s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", bad, {})
    held = pending_uploads.hold(tmp_path, None, "online:ho_tro_mai_tang", [], 1 << 20)
    with world.db.transaction() as s, pytest.raises(Invalid) as online:
        public.submit_online(s, "ho_tro_mai_tang", "XA_A1", bad, {}, [], tmp_path, 1 << 20, held=held)
    desk_fields = {k.removeprefix("applicant."): v for k, v in at_desk.value.details.items()}
    online_fields = {k: v for k, v in online.value.details.items() if not k.startswith("documents")}
    assert desk_fields == online_fields == {"id_number": dossier_checks.ID_NUMBER, "phone": dossier_checks.PHONE,
                                            "email": dossier_checks.EMAIL}


def test_online_an_applicant_must_be_reachable(world: World, tmp_path: Path) -> None:
    held = pending_uploads.hold(tmp_path, None, "online:ho_tro_mai_tang", [], 1 << 20)
    with world.db.transaction() as s, pytest.raises(Invalid) as online:
        public.submit_online(s, "ho_tro_mai_tang", "XA_A1", {"name": "Đỗ Minh Đức"}, {}, [], tmp_path, 1 << 20,
                             held=held)
    assert online.value.details["phone"] == dossier_checks.CONTACT


def test_the_forms_translate_every_sentence_the_rule_can_answer() -> None:
    sentences = {*dossier_checks.MESSAGES, *pending_uploads.MESSAGES, public.UNIT_REQUIRED}
    assert sentences <= {msgid(w) for w in dossier_words.PROBLEMS}
