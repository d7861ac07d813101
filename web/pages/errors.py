"""Error pages in Vietnamese: engine NotFound/Forbidden and HTTP errors become a page, never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import MotcuaError

TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Bạn không có quyền truy cập trang này",
    404: "Không tìm thấy trang hoặc hồ sơ",
    405: "Thao tác không được phép",
    409: "Dữ liệu đã thay đổi",
    413: "Tệp tải lên quá lớn",
    422: "Dữ liệu chưa hợp lệ",
    500: "Đã có lỗi xảy ra",
}
HINTS = {
    403: "Trang này chỉ dành cho cán bộ có vai trò phù hợp. Nếu cần, hãy liên hệ quản trị hệ thống.",
    404: "Địa chỉ không tồn tại hoặc hồ sơ không thuộc đơn vị của bạn.",
    409: "Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang rồi thử lại.",
    413: "Mỗi lần gửi, tổng dung lượng tệp không được vượt quá giới hạn cho phép.",
    500: "Lỗi đã được ghi lại. Vui lòng thử lại sau ít phút.",
}


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    hint = HINTS.get(status, "")
    return render_template("errors/error.html", status=status, title=_(title), hint=_(hint) if hint else "",
                           detail=detail), status


def _http(e: HTTPException) -> Any:
    if request.path.startswith("/api/"):  # e.g. a 405 raised while routing, before any API blueprint runs
        from web.api import _http_error

        return _http_error(e)
    return error_page(e.code or 500)


def _domain(e: MotcuaError) -> tuple[str, int]:
    # NotFound/Forbidden say nothing more than the page title: guessing URLs must reveal nothing.
    detail = e.message if e.status not in (403, 404) else None
    return error_page(e.status, detail)


def _csrf(e: CSRFError) -> tuple[str, int]:
    return error_page(400, _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại."))


def _unexpected(e: Exception) -> tuple[str, int] | Exception:
    from flask import current_app

    if isinstance(e, HTTPException):
        return _http(e)
    if request.path.startswith("/api/"):
        raise e
    current_app.logger.exception("unexpected error on %s", request.path)
    return error_page(500)


def init_app(app: Flask) -> None:
    app.config["MOTCUA_HTML_ERROR"] = _http
    app.register_error_handler(MotcuaError, _domain)
    app.register_error_handler(CSRFError, _csrf)
    for code in (400, 403, 405, 413, 500):
        app.register_error_handler(code, _http)
    app.register_error_handler(Exception, _unexpected)
