"""Vietnamese text folded for search: lower case, no diacritics, đ → d, single spaces. "Trần Thị" and
"tran thi" fold to the same text, so a clerk typing without diacritics finds the dossier.

One function for the stored column (engine.models keeps `cases.search_text` folded on every write) and for
the words searched (engine.search), on both backends: PostgreSQL's unaccent is not used, so the two sides
can never fold differently."""

from __future__ import annotations

import unicodedata

# Letters NFD does not decompose into a base letter and a combining mark.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o"})


def fold(text: str | None) -> str:
    """Lower case without diacritics, whitespace collapsed: fold("  Trần  Thị Đào ") == "tran thi dao"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).translate(_EXTRA))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def case_search_text(code: str | None, applicant_name: str | None, id_number: str | None,
                     procedure_name: str | None = None) -> str:
    """What a case is found by — its code, the applicant's name and ID number, its procedure's name — folded
    into one column (the procedure's name as it was when the case was received)."""
    parts = (fold(code), fold(applicant_name), fold(id_number), fold(procedure_name))
    return " ".join(part for part in parts if part)
