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
    "step_not_yours": "Bước «%(step)s» thuộc %(unit)s (vai trò %(role)s), không phải của bạn",
    "step_not_waiting": "Bước «%(step)s» không còn chờ xử lý trong quy trình",
    "case_changed_meanwhile": "Hồ sơ vừa được người khác cập nhật; hãy tải lại trang và thử lại",
    "step_not_open": "Bước «%(step)s» không còn mở để xử lý",
    "step_release_forbidden": "Chỉ người đã nhận hoặc lãnh đạo phòng của đơn vị xử lý bước này mới trả lại được bước",
    "assign_heads_only": "Chỉ lãnh đạo của %(unit)s mới được phân công và xem khối lượng việc của đơn vị",
    "official_not_found": "Không có cán bộ %(name)s",
    "official_wrong_unit": "%(who)s không thuộc %(unit)s với vai trò xử lý bước này",
    "target_after_due": "Ngày hoàn thành nội bộ không được sau hạn của bước (%(due)s)",
    "step_not_open_to_assign": "Bước «%(step)s» không còn mở để phân công",
    "step_just_assigned": "Bước «%(step)s» vừa được giao cho %(who)s",
    "delegation_end_before_start": "Ngày kết thúc ủy quyền phải từ ngày bắt đầu trở đi",
    "delegation_expired": "Ủy quyền đã hết hạn trước hôm nay",
    "delegation_procedure_unknown": "Mã thủ tục không có trong danh mục",
    "delegation_for_others": "Chỉ lãnh đạo của đơn vị mới ủy quyền thay cho cán bộ khác",
    "delegation_to_self": "Không thể ủy quyền cho chính mình",
    "delegation_other_unit": "%(deputy)s không cùng đơn vị với %(delegator)s",
    "delegation_not_found": "Không tìm thấy ủy quyền %(id)s",
    "step_not_open_to_attach": "Bước «%(step)s» không còn mở để đính kèm tài liệu",
    "documents_of_other_step": "Tài liệu %(ids)s không được đính kèm ở bước «%(step)s»",
    "step_needs_documents": "Bước «%(step)s» cần đính kèm tài liệu",
    "followup_in_past": "Thời điểm nhắc lại phải ở tương lai",
    "saved_view_empty": "Bộ lọc trống, không có gì để lưu",
    "saved_view_not_found": "Không tìm thấy bộ lọc %(id)s",
    "mention_outside_path": "Chỉ nhắc được cán bộ của các đơn vị hồ sơ đã đi qua",
    "stop_reason_required": "Cần ghi rõ lý do dừng giải quyết",
    "form_data_object": "Dữ liệu phải là một đối tượng JSON",
    "form_reserved_keys": "Dữ liệu dùng tên trường dành riêng",
    "form_has_errors": "Biểu mẫu còn lỗi",
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
    # input checks
    "input_invalid": "Dữ liệu chưa hợp lệ: %(fields)s",
    "heatmap_procedure_required": "chọn một thủ tục",
    "page_cursor_invalid": "Con trỏ trang không hợp lệ: %(fields)s",
    "json_too_deep": "JSON lồng nhau quá %(max)s cấp",
    "json_syntax": "nội dung gửi lên không phải JSON hợp lệ: %(error)s",
    "file_error": "%(file)s: %(error)s",
    # reception and supplements
    "reception_desk_only": "Chỉ cán bộ Bộ phận Một cửa được tiếp nhận hồ sơ",
    "backdate_max": "Chỉ được ghi thời điểm tiếp nhận lùi tối đa %(days)s ngày làm việc (MOTCUA_BACKDATE_MAX_DAYS)",
    "reception_unroutable": (
        "Không tiếp nhận được thủ tục này tại %(unit)s: bước «%(step)s» (cấp '%(level)s') không chuyển được — "
        "%(error)s"
    ),
    "reason_required": "Cần ghi rõ lý do",
    "competent_unit_wrong_level": (
        "Đơn vị có thẩm quyền '%(code)s' không phải đơn vị cấp '%(level)s' trong tỉnh của %(unit)s"
    ),
    "return_channel_choice": "return_channel phải là một trong %(choices)s",
    "supplement_desk_only": "Chỉ cán bộ Bộ phận Một cửa được tiếp nhận hồ sơ bổ sung",
    "supplement_not_waiting_desk": "Hồ sơ %(code)s không phải hồ sơ chờ bổ sung tại Bộ phận Một cửa",
    "supplement_already_received": "Hồ sơ %(code)s đã được tiếp nhận bổ sung thành hồ sơ %(later)s",
    "supplement_documents_required": "hãy tải lên giấy tờ bổ sung",
    "supplement_not_waiting": "hồ sơ này không chờ bổ sung",
    "supplement_no_step": "Hồ sơ %(code)s không có bước chờ bổ sung",
    # documents
    "upload_type": "%(file)s: chỉ nhận tệp PDF, JPEG hoặc PNG",
    "upload_too_large": "%(file)s: tệp lớn hơn %(max_mb)s MB",
    "document_type_changed": "%(file)s: nội dung mới không cùng loại tệp",
    # apology, delegation, bulk printing
    "apology_case_not_processing": "hồ sơ không ở trạng thái đang giải quyết",
    "apology_already_given": "hồ sơ đã được xin lỗi và hẹn lại một lần",
    "apology_forbidden": "chỉ đơn vị đang giải quyết hoặc nơi tiếp nhận hồ sơ được xin lỗi và hẹn lại",
    "apology_too_early": "chỉ được xin lỗi và hẹn lại từ %(opens)s (một ngày làm việc trước hạn)",
    "delegation_chain": (
        "Không thể ủy quyền nối tiếp: %(delegator)s đã ủy quyền cho %(deputy)s từ %(starts)s đến %(until)s"
    ),
    "bulk_slip_choice": "in hàng loạt: chọn mẫu %(choices)s",
    "bulk_no_case_has_slip": "Không hồ sơ nào đã chọn có mẫu %(nn)s",
    # online services (public portal)
    "lookup_not_found": "Không tìm thấy hồ sơ với mã và mã tra cứu này",
    "online_not_supported": "thủ tục này chưa hỗ trợ nộp trực tuyến",
    "dossier_invalid": "hồ sơ chưa hợp lệ: %(fields)s",
    "online_desk_only": "chỉ Bộ phận Một cửa được trả lời hồ sơ nộp trực tuyến",
    "withdraw_desk_only": "chỉ Bộ phận Một cửa được ghi nhận việc rút hồ sơ",
    "missing_documents_required": "hãy ghi giấy tờ cần bổ sung",
    "refusal_reason_required": "hãy ghi lý do từ chối",
    "online_supplement_not_waiting": "hồ sơ này không chờ bổ sung trực tuyến",
    "rating_before_result": "chỉ đánh giá được sau khi đã trả kết quả",
    "rating_scores": "hãy chấm điểm đủ 9 chỉ số (0, 1 hoặc 2)",
    "rating_done": "hồ sơ này đã được đánh giá",
    "portal_only": "chỉ Cổng Dịch vụ công (hệ thống loại portal) được chuyển hồ sơ trực tuyến",
    "portal_case_code_missing": "thư hồ sơ trực tuyến thiếu mã hồ sơ của Cổng",
    "storage_not_configured": "hệ thống chưa cấu hình nơi lưu tài liệu",
    # inter-system messages (liên thông)
    "partner_exists": "Đã có hệ thống liên thông mã %(code)s",
    "partner_not_found": "Không có hệ thống liên thông mã %(code)s",
    "partner_unknown": "hệ thống liên thông %(sender)s không được biết",
    "message_refused": "thư bị từ chối: %(reason)s",
    "message_signature_malformed": "thư bị từ chối: chữ ký sai định dạng",
    "message_sender_mismatch": "thư bị từ chối: hệ thống gửi hoặc mã thư đã ký khác với phần đầu thư",
    "partner_expression_error": "biểu thức partner '%(partner)s' lỗi: %(error)s",
    "message_partner_unknown": (
        "thư «%(name)s»: hệ thống liên thông '%(partner)s' chưa được đăng ký (motcua partner add)"
    ),
    "envelope_shape": "phong bì hồ sơ sai cấu trúc",
    "partner_case_not_found": "Không có hồ sơ %(code)s",
    "message_no_process": "Không có quy trình nào bắt đầu bằng thư '%(message)s'",
    "message_unit_unknown": "Không xác định được đơn vị tiếp nhận thư liên thông (unit_code của hệ thống gửi)",
    "unit_not_receiving": "%(unit)s không có vai trò tiếp nhận hồ sơ",
    "partner_documents_shape": "tài liệu trong thư sai cấu trúc",
    "partner_document_no_content": "%(name)s: thư không kèm nội dung tài liệu",
    "partner_document_not_base64": "%(name)s: nội dung không phải base64",
    "partner_document_sha_mismatch": (
        "%(name)s: SHA-256 của tài liệu nhận được (%(actual)s…) khác giá trị trong thư (%(expected)s…) — tài liệu "
        "bị thay đổi trên đường truyền, không nhận"
    ),
    "outbox_not_found": "Không có thư liên thông %(id)s",
    "outbox_not_retryable": "thư liên thông %(id)s đang ở trạng thái %(state)s, không cần gửi lại",
    # incidents, case migration, restructuring
    "incident_case_not_stuck": "hồ sơ %(code)s không bị vướng lỗi",
    "incident_case_no_process": "hồ sơ %(code)s không còn quy trình đang chạy",
    "incident_still_failing": "hồ sơ %(code)s vẫn lỗi: %(error)s",
    "incident_still_unrouted": "hồ sơ %(code)s vẫn chưa chuyển được: %(error)s",
    "migrate_map_form": "map phải có dạng OLD_ID=NEW_ID",
    "migrate_map_length": "map: mã bước phải là chuỗi ≤ 200 ký tự",
    "migrate_version_missing": "thủ tục %(procedure)s không có phiên bản %(version)s",
    "migrate_cases_elsewhere": "hồ sơ không đang chạy ở phiên bản khác của thủ tục này: %(cases)s",
    "migrate_blocked": "Có hồ sơ không chuyển được: %(cases)s",
    "migrate_not_migrated": "hồ sơ %(code)s chưa được chuyển phiên bản",
    "migrate_events_since": "hồ sơ %(code)s đã có %(count)s sự kiện sau khi chuyển phiên bản; không hoàn tác được",
    "plan_invalid": "kế hoạch sắp xếp không hợp lệ: %(fields)s",
    "plan_toml": "kế hoạch không phải TOML hợp lệ: %(error)s",
    "plan_table": "kế hoạch phải là một bảng (object)",
    "plan_has_problems": "Kế hoạch còn vấn đề, chưa áp dụng: %(problems)s",
    # procedures, catalog, process design
    "procedure_code_invalid": (
        "mã thủ tục '%(code)s' không hợp lệ: chữ cái (hoa hoặc thường, không dấu), chữ số, '_', '.' và '-', bắt đầu "
        "bằng chữ cái hoặc chữ số"
    ),
    "national_code_invalid": "mã thủ tục quốc gia '%(code)s' không hợp lệ (ví dụ 1.001776)",
    "catalog_cutoff": "cutoff phải có dạng HH:MM, không phải %(value)s",
    "bpmn_problems": "%(file)s: %(count)s lỗi",
    "bpmn_partners_unknown": "%(file)s: hệ thống liên thông chưa đăng ký: %(partners)s",
    "bpmn_names_invalid": "tên trong sơ đồ không hợp lệ: %(fields)s",
    "deploy_concurrent": (
        "thủ tục '%(code)s' vừa được %(who)s triển khai thành phiên bản %(version)s cùng lúc; bản của bạn chưa được "
        "lưu — hãy xem phiên bản %(version)s rồi triển khai lại nếu vẫn cần"
    ),
    "designer_forbidden": "chỉ người thiết kế quy trình hoặc quản trị hệ thống được dùng trình thiết kế",
    "bpmn_too_large": "tệp BPMN quá lớn (%(size)s byte; tối đa %(max)s)",
    "draft_not_found": "thủ tục '%(code)s' không có bản nháp",
    "diff_xml_broken": "không so sánh được: XML hỏng (%(error)s)",
    "forms_json_object": "forms phải là một đối tượng JSON: tên biểu mẫu -> lược đồ form-js",
    "form_name_invalid": "tên biểu mẫu '%(name)s' không hợp lệ (chữ thường không dấu, chữ số, '_')",
    "form_not_formjs": "biểu mẫu '%(name)s' không phải lược đồ form-js (cần danh sách components)",
    "draft_not_utf8": "bản nháp phải là văn bản UTF-8",
    "draft_saved_meanwhile": "bản nháp của thủ tục '%(code)s' vừa được %(who)s lưu; hãy tải lại trình thiết kế",
    "draft_discarded_meanwhile": "bản nháp của thủ tục '%(code)s' vừa bị bỏ; hãy tải lại trình thiết kế",
    "draft_deployed_meanwhile": (
        "bản nháp của thủ tục '%(code)s' vừa được %(who)s triển khai thành phiên bản %(version)s; hãy tải lại trình "
        "thiết kế"
    ),
    "process_id_not_procedure_code": (
        "mã quy trình '%(code)s' không dùng được làm mã thủ tục; hãy chỉ định ?procedure=MÃ"
    ),
    "levels_required": "chọn ít nhất một cấp xử lý",
    "levels_unknown": "cấp không tồn tại: %(levels)s",
    "design_procedure_missing": "thủ tục '%(code)s' không tồn tại",
    "procedure_version_not_found": "thủ tục '%(code)s' không có phiên bản %(version)s",
    "step_already_done": "Bước «%(step)s» đã được %(who)s hoàn thành lúc %(at)s",
    "step_already_done_system": "Bước «%(step)s» đã được hệ thống hoàn thành lúc %(at)s",
    "step_claimed_by": "Bước «%(step)s» đang do %(holder)s nhận xử lý",
    "case_message_refused": "hồ sơ %(code)s: %(error)s",
    "diagram_failed_after_step": "Quy trình gặp lỗi sau bước «%(step)s»: %(detail)s",
    "diagram_failed_after_step_at": "Quy trình gặp lỗi sau bước «%(step)s» tại phần tử %(element)s: %(detail)s",
    "diagram_timer_failed": "Hẹn giờ của quy trình gặp lỗi: %(detail)s",
    "diagram_timer_failed_at": "Hẹn giờ của quy trình gặp lỗi tại phần tử %(element)s: %(detail)s",
    "diagram_message_failed": "Quy trình gặp lỗi khi nhận thư liên thông: %(detail)s",
    "diagram_message_failed_at": "Quy trình gặp lỗi khi nhận thư liên thông tại phần tử %(element)s: %(detail)s",
    "diagram_start_failed": "Quy trình «%(name)s» không khởi động được: %(detail)s",
    "diagram_start_failed_at": "Quy trình «%(name)s» không khởi động được tại phần tử %(element)s: %(detail)s",
    "route_unit_not_below": "đơn vị '%(chosen)s' ghi trong unit_%(level)s không thuộc cấp '%(level)s' trực thuộc"
                            " %(unit)s",
    "route_no_unit": "không có đơn vị %(label)s trên tuyến của %(unit)s (%(unit_code)s); thêm đơn vị bằng `motcua org"
                     " add` hoặc sửa làn trong quy trình",
    "route_several_units": "có %(count)s đơn vị %(label)s trực thuộc %(unit)s; dữ liệu hồ sơ phải chỉ rõ một đơn vị"
                           " trong 'unit_%(level)s'",
}
