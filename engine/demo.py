"""The demo province: three levels, two districts with two communes each, and an account for every
role at every unit, so each shipped procedure can be walked through end to end.

`levels=2` builds the two-level province of the 2025 regime instead (NĐ 118/2025): three communes directly
under the province, so a dossier received at one commune's desk can be decided by another commune and the
province (the shipped procedure ncc_mai_tang_2025 shows it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Unit, User, UserRole
from engine.org import add_unit, hash_password

DEMO_PASSWORD = "motcua2026"

UNITS = [
    # code, name, level, parent, agency code (QCVN 102:2016 style)
    ("TINH", "Sở Lao động – Thương binh và Xã hội tỉnh Sông Hồng", "province", None, "000.00.30.H99"),
    ("HUYEN_A", "UBND huyện Hòa An", "district", "TINH", "000.00.31.H99"),
    ("HUYEN_B", "UBND huyện Bình Sơn", "district", "TINH", "000.00.32.H99"),
    ("XA_A1", "UBND xã An Phú", "commune", "HUYEN_A", "000.31.31.H99"),
    ("XA_A2", "UBND xã An Lạc", "commune", "HUYEN_A", "000.32.31.H99"),
    ("XA_B1", "UBND xã Bình Minh", "commune", "HUYEN_B", "000.31.32.H99"),
    ("XA_B2", "UBND xã Bình Yên", "commune", "HUYEN_B", "000.32.32.H99"),
]
# The two-level province (since 01/07/2025): the province and communes, no districts.
UNITS_TWO_LEVELS = [
    ("TINH", "Sở Lao động – Thương binh và Xã hội tỉnh Sông Hồng", "province", None, "000.00.30.H99"),
    ("XA_HOA_AN", "UBND xã Hòa An", "commune", "TINH", "000.01.30.H99"),
    ("XA_BINH_SON", "UBND xã Bình Sơn", "commune", "TINH", "000.02.30.H99"),
    ("XA_SONG_HONG", "UBND phường Sông Hồng", "commune", "TINH", "000.03.30.H99"),
]
ROLES_AT_EVERY_UNIT = ("clerk", "specialist", "head", "leader")
ROLE_NAMES = {"clerk": "Cán bộ một cửa", "specialist": "Chuyên viên", "head": "Lãnh đạo phòng",
              "leader": "Lãnh đạo"}


def demo_units(levels: int = 3) -> list[tuple[str, str, str, str | None, str]]:
    """The demo's units for a three-level (default) or two-level province."""
    if levels not in (2, 3):
        raise ValueError("the demo province has 2 or 3 levels")
    return UNITS if levels == 3 else UNITS_TWO_LEVELS


def demo_accounts(levels: int = 3) -> list[tuple[str, str, list[str], str]]:
    """(username, unit code, roles, full name) for every demo account."""
    accounts = [("admin", "TINH", ["admin"], "Quản trị hệ thống"),
                ("designer", "TINH", ["designer"], "Thiết kế quy trình")]
    for code, name, _level, _parent, _agency in demo_units(levels):
        for role in ROLES_AT_EVERY_UNIT:
            accounts.append((f"{code.lower()}_{role}", code, [role], f"{ROLE_NAMES[role]} — {name}"))
    return accounts


def demo_agencies() -> dict[str, str]:
    """Agency code → name of every demo unit (each gets a demo signing certificate)."""
    return {agency: name for _code, name, _level, _parent, agency in demo_units(3) + demo_units(2)}


def create_demo(session: Session, levels: int = 3) -> list[str]:
    """Idempotent: creates what is missing and reports it."""
    done = []
    for code, name, level, parent, agency in demo_units(levels):
        if session.scalar(select(Unit).where(Unit.code == code)) is None:
            add_unit(session, code, name, level, parent, agency)
            done.append(f"unit {code}")
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all demo accounts keeps init fast
    for username, unit_code, roles, full_name in demo_accounts(levels):
        if session.scalar(select(User).where(User.username == username)) is None:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            user = User(username=username, full_name=full_name, password_hash=password_hash, unit_id=unit.id,
                        email=f"{username}@demo.motcua.local")
            user.role_links = [UserRole(role_code=r) for r in roles]
            session.add(user)
            done.append(f"user {username}")
    session.flush()
    return done


DEMO_2025_APPLICANT = {"name": "Hoàng Thị Lan", "id_number": "036175002025", "phone": "0915202507",
                       "address": "Xóm Đồng, xã Bình Sơn, tỉnh Sông Hồng"}


def seed_two_level_dossier(session: Session) -> str | None:
    """The 2025 regime to look at (NĐ 118/2025): a dossier received at xã Hòa An's desk, decided by xã Bình
    Sơn (where the applicant lives) and by the province, its result now waiting at Hòa An's desk to be returned.
    Idempotent: None when the demo dossier is already there. Only `init --demo --levels 2` calls it; the
    three-level demo has no dossiers."""
    from engine import cases
    from engine.models import Case, Procedure

    proc = session.scalar(select(Procedure).where(Procedure.code == "ncc_mai_tang_2025"))
    if proc is None or session.scalar(select(Case.id).where(Case.procedure_id == proc.id,
                                                            Case.applicant_id_number == DEMO_2025_APPLICANT[
                                                                "id_number"]).limit(1)) is not None:
        return None

    def demo_user(unit_id: int, role: str) -> User:
        return session.scalar(select(User).join(UserRole).where(User.unit_id == unit_id, UserRole.role_code == role)
                              .order_by(User.id).limit(1))

    clerk = session.scalar(select(User).where(User.username == "xa_hoa_an_clerk"))
    case = cases.receive(session, clerk, proc.code, dict(DEMO_2025_APPLICANT), {}, competent_unit="XA_BINH_SON",
                         documents=["ban_khai", "giay_bao_tu"])
    for _ in range(8):  # the deciding steps, up to the desk's return step
        items = cases.open_items(session, case)
        if not items or items[0].unit_id == case.receiving_unit_id:
            break
        cases.complete_task(session, demo_user(items[0].unit_id, items[0].role_code), items[0].id,
                            {"outcome": "approve"})
    return case.code
