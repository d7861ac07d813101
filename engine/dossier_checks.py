"""What makes a dossier receivable, checked the same way at the desk, through the API and online
(NĐ 61/2018 Điều 17; NĐ 118/2025): the applicant's fields and the procedure's required documents
(thành phần hồ sơ in processes/<code>.toml).

- Số định danh cá nhân / CCCD: exactly 12 digits (spaces between groups are dropped).
- Phone: a Vietnamese mobile (10 digits, 03/05/07/08/09…) or landline (11 digits, 02…); +84, 84 and 0084
  forms and separators (space . - parentheses) are normalised to the national form 0xxxxxxxxx.
- E-mail: one address, syntactically valid (an address the notices can be sent to).
- Online, at least a phone or an e-mail: the desk must be able to reach an applicant it never saw.
- Every required document is provided (ticked at the desk, a scan attached online or at the desk).

Every problem is added to the caller's inputs.Checker, so one answer (422) names every field at once. The
messages below are Vietnamese literals; web/dossier_words.py holds the same literals for the catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine import inputs
from engine.models import Case

APPLICANT_FIELDS = ("name", "id_number", "address", "phone", "email")
APPLICANT_COLUMNS = {"name": Case.applicant_name, "id_number": Case.applicant_id_number,
                     "address": Case.applicant_address, "phone": Case.applicant_phone,
                     "email": Case.applicant_email}

# What the applicant reads next to the field (Vietnamese; English through the catalogs).
REQUIRED = "bắt buộc nhập"  # inputs.Checker's own word for an empty required text
ID_NUMBER = "Số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số"
PHONE = ("Số điện thoại không đúng: di động 10 chữ số bắt đầu bằng 03, 05, 07, 08, 09; "
         "cố định 11 chữ số bắt đầu bằng 02 (có thể viết +84)")
EMAIL = "Thư điện tử không đúng định dạng (ví dụ: ten@example.vn)"
CONTACT = "Cần số điện thoại hoặc thư điện tử để Bộ phận Một cửa liên hệ"
DOCUMENT_MISSING = "Thiếu giấy tờ bắt buộc này"
NO_DOCUMENT = "Hãy tải lên ít nhất một giấy tờ"
MESSAGES = (REQUIRED, ID_NUMBER, PHONE, EMAIL, CONTACT, DOCUMENT_MISSING, NO_DOCUMENT)

ID_DIGITS = 12
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
_SEPARATORS = re.compile(r"[\s.\-()]")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")


def id_number(value: str) -> str | None:
    """The CCCD number without spaces, or None when it is not exactly 12 digits."""
    digits = re.sub(r"\s", "", value)
    return digits if len(digits) == ID_DIGITS and digits.isascii() and digits.isdigit() else None


def phone(value: str) -> str | None:
    """The number in its national form (0 + 9 or 10 digits), or None when it is not a Vietnamese mobile
    or landline number."""
    number = _SEPARATORS.sub("", value)
    for international in ("+84", "0084", "84"):
        # 84 without + is only the country code when what follows is a whole number without its 0.
        if number.startswith(international) and len(number) - len(international) in (9, 10):
            number = "0" + number[len(international):]
            break
    if not (number.isascii() and number.isdigit()):
        return None
    if len(number) == 10 and number.startswith(MOBILE_PREFIXES):
        return number
    if len(number) == 11 and number.startswith("02"):
        return number
    return None


def email(value: str) -> str | None:
    """The address as typed (trimmed), or None when it is not one valid address."""
    address = value.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address) or len(address.split("@")[0]) > 64:
        return None
    return address


def applicant_fields(check: inputs.Checker, applicant: Any, prefix: str = "applicant.", *,
                     contact_required: bool = False) -> dict[str, str]:
    """The applicant's fields: each within its column, the name given, CCCD, phone and e-mail well-formed
    (phone normalised); with `contact_required` (online) a phone or an e-mail. Problems go to `check` as
    `<prefix><field>`; the values come back cleaned (a refused value as typed, so a form can show it)."""
    if not isinstance(applicant, Mapping):
        applicant = {}
    who = {k: check.text(f"{prefix}{k}", applicant.get(k), APPLICANT_COLUMNS[k], required=k == "name")
           for k in APPLICANT_FIELDS}
    formats = (("id_number", id_number, ID_NUMBER), ("phone", phone, PHONE), ("email", email, EMAIL))
    for field, clean, message in formats:
        if who[field] and f"{prefix}{field}" not in check.details:
            good = clean(who[field])
            if good is None:
                check.add(f"{prefix}{field}", message)
            else:
                who[field] = good
    if contact_required and not who["phone"] and not who["email"] \
            and f"{prefix}phone" not in check.details and f"{prefix}email" not in check.details:
        check.add(f"{prefix}phone", CONTACT)
    return who


def missing_documents(documents: Iterable[Mapping], provided: Iterable[str | None]) -> list[Mapping]:
    """The procedure's required documents (required unless marked otherwise) not among `provided` codes."""
    have = {str(c) for c in provided if c}
    return [d for d in documents if d.get("required", True) and str(d.get("code")) not in have]


def check_documents(check: inputs.Checker, documents: Iterable[Mapping], provided: Iterable[str | None],
                    prefix: str = "documents.", *, at_least_one: bool = False) -> list[str]:
    """One problem per required document not provided, as `<prefix><code>`; with `at_least_one` (online)
    a dossier of a procedure without required documents still needs one. Returns the missing names."""
    provided = list(provided)
    missing = missing_documents(documents, provided)
    for d in missing:
        check.add(f"{prefix}{d.get('code')}", DOCUMENT_MISSING)
    if at_least_one and not missing and not provided:
        check.add(prefix.rstrip("."), NO_DOCUMENT)
    return [str(d.get("name") or d.get("code")) for d in missing]
