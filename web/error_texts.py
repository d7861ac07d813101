"""The engine's coded errors (engine/error_texts.py) as literal msgids, so the Babel catalogs translate them
for the page's language (Vietnamese first, English second). The templates are the engine's own, letter for letter;
tests/test_engine_messages_translated.py keeps the two tables equal, so the words cannot drift.

Registered with the engine at start-up: `MotcuaError.message` of a coded error is then in the language of the
request being answered (pages, API, flashes), and Vietnamese where there is no request (CLI, logs)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import lazy_gettext as _l

from engine import errors

MESSAGES = {
    "applicant_name_required": _l("Chưa nhập họ và tên người nộp hồ sơ"),
    "step_not_open_here": _l("Bước phải là mã một bước đang mở của hồ sơ này"),
    "upload_file_field": _l("Hãy gửi tài liệu trong trường multipart `file`"),
    "body_json_object": _l("Nội dung gửi lên phải là một đối tượng JSON"),
    "datetime_iso": _l("%(name)s phải là ngày giờ theo ISO 8601"),
    "case_missing": _l("Hồ sơ không tồn tại"),
    "case_not_found": _l("Không tìm thấy hồ sơ %(code)s"),
    "case_not_at_desk": _l("Hồ sơ %(code)s không chờ tại Bộ phận Một cửa (trạng thái %(status)s)"),
    "case_not_withdrawable": _l("Hồ sơ %(code)s không còn rút được (trạng thái %(status)s)"),
    "case_already_processing": _l("Hồ sơ %(code)s đang được giải quyết"),
    "case_no_process": _l("Hồ sơ %(code)s không có quy trình đang chạy"),
    "step_not_found": _l("Không tìm thấy bước xử lý %(id)s"),
    "outcome_choice": _l("Kết quả kiểm tra hồ sơ phải là «chưa đầy đủ» (incomplete) hoặc «từ chối» (refused)"),
    "competent_unit_code": _l("Đơn vị có thẩm quyền phải là mã đơn vị"),
    "step_not_yours": _l("Bước «%(step)s» thuộc %(unit)s (vai trò %(role)s), không phải của bạn"),
    "step_not_waiting": _l("Bước «%(step)s» không còn chờ xử lý trong quy trình"),
    "case_changed_meanwhile": _l("Hồ sơ vừa được người khác cập nhật; hãy tải lại trang và thử lại"),
    "step_not_open": _l("Bước «%(step)s» không còn mở để xử lý"),
    "step_release_forbidden": _l(
        "Chỉ người đã nhận hoặc lãnh đạo phòng của đơn vị xử lý bước này mới trả lại được bước"),
    "assign_heads_only": _l("Chỉ lãnh đạo của %(unit)s mới được phân công và xem khối lượng việc của đơn vị"),
    "official_not_found": _l("Không có cán bộ %(name)s"),
    "official_wrong_unit": _l("%(who)s không thuộc %(unit)s với vai trò xử lý bước này"),
    "target_after_due": _l("Ngày hoàn thành nội bộ không được sau hạn của bước (%(due)s)"),
    "step_not_open_to_assign": _l("Bước «%(step)s» không còn mở để phân công"),
    "step_just_assigned": _l("Bước «%(step)s» vừa được giao cho %(who)s"),
    "delegation_end_before_start": _l("Ngày kết thúc ủy quyền phải từ ngày bắt đầu trở đi"),
    "delegation_expired": _l("Ủy quyền đã hết hạn trước hôm nay"),
    "delegation_procedure_unknown": _l("Mã thủ tục không có trong danh mục"),
    "delegation_for_others": _l("Chỉ lãnh đạo của đơn vị mới ủy quyền thay cho cán bộ khác"),
    "delegation_to_self": _l("Không thể ủy quyền cho chính mình"),
    "delegation_other_unit": _l("%(deputy)s không cùng đơn vị với %(delegator)s"),
    "delegation_not_found": _l("Không tìm thấy ủy quyền %(id)s"),
    "step_not_open_to_attach": _l("Bước «%(step)s» không còn mở để đính kèm tài liệu"),
    "documents_of_other_step": _l("Tài liệu %(ids)s không được đính kèm ở bước «%(step)s»"),
    "step_needs_documents": _l("Bước «%(step)s» cần đính kèm tài liệu"),
    "followup_in_past": _l("Thời điểm nhắc lại phải ở tương lai"),
    "saved_view_empty": _l("Bộ lọc trống, không có gì để lưu"),
    "saved_view_not_found": _l("Không tìm thấy bộ lọc %(id)s"),
    "mention_outside_path": _l("Chỉ nhắc được cán bộ của các đơn vị hồ sơ đã đi qua"),
    "stop_reason_required": _l("Cần ghi rõ lý do dừng giải quyết"),
    "form_data_object": _l("Dữ liệu phải là một đối tượng JSON"),
    "form_reserved_keys": _l("Dữ liệu dùng tên trường dành riêng"),
    "form_has_errors": _l("Biểu mẫu còn lỗi"),
    "procedure_code_required": _l("Hãy chọn thủ tục trong danh mục (mã thủ tục)"),
    "procedure_not_found": _l("Không có thủ tục %(code)s"),
    "procedure_not_deployed": _l("Thủ tục %(code)s chưa có quy trình được triển khai"),
    "document_not_found": _l("Không tìm thấy tài liệu %(id)s"),
    "document_file_missing": _l("Không còn tệp của tài liệu %(id)s"),
    "document_checksum": _l("%(file)s: tệp đã lưu không khớp mã kiểm tra"),
    "document_ids_list": _l("Tài liệu phải là danh sách mã tài liệu"),
    "notification_not_found": _l("Không tìm thấy thông báo %(id)s"),
    "apology_reason_required": _l("Cần ghi rõ lý do"),
    "apology_reason_too_long": _l("Lý do dài quá %(max)s ký tự"),
    "apology_date_required": _l("Ngày hẹn mới phải là ngày và giờ"),
    "apology_date_not_after": _l("Ngày hẹn mới phải sau hạn hiện tại %(due)s"),
    "apology_not_working_day": _l("%(day)s không phải ngày làm việc"),
    "day_must_be_date": _l("Ngày phải là một ngày hợp lệ"),
    "calendar_override_missing": _l("Không có điều chỉnh lịch ngày %(day)s"),
    "capabilities_unknown": _l("Quyền không tồn tại: %(names)s"),
    "role_exists": _l("Vai trò «%(code)s» đã có"),
    "role_not_found": _l("Vai trò «%(code)s» không tồn tại"),
    "unit_not_found": _l("Đơn vị «%(code)s» không tồn tại"),
    "unit_exists": _l("Đơn vị «%(code)s» đã có"),
    "level_not_found": _l("Cấp «%(code)s» không tồn tại"),
    "user_exists": _l("Tài khoản «%(username)s» đã có"),
    "user_not_found": _l("Tài khoản «%(username)s» không tồn tại"),
    "token_days_min": _l("Mã truy cập phải có hiệu lực ít nhất một ngày"),
    "partner_message_required": _l("Thiếu tên thư liên thông"),
    "case_code_digits_number": _l("%(name)s phải là số chữ số"),
    "case_code_digits_range": _l("%(name)s phải từ 4 đến 9 (TT 04/2025: ít nhất 4)"),
    "case_code_template_parts": _l("%(name)s=%(template)s: phần không biết %(unknown)s, còn thiếu %(missing)s"),
    "agency_code_chars": _l("Mã cơ quan chỉ gồm chữ, chữ số, '.', '_' hoặc '-'"),
    "agency_code_exists": _l("%(unit)s đã có mã cơ quan từ ngày %(day)s"),
    "agency_code_unknown": _l("Không đơn vị nào có mã cơ quan «%(code)s»"),
    "case_code_day_full": _l("Quá %(limit)s hồ sơ tiếp nhận tại %(agency)s ngày %(day)s (hãy tăng %(name)s)"),
    "case_code_too_long": _l("Mã hồ sơ %(code)s dài quá %(max)s ký tự"),
    "report_dates": _l("Từ ngày và đến ngày phải viết dạng YYYY-MM-DD"),
    "report_period_order": _l("Ngày bắt đầu kỳ báo cáo ở sau ngày kết thúc"),
    "report_period_max": _l("Một báo cáo chỉ bao gồm tối đa mười năm"),
    "reports_forbidden": _l("Báo cáo dành cho lãnh đạo phòng, lãnh đạo và quản trị hệ thống"),
    "unit_outside_subtree": _l("Đơn vị «%(code)s» không thuộc phạm vi đơn vị của bạn"),
    "report_group_choice": _l("Nhóm phải là một trong %(choices)s"),
    "report_figure_unknown": _l("Không có chỉ tiêu «%(figure)s»"),
    "score766_index_choice": _l("Chỉ số phải là một trong 2.1, 2.2, 3.3, 4.1, 4.2, 5.4"),
    "heatmap_which_choice": _l("Loại phải là một trong %(choices)s"),
    "time_state_choice": _l("Trạng thái thời hạn phải là một trong %(choices)s"),
    "incidents_admin_only": _l("Sự cố chỉ dành cho quản trị hệ thống"),
    "retry_admin_only": _l("Chỉ quản trị hệ thống được gửi lại thư liên thông"),
    "backup_command_failed": _l("%(command)s không chạy được: %(error)s"),
    "backup_folder_not_empty": _l("%(folder)s không trống: bản sao lưu phải vào một thư mục mới"),
    "backup_damaged": _l("%(file)s không khớp bản kê: bản sao lưu bị hỏng"),
    "backup_backend": _l("Bản sao lưu này của cơ sở dữ liệu %(found)s, không phải %(backend)s"),
    "restore_database_not_empty": _l("Cơ sở dữ liệu đích không trống: hãy tạo cơ sở dữ liệu mới để phục hồi"),
    "restore_documents_not_empty": _l("%(folder)s không trống: hãy phục hồi vào một MOTCUA_INSTANCE_PATH mới"),
    "slip_no_supplement": _l("Hồ sơ %(code)s không có yêu cầu bổ sung"),
    "slip_no_apology": _l("Hồ sơ %(code)s không có phiếu xin lỗi"),
    "slip_no_stop": _l("Hồ sơ %(code)s không có thông báo dừng giải quyết"),
    "slip_unknown": _l("Không có mẫu %(nn)s (chọn một trong %(choices)s)"),
    "slip_not_applicable": _l("Mẫu %(nn)s (%(name)s) không áp dụng cho hồ sơ %(code)s"),
    "slip_template_error": _l("Mẫu phiếu %(where)s có lỗi: %(error)s"),
    "slip_folder": _l("%(name)s=%(path)s không phải thư mục"),
    "slip_set_unknown": _l("%(name)s=%(chosen)s không phải bộ mẫu phiếu (%(choices)s)"),
}


def translate(text_code: str, params: dict[str, Any]) -> str | None:
    """The coded message in the request's language; None outside a request (the caller keeps Vietnamese)."""
    if not has_request_context() or text_code not in MESSAGES:
        return None
    # The parameters are data: substituted into the translated template as plain text, never as markup.
    return str(MESSAGES[text_code]) % params


def init_app() -> None:
    errors.set_translator(translate)
