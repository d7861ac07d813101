"""Fixed words the engine keeps by code (statuses, report figures, rating criteria, levels, roles), as
literal msgids for the pages.

Flask-Babel's `_()` in a template returns Markup, so it must never see data: a name from the database
passed through it is not escaped. Pages look fixed words up here by code; anything else (unit, procedure,
field and admin-added level names) is data and is rendered escaped. tests/security/test_translation_literals.py
keeps these tables equal to the engine's, so the Vietnamese cannot drift."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from engine.status import Status

# Where the applicant collects the result (engine.competence.RETURN_CHANNELS): the desk, the online form.
RETURN_CHANNELS = {"desk": _l("Tại Bộ phận Một cửa đã tiếp nhận"), "post": _l("Qua dịch vụ bưu chính công ích"),
                   "online": _l("Trực tuyến")}

# engine.status.STATUS in the page's language (literal msgids, so the catalogs find them).
STATUS = {
    Status.NEW: _l("Mới đăng ký"), Status.RECEIVED: _l("Được tiếp nhận"),
    Status.NOT_RECEIVED: _l("Không được tiếp nhận"), Status.PROCESSING: _l("Đang xử lý"),
    Status.SUPPLEMENT: _l("Yêu cầu bổ sung giấy tờ"),
    Status.FINANCIAL: _l("Yêu cầu thực hiện nghĩa vụ tài chính"), Status.WITHDRAWN: _l("Công dân yêu cầu rút hồ sơ"),
    Status.STOPPED: _l("Dừng xử lý"), Status.RESOLVED: _l("Đã xử lý xong"), Status.RETURNED: _l("Đã trả kết quả"),
}
FIGURES = {
    "received_carried_over": _l("Kỳ trước chuyển qua"),
    "received_new": _l("Tiếp nhận mới trong kỳ"),
    "received_online": _l("Trong đó: trực tuyến"),
    "received_desk": _l("Trong đó: trực tiếp"),
    "received_post": _l("Trong đó: bưu chính công ích"),
    "resolved_early": _l("Đã giải quyết trước hạn"),
    "resolved_on_time": _l("Đã giải quyết đúng hạn"),
    "resolved_late": _l("Đã giải quyết quá hạn"),
    "in_progress_in_time": _l("Đang giải quyết trong hạn"),
    "in_progress_overdue": _l("Đang giải quyết quá hạn"),
    "paused": _l("Chờ bổ sung hồ sơ"),
    "withdrawn": _l("Rút hồ sơ"),
    "refused": _l("Từ chối"),
    "intake_incomplete": _l("Yêu cầu bổ sung khi tiếp nhận (Mẫu 02)"),
    "on_time_rate": _l("Tỷ lệ đúng hạn (%)"),
    "resolved": _l("Đã giải quyết"),
    "in_progress": _l("Đang giải quyết"),
}
CRITERIA = {
    "c1": _l("Tổng thời gian giải quyết so với thời gian cho phép theo quy định"),
    "c2": _l("Thời gian thực hiện của từng cơ quan, đơn vị tham gia giải quyết"),
    "c3": _l("Số lần phải liên hệ với nơi tiếp nhận để hoàn thiện hồ sơ"),
    "c4": _l("Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ"),
    "c5": _l("Tiếp nhận, giải quyết, trả kết quả tại Bộ phận Một cửa"),
    "c6": _l("Công khai thủ tục hành chính"),
    "c7": _l("Thái độ của cán bộ, công chức khi hướng dẫn, tiếp nhận và giải quyết"),
    "c8": _l("Tiếp thu, giải trình đối với ý kiến phản ánh, kiến nghị"),
    "c9": _l("Tiến độ và chất lượng cung cấp dịch vụ công trực tuyến"),
}
# The shipped levels; a level an administrator adds shows its own (escaped) name.
LEVELS = {"province": _l("Cấp tỉnh"), "district": _l("Cấp huyện"), "commune": _l("Cấp xã")}
ROLES = {"clerk": _l("Cán bộ một cửa"), "specialist": _l("Chuyên viên"), "head": _l("Lãnh đạo phòng"),
         "leader": _l("Lãnh đạo"), "admin": _l("Quản trị"), "designer": _l("Thiết kế quy trình")}
ONLINE = {"full": _l("Trực tuyến toàn trình"), "4": _l("Trực tuyến toàn trình"),
          "partial": _l("Trực tuyến một phần"), "3": _l("Trực tuyến một phần")}
NOT_ONLINE = _l("Không hỗ trợ trực tuyến")
GROUPS = {"unit": _l("Đơn vị tiếp nhận"), "field": _l("Lĩnh vực"), "level": _l("Cấp"), "procedure": _l("Thủ tục")}
# engine.reports' Excel exports call `translate` on these fixed words only (headings, column titles).
REPORT_TIMING = {"early": _l("Trước hạn"), "on_time": _l("Đúng hạn"), "late": _l("Quá hạn")}
EXPORT_WORDS = (
    _l("BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"), _l("Đơn vị"), _l("Kỳ báo cáo"), _l("Kỳ"),
    _l("Lĩnh vực"), _l("Cấp"), _l("Thủ tục"), _l("Tổng cộng"), _l("Bước xử lý"), _l("Số lượt"), _l("Trễ hạn"),
    _l("Tỷ lệ trễ (%)"), _l("Trung vị (giờ)"), _l("P90 (giờ)"), _l("SỔ THEO DÕI HỒ SƠ"), _l("Giải quyết"),
    _l("STT"), _l("Mã hồ sơ"), _l("Tên thủ tục hành chính"), _l("Tên tổ chức, cá nhân"), _l("Địa chỉ, số điện thoại"),
    _l("Cơ quan chủ trì giải quyết"), _l("Nhận hồ sơ"), _l("Hẹn trả kết quả"),
    _l("Chuyển hồ sơ đến cơ quan giải quyết"), _l("Nhận kết quả từ cơ quan giải quyết"), _l("Trả kết quả"),
    _l("Tình trạng"), _l("Kết quả"), _l("Ghi chú"), _l("Sổ theo dõi"),
)


# An incomplete-at-the-desk dossier (Mẫu 02) is status 3 for the portal, but it was not refused: lists say so.
INTAKE = {"waiting": _l("Chờ bổ sung"), "received": _l("Đã tiếp nhận bổ sung")}


def case_status(case: Any) -> tuple[Any, str]:
    """(label, css status class) of a case in lists and on its page (engine.supplements.intake_state)."""
    from engine.supplements import intake_state

    state = intake_state(case)
    if state == "waiting":
        return INTAKE["waiting"], f"status-{Status.SUPPLEMENT:d}"
    if state == "received":
        return INTAKE["received"], f"status-{Status.RECEIVED:d}"
    return STATUS[case.status_code], f"status-{case.status_code}"


def msgid(word: Any) -> str:
    """The Vietnamese msgid a lazy literal was written with (its text in the source language)."""
    return str(word._args[0])  # noqa: SLF001 — flask_babel's LazyString keeps the literal it was made from


def _known_words() -> dict[str, Any]:
    tables = (STATUS, FIGURES, REPORT_TIMING, GROUPS)
    words = {msgid(w): w for table in tables for w in table.values()}
    words.update((msgid(w), w) for w in EXPORT_WORDS)
    return words


def fixed_word(text: str) -> str:
    """Translation for engine code that labels its exports with fixed Vietnamese words: a word listed here
    as a literal is translated, anything else comes back unchanged (data is never looked up)."""
    word = _known_words().get(text)
    return str(word) if word is not None else text


def level(code: str | None, name: str | None = None) -> Any:
    return LEVELS.get(code or "", name if name is not None else (code or ""))


def role(code: str | None) -> Any:
    return ROLES.get(code or "", code or "")


def online(code: str | None) -> Any:
    return ONLINE.get(code or "", NOT_ONLINE)


def template_globals() -> dict[str, Any]:
    """`words.STATUS[code]`, `words.level(code, name)`, … in every template."""
    import web.labels as words

    return {"words": words}
