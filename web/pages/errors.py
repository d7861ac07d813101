"""Error pages in Vietnamese: engine NotFound/Forbidden and HTTP errors become a page, never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import MotcuaError

TITLES = {
    400: _l("Yêu cầu không hợp lệ"),
    403: _l("Bạn không có quyền truy cập trang này"),
    404: _l("Không tìm thấy trang hoặc hồ sơ"),
    405: _l("Thao tác không được phép"),
    409: _l("Dữ liệu đã thay đổi"),
    413: _l("Tệp tải lên quá lớn"),
    422: _l("Dữ liệu chưa hợp lệ"),
    500: _l("Đã có lỗi xảy ra"),
}
HINTS = {
    403: _l("Trang này chỉ dành cho cán bộ có vai trò phù hợp. Nếu cần, hãy liên hệ quản trị hệ thống."),
    404: _l("Địa chỉ không tồn tại hoặc hồ sơ không thuộc đơn vị của bạn."),
    409: _l("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang rồi thử lại."),
    413: _l("Mỗi lần gửi, tổng dung lượng tệp không được vượt quá giới hạn cho phép."),
    500: _l("Lỗi đã được ghi lại. Vui lòng thử lại sau ít phút."),
}


def _forget_transaction() -> None:
    """The request's session may hold a transaction PostgreSQL has aborted: roll it back before the page
    (its menu reads the user's roles) touches the database again."""
    s = g.get("db_session")
    if s is not None:
        try:
            s.rollback()
        except Exception:  # noqa: BLE001 — a dead connection: the page renders without it
            g.pop("db_session", None)


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    _forget_transaction()
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    hint = HINTS.get(status, "")
    return render_template("errors/error.html", status=status, title=title, hint=hint,
                           detail=detail), status


def _http(e: HTTPException) -> tuple[str, int] | Response:
    if request.path.startswith("/api/"):
        from web.api import _http_error

        return _http_error(e)  # 405, 413 … are JSON like every other API answer
    return error_page(e.code or 500)


def _domain(e: MotcuaError) -> tuple[str, int] | Response:
    if request.path.startswith("/api/"):  # raised before a blueprint took the request (e.g. bad parameters)
        from web.api import _domain_error

        return _domain_error(e)
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
