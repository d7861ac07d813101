"""Scripts, gateway conditions and timer expressions in diagrams run here, through RestrictedPython.

SpiffWorkflow's default script engine is plain exec/eval with full builtins; a diagram is uploaded by
a process designer, not a developer, so nothing from it may reach imports, files or dunder attributes.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any

from RestrictedPython import (
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_globals,
    utility_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

_EXTRA_BUILTINS = ("dict", "sorted", "enumerate", "zip", "sum", "min", "max", "any", "all", "list", "map",
                   "filter")
_INPLACE = {"+=": "__add__", "-=": "__sub__", "*=": "__mul__", "/=": "__truediv__"}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"operator {op} is not allowed in diagrams")
    return getattr(x, _INPLACE[op])(y)


def _base_globals() -> dict[str, Any]:
    g = dict(safe_globals)
    extra = {k: getattr(builtins, k) for k in _EXTRA_BUILTINS}
    g["__builtins__"] = {**safe_globals["__builtins__"], **limited_builtins, **utility_builtins, **extra}
    g.update(_getattr_=safer_getattr, _getitem_=default_guarded_getitem, _getiter_=default_guarded_getiter,
             _iter_unpack_sequence_=guarded_iter_unpack_sequence, _write_=full_write_guard,
             _inplacevar_=_inplacevar)
    return g


def compile_check(source: str, mode: str) -> str | None:
    """The error a snippet would raise in the sandbox (mode 'exec' or 'eval'), or None when it compiles."""
    result = (compile_restricted_exec if mode == "exec" else compile_restricted_eval)(source)
    if result.errors:
        return "; ".join(result.errors)
    return None


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose exec/eval compile through RestrictedPython (compiled code is cached)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        g = _base_globals()
        g.update(functions or {})
        super().__init__(g)
        self._cache: dict[tuple[str, str], Any] = {}

    def _compile(self, source: str, mode: str) -> Any:
        key = (source, mode)
        code = self._cache.get(key)
        if code is None:
            result = (compile_restricted_exec if mode == "exec" else compile_restricted_eval)(source)
            if result.errors:
                err = SyntaxError("; ".join(result.errors))
                err.lineno = 1  # PythonScriptEngine's error handler needs a line number
                raise err
            code = self._cache[key] = result.code
        return code

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return super().evaluate(self._compile(expression, "eval"), context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> Any:
        return super().execute(self._compile(script, "exec"), context, external_context)


def make_script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A Spiff script engine exposing only `functions` (e.g. add_working_days) besides safe builtins."""
    return PythonScriptEngine(environment=RestrictedEnvironment(functions))
