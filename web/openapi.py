"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {str(code): _json(_ref("Error"), text) for code, text in
          [(401, "missing or unknown token"), (403, "not your task"), (404, "not found or outside your unit"),
           (409, "already completed, with who completed it"), (422, "invalid data")]}


def document() -> dict:
    applicant = {"type": "object", "required": ["name"], "properties": {
        k: {"type": "string"} for k in ("name", "id_number", "address", "phone", "email")}}
    task = {"type": "object", "properties": {
        "id": {"type": "integer"}, "case_code": {"type": "string"}, "name": {"type": "string"},
        "unit": {"type": "string"}, "role": {"type": "string"}, "level": {"type": "string"},
        "due_at": {"type": ["string", "null"], "format": "date-time"}, "state": {"type": "string"},
        "form": {"type": ["string", "null"]}}}
    case = {"type": "object", "properties": {
        "code": {"type": "string"}, "status": {"type": "string"}, "status_code": {"type": "integer"},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "tasks": {"type": "array", "items": _ref("Task")},
        "events": {"type": "array", "items": {"type": "object"}}}}
    code_param = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua API", "version": "1",
                 "description": "Administrative procedures (thủ tục hành chính) through the one-stop desk."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}, "details": {}}},
                "Task": task, "Case": case, "Applicant": applicant},
        },
        "paths": {
            "/api/v1/procedures": {"get": {"summary": "The procedure catalog", "security": secured,
                                           "responses": {"200": _json({"type": "array"}, "procedures"), **ERRORS}}},
            "/api/v1/cases": {"post": {
                "summary": "Receive a dossier (tiếp nhận): the caller's unit is the receiving unit",
                "security": secured,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["procedure", "applicant"], "properties": {
                        "procedure": {"type": "string"}, "applicant": _ref("Applicant"), "data": {"type": "object"},
                        "channel": {"enum": ["desk", "post", "online"]},
                        "received_at": {"type": "string", "format": "date-time"}}}}}},
                "responses": {"201": _json(_ref("Case"), "the new case"), **ERRORS}}},
            "/api/v1/cases/{code}": {"get": {"summary": "A case with its open tasks and events", "security": secured,
                                             "parameters": code_param,
                                             "responses": {"200": _json(_ref("Case"), "the case"), **ERRORS}}},
            "/api/v1/tasks": {"get": {
                "summary": "My inbox (unit and roles), by due date, keyset-paginated", "security": secured,
                "parameters": [{"name": "after", "in": "query", "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "procedure", "in": "query", "schema": {"type": "string"}},
                               {"name": "claimed", "in": "query", "schema": {"enum": ["me", "none"]}},
                               {"name": "state", "in": "query",
                                "schema": {"enum": ["overdue", "due_soon", "in_time"]}}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Task")}, "next": {"type": ["string", "null"]}}},
                    "a page"), **ERRORS}}},
            "/api/v1/tasks/{id}/complete": {"post": {
                "summary": "Complete a task with its form data", "security": secured, "parameters": id_param,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"data": {"type": "object"}}}}}},
                "responses": {"200": _json({"type": "object"}, "where the case went next"), **ERRORS}}},
            "/api/v1/tasks/{id}/claim": {"post": {"summary": "Claim a task", "security": secured,
                                                  "parameters": id_param,
                                                  "responses": {"200": _json(_ref("Task"), "claimed"), **ERRORS}}},
            "/api/v1/tasks/{id}/unclaim": {"post": {"summary": "Release a task", "security": secured,
                                                    "parameters": id_param,
                                                    "responses": {"200": _json(_ref("Task"), "released"),
                                                                  **ERRORS}}},
            **_time_paths(code_param, secured),
            **_designer_paths(secured),
            **_report_paths(secured),
            **_incident_paths(code_param, secured),
                        "/api/v1/public/cases/{code}": {"post": {
                "summary": "Public status of a case for its code and lookup secret: status and due date only, no "
                           "personal data. Wrong secrets share one allowance per client with the public pages.",
                "parameters": code_param,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["secret"], "properties": {
                        "secret": {"type": "string", "maxLength": 16}}}}}},
                "responses": {"200": _json({"type": "object"}, "status"), "404": ERRORS["404"],
                              "422": ERRORS["422"],
                              "429": _json(_ref("Error"), "too many wrong secrets from this client; Retry-After")}}},
        },
    }


def _q(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "schema": schema or {"type": "string"}}


