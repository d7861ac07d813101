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
            "/api/v1/public/cases/{code}": {"get": {
                "summary": "Public status of a case: status and due date only, no personal data",
                "parameters": code_param,
                "responses": {"200": _json({"type": "object"}, "status"), "404": ERRORS["404"]}}},
        },
    }
