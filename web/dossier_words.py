"""What the desk and online forms show when a dossier is refused (engine.dossier_checks): each problem next to
its field, in Vietnamese with English from the catalogs, and a list of them at the top.

The engine names problems with fixed Vietnamese sentences; they are looked up here as literal msgids (like
web/labels.py), never passed to `_()` themselves. A problem not in the table (a length, a control character,
a unit's name) is shown as the engine wrote it, escaped. tests/test_dossier_checks.py keeps this table equal to
the engine's sentences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from web.labels import msgid

PROBLEMS = (
    _l("bắt buộc nhập"),
    _l("Số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số"),
    _l("Số điện thoại không đúng: di động 10 chữ số bắt đầu bằng 03, 05, 07, 08, 09; "
       "cố định 11 chữ số bắt đầu bằng 02 (có thể viết +84)"),
    _l("Thư điện tử không đúng định dạng (ví dụ: ten@example.vn)"),
    _l("Cần số điện thoại hoặc thư điện tử để Bộ phận Một cửa liên hệ"),
    _l("Thiếu giấy tờ bắt buộc này"),
    _l("Hãy tải lên ít nhất một giấy tờ"),
    _l("chỉ nhận tệp PDF, JPEG hoặc PNG"),
    _l("tệp lớn hơn dung lượng cho phép"),
    _l("quá nhiều tệp đính kèm"),
    _l("Hãy chọn xã, phường nơi nộp hồ sơ"),
)
_BY_MSGID = {msgid(w): w for w in PROBLEMS}


def word(problem: Any) -> Any:
    """The problem in the reader's language when it is one of the fixed sentences, else as written (data)."""
    return _BY_MSGID.get(str(problem), str(problem))


def field_errors(details: Any, renames: Mapping[str, str] | None = None, prefix: str = "") -> dict[str, Any]:
    """An Invalid's details as the form's errors: `<prefix>field` keys become the form's names (`renames`
    maps the others), each message translated when it is a fixed sentence."""
    out: dict[str, Any] = {}
    for key, problem in (details.items() if isinstance(details, Mapping) else ()):
        key = str(key)
        name = key[len(prefix):] if prefix and key.startswith(prefix) else key
        out[(renames or {}).get(name, name)] = word(problem)
    return out