def _time_paths(code_param: list, secured: list) -> dict:
    day = [{"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}]
    nid = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "/api/v1/cases/{code}/apology": {"post": {
            "summary": "Apology and new appointment — Mẫu 04 (once per case, from one working day before due)",
            "security": secured, "parameters": code_param,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason", "new_due_at"], "properties": {
                    "reason": {"type": "string"}, "new_due_at": {"type": "string", "format": "date-time"}}}}}},
            "responses": {"201": _json({"type": "object"}, "the new appointment"), **ERRORS}}},
        "/api/v1/notifications": {"get": {"summary": "My notifications", "security": secured,
                                          "responses": {"200": _json({"type": "array"}, "notifications"), **ERRORS}}},
        "/api/v1/notifications/{id}/read": {"post": {"summary": "Mark a notification read", "security": secured,
                                                     "parameters": nid,
                                                     "responses": {"200": _json({"type": "object"}, "read"),
                                                                   **ERRORS}}},
        "/api/v1/calendar/overrides": {"get": {"summary": "Working-day overrides", "security": secured,
                                               "responses": {"200": _json({"type": "array"}, "overrides"),
                                                             **ERRORS}}},
        "/api/v1/calendar/overrides/{day}": {
            "put": {"summary": "Make a date a day off or a working day (admin)", "security": secured,
                    "parameters": day,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["working"], "properties": {
                            "working": {"type": "boolean"}, "note": {"type": "string"}}}}}},
                    "responses": {"200": _json({"type": "object"}, "the override"), **ERRORS}},
            "delete": {"summary": "Remove an override (admin)", "security": secured, "parameters": day,
                       "responses": {"200": _json({"type": "object"}, "removed"), **ERRORS}}},
    }


def _designer_paths(secured: list) -> dict:
    proc = [{"name": "procedure", "in": "path", "required": True, "schema": {"type": "string"}}]
    xml = {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}
    return {
        "/api/v1/processes/validate": {"post": {
            "summary": "Validate BPMN XML (designer): {valid, problems:[{line, element_id, message}]}",
            "security": secured, "requestBody": xml,
            "responses": {"200": _json({"type": "object"}, "the validation"), **ERRORS}}},
        "/api/v1/processes": {"post": {
            "summary": "Deploy BPMN XML as a new version (designer)", "security": secured, "requestBody": xml,
            "parameters": [_q("procedure")],
            "responses": {"201": _json({"type": "object"}, "the version"), **ERRORS}}},
        "/api/v1/processes/{procedure}/versions": {"get": {
            "summary": "Versions of a procedure", "security": secured, "parameters": proc,
            "responses": {"200": _json({"type": "array"}, "versions"), **ERRORS}}},
        "/api/v1/processes/{procedure}/versions/{n}/bpmn": {"get": {
            "summary": "The BPMN of one version", "security": secured,
            "parameters": proc + [{"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "BPMN XML", "content": {"application/xml": {}}}, **ERRORS}}},
    }


def _report_paths(secured: list) -> dict:
    period = [_q("from", {"type": "string", "format": "date"}), _q("to", {"type": "string", "format": "date"}),
              _q("unit"), _q("field"), _q("level")]
    return {
        "/api/v1/reports/summary": {"get": {
            "summary": "The standard report figures for the caller's subtree (head, leader, admin)",
            "security": secured, "parameters": period,
            "responses": {"200": _json({"type": "object"}, "figures"), **ERRORS}}},
        "/api/v1/reports/table": {"get": {
            "summary": "The figures per unit, field, level or procedure", "security": secured,
            "parameters": period + [_q("group", {"enum": ["unit", "field", "level", "procedure"]})],
            "responses": {"200": _json({"type": "array"}, "rows"), **ERRORS}}},
        "/api/v1/reports/cases": {"get": {
            "summary": "The cases behind one figure", "security": secured,
            "parameters": period + [_q("figure"), _q("page", {"type": "integer"})],
            "responses": {"200": _json({"type": "object"}, "a page of cases"), **ERRORS}}},
    }


def _incident_paths(code_param: list, secured: list) -> dict:
    incident = {"type": "object", "properties": {
        "code": {"type": "string"}, "procedure": {"type": "string"}, "receiving_unit": {"type": "string"},
        "status": {"type": "string"}, "kind": {"enum": ["routing", "script"]}, "error": {"type": "string"},
        "since": {"type": ["string", "null"], "format": "date-time"}, "open_steps": {"type": "integer"}}}
    return {
        "/api/v1/incidents": {"get": {
            "summary": "Cases stuck on a routing error or a failing script (admin)", "security": secured,
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": _json({"type": "object", "properties": {
                "items": {"type": "array", "items": incident}}}, "the stuck cases, oldest first"), **ERRORS}}},
        "/api/v1/cases/{code}/retry": {"post": {
            "summary": "Retry a stuck case after its cause was fixed (admin); 409 names what is still wrong",
            "security": secured, "parameters": code_param,
            "responses": {"200": _json({"type": "object", "properties": {
                "case": _ref("Case"), "new_tasks": {"type": "array", "items": _ref("Task")}}},
                "the case and the steps routed now"), **ERRORS}}},
    }
