"""What the engine's errors say, by stable code: one Vietnamese template per code (Python %-format, named
parameters). An error raised as `NotFound.of("case_not_found", code=code)` carries the code and its
parameters; the CLI prints the Vietnamese text, the web and the API translate the code through the Babel
catalogs (web/error_texts.py keeps the same templates as literal msgids, and a test keeps both equal)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # cases and steps
    "applicant_name_required": "Chưa nhập họ và tên người nộp hồ sơ",
    "step_not_open_here": "Bước phải là mã một bước đang mở của hồ sơ này",
    "upload_file_field": "Hãy gửi tài liệu trong trường multipart `file`",
    "body_json_object": "Nội dung gửi lên phải là một đối tượng JSON",
    "datetime_iso": "%(name)s phải là ngày giờ theo ISO 8601",
    "case_missing": "Hồ sơ không tồn tại",
    "case_not_found": "Không tìm thấy hồ sơ %(code)s",
    "case_not_at_desk": "Hồ sơ %(code)s không chờ tại Bộ phận Một cửa (trạng thái %(status)s)",
    "case_not_withdrawable": "Hồ sơ %(code)s không còn rút được (trạng thái %(status)s)",
    "case_already_processing": "Hồ sơ %(code)s đang được giải quyết",
    "case_no_process": "Hồ sơ %(code)s không có quy trình đang chạy",
    "step_not_found": "Không tìm thấy bước xử lý %(id)s",
    "outcome_choice": "Kết quả kiểm tra hồ sơ phải là «chưa đầy đủ» (incomplete) hoặc «từ chối» (refused)",
    "competent_unit_code": "Đơn vị có thẩm quyền phải là mã đơn vị",
    # procedures
    "procedure_code_required": "Hãy chọn thủ tục trong danh mục (mã thủ tục)",
    "procedure_not_found": "Không có thủ tục %(code)s",
    "procedure_not_deployed": "Thủ tục %(code)s chưa có quy trình được triển khai",
    # documents
    "document_not_found": "Không tìm thấy tài liệu %(id)s",
    "document_file_missing": "Không còn tệp của tài liệu %(id)s",
    "document_checksum": "%(file)s: tệp đã lưu không khớp mã kiểm tra",
    "document_ids_list": "Tài liệu phải là danh sách mã tài liệu",
    "notification_not_found": "Không tìm thấy thông báo %(id)s",
    # apology (Mẫu 04)
    "apology_reason_required": "Cần ghi rõ lý do",
    "apology_reason_too_long": "Lý do dài quá %(max)s ký tự",
    "apology_date_required": "Ngày hẹn mới phải là ngày và giờ",
    "apology_date_not_after": "Ngày hẹn mới phải sau hạn hiện tại %(due)s",
    "apology_not_working_day": "%(day)s không phải ngày làm việc",
    # calendar
    "day_must_be_date": "Ngày phải là một ngày hợp lệ",
    "calendar_override_missing": "Không có điều chỉnh lịch ngày %(day)s",
    # organisation
    "capabilities_unknown": "Quyền không tồn tại: %(names)s",
    "role_exists": "Vai trò «%(code)s» đã có",
    "role_not_found": "Vai trò «%(code)s» không tồn tại",
    "unit_not_found": "Đơn vị «%(code)s» không tồn tại",
    "unit_exists": "Đơn vị «%(code)s» đã có",
    "level_not_found": "Cấp «%(code)s» không tồn tại",
    "user_exists": "Tài khoản «%(username)s» đã có",
    "user_not_found": "Tài khoản «%(username)s» không tồn tại",
    "token_days_min": "Mã truy cập phải có hiệu lực ít nhất một ngày",
    "partner_message_required": "Thiếu tên thư liên thông",
    # case codes (TT 04/2025)
    "case_code_digits_number": "%(name)s phải là số chữ số",
    "case_code_digits_range": "%(name)s phải từ 4 đến 9 (TT 04/2025: ít nhất 4)",
    "case_code_template_parts": "%(name)s=%(template)s: phần không biết %(unknown)s, còn thiếu %(missing)s",
    "agency_code_chars": "Mã cơ quan chỉ gồm chữ, chữ số, '.', '_' hoặc '-'",
    "agency_code_exists": "%(unit)s đã có mã cơ quan từ ngày %(day)s",
    "agency_code_unknown": "Không đơn vị nào có mã cơ quan «%(code)s»",
    "case_code_day_full": "Quá %(limit)s hồ sơ tiếp nhận tại %(agency)s ngày %(day)s (hãy tăng %(name)s)",
    "case_code_too_long": "Mã hồ sơ %(code)s dài quá %(max)s ký tự",
    # reports
    "report_dates": "Từ ngày và đến ngày phải viết dạng YYYY-MM-DD",
    "report_period_order": "Ngày bắt đầu kỳ báo cáo ở sau ngày kết thúc",
    "report_period_max": "Một báo cáo chỉ bao gồm tối đa mười năm",
    "reports_forbidden": "Báo cáo dành cho lãnh đạo phòng, lãnh đạo và quản trị hệ thống",
    "unit_outside_subtree": "Đơn vị «%(code)s» không thuộc phạm vi đơn vị của bạn",
    "report_group_choice": "Nhóm phải là một trong %(choices)s",
    "report_figure_unknown": "Không có chỉ tiêu «%(figure)s»",
    "score766_index_choice": "Chỉ số phải là một trong 2.1, 2.2, 3.3, 4.1, 4.2, 5.4",
    "heatmap_which_choice": "Loại phải là một trong %(choices)s",
    "time_state_choice": "Trạng thái thời hạn phải là một trong %(choices)s",
    # administration
    "incidents_admin_only": "Sự cố chỉ dành cho quản trị hệ thống",
    "retry_admin_only": "Chỉ quản trị hệ thống được gửi lại thư liên thông",
    "backup_command_failed": "%(command)s không chạy được: %(error)s",
    "backup_folder_not_empty": "%(folder)s không trống: bản sao lưu phải vào một thư mục mới",
    "backup_damaged": "%(file)s không khớp bản kê: bản sao lưu bị hỏng",
    "backup_backend": "Bản sao lưu này của cơ sở dữ liệu %(found)s, không phải %(backend)s",
    "restore_database_not_empty": "Cơ sở dữ liệu đích không trống: hãy tạo cơ sở dữ liệu mới để phục hồi",
    "restore_documents_not_empty": "%(folder)s không trống: hãy phục hồi vào một MOTCUA_INSTANCE_PATH mới",
    # slips (phiếu)
    "slip_no_supplement": "Hồ sơ %(code)s không có yêu cầu bổ sung",
    "slip_no_apology": "Hồ sơ %(code)s không có phiếu xin lỗi",
    "slip_no_stop": "Hồ sơ %(code)s không có thông báo dừng giải quyết",
    "slip_unknown": "Không có mẫu %(nn)s (chọn một trong %(choices)s)",
    "slip_not_applicable": "Mẫu %(nn)s (%(name)s) không áp dụng cho hồ sơ %(code)s",
    "slip_template_error": "Mẫu phiếu %(where)s có lỗi: %(error)s",
    "slip_folder": "%(name)s=%(path)s không phải thư mục",
    "slip_set_unknown": "%(name)s=%(chosen)s không phải bộ mẫu phiếu (%(choices)s)",
}
