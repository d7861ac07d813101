"""`_()` returns Markup in templates: a name from the database passed through it is never escaped (a process
named `<img onerror=…>` ran script in a head's browser). Translation calls take literal msgids only; data is
rendered escaped and fixed words are looked up by code in tables of literal msgids (web/labels.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import jinja2
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[2]
GETTEXT = {"_", "gettext", "ngettext", "lazy_gettext", "lazy_ngettext", "pgettext", "npgettext", "lazy_pgettext"}
# How many leading arguments are msgids (context and plural forms included).
LITERAL_ARGS = {"ngettext": 2, "lazy_ngettext": 2, "pgettext": 2, "npgettext": 3, "lazy_pgettext": 2}


def _template_files() -> list[Path]:
    return sorted([*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "slips").rglob("*.html")])


def _python_files() -> list[Path]:
    return sorted(p for d in ("engine", "web") for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts)


def template_violations(source: str, name: str) -> list[str]:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"])
    tree = env.parse(source, name=name)
    out = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT:
            need = LITERAL_ARGS.get(call.node.name, 1)
            args = call.args[:need]
            if len(args) < need or not all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in args):
                out.append(f"{name}:{call.lineno}: {call.node.name}() on a non-literal")
    return out


def python_violations(source: str, name: str) -> list[str]:
    tree = ast.parse(source, filename=name)
    # Names bound to a gettext function in this module (`from flask_babel import lazy_gettext as _l`).
    aliases = {a.asname or a.name: a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               and (n.module or "").startswith(("flask_babel", "gettext", "babel")) for a in n.names
               if a.name in GETTEXT}
    known = {**{g: g for g in GETTEXT}, **aliases}
    out = []
    calls = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in known:
            fname, shown = known[func.id], func.id
        elif isinstance(func, ast.Attribute) and func.attr in GETTEXT and isinstance(func.value, ast.Name) \
                and func.value.id in {"flask_babel", "gettext", "babel"}:
            fname = shown = func.attr
        else:
            continue
        calls.add(id(func))
        need = LITERAL_ARGS.get(fname, 1)
        args = node.args[:need]
        if len(args) < need or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            out.append(f"{name}:{node.lineno}: {shown}() on a non-literal")
    # Handing the gettext function to other code (`translate=_`) escapes this check: refuse it too.
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in aliases and isinstance(node.ctx, ast.Load) \
                and id(node) not in calls:
            out.append(f"{name}:{node.lineno}: {node.id} passed as a value (translate only literals)")
    return out


def test_templates_translate_only_literal_msgids() -> None:
    found = [v for p in _template_files()
             for v in template_violations(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "translation of data (render it escaped, or look it up in web/labels.py):\n" + "\n".join(found)


def test_python_translates_only_literal_msgids() -> None:
    found = [v for p in _python_files()
             for v in python_violations(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "translation of data (use a table of literal msgids):\n" + "\n".join(found)


def test_the_scanner_catches_each_form() -> None:
    """The checks above would pass vacuously if the scanner missed a form; each bad form is named with its line."""
    assert template_violations("{{ _('Hộp') }}\n{{ _(r.label) }}", "t.html") == ["t.html:2: _() on a non-literal"]
    assert template_violations("{{ ngettext('a', x, n) }}", "t.html") == ["t.html:1: ngettext() on a non-literal"]
    src = ("from flask_babel import gettext as _\n_('ok')\n_(title)\n_('a' + b)\nf(translate=_)\n"
           "import flask_babel\nflask_babel.lazy_gettext(name)\nfrom flask_babel import lazy_gettext as _l\n_l(x)\n")
    assert python_violations(src, "m.py") == ["m.py:3: _() on a non-literal", "m.py:4: _() on a non-literal",
                                              "m.py:7: lazy_gettext() on a non-literal",
                                              "m.py:9: _l() on a non-literal",
                                              "m.py:5: _ passed as a value (translate only literals)"]


def test_fixed_word_tables_match_the_engine() -> None:
    """web/labels.py repeats the engine's fixed words as literals; a word changed on one side only would show
    officials two names for one status."""
    from engine import ledger, public, reports, status
    from web import labels

    def vi(table: dict) -> dict:
        return {k: labels.msgid(v) for k, v in table.items()}

    assert vi(labels.STATUS) == status.STATUS
    assert vi(labels.FIGURES) == reports.LABELS
    assert vi(labels.CRITERIA) == dict(reports.CRITERIA)
    assert vi(labels.ONLINE) == public.ONLINE_LABELS
    assert vi(labels.REPORT_TIMING) == reports.TIMING_LABELS
    export = {labels.msgid(w) for w in labels.EXPORT_WORDS}
    assert set(ledger.HEADERS) <= export


def test_excel_translation_leaves_data_alone(tmp_path: Path) -> None:
    from engine.config import load_settings
    from web import create_app, labels

    app = create_app(load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", instance_path=tmp_path))
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = "en"
        assert labels.fixed_word("Tổng cộng") != "Tổng cộng"  # a listed fixed word is translated
        assert labels.fixed_word("<b>UBND xã</b>") == "<b>UBND xã</b>"  # data comes back as it came


def test_every_template_folder_is_scanned() -> None:
    """The scan covers the shipped slip sets in sub-folders (slips/tt03-2025/) as well as the pages."""
    names = {str(p.relative_to(ROOT)) for p in _template_files()}
    assert {"web/templates/base.html", "slips/01.html", "slips/tt03-2025/01.html"} <= names
