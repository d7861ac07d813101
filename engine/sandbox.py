"""Scripts, gateway conditions and timer expressions in diagrams run here, through RestrictedPython.

SpiffWorkflow's default script engine is plain exec/eval with full builtins; a diagram is uploaded by
a process designer, not a developer, so nothing from it may reach imports, files or dunder attributes,
and every run is bounded in CPU time and memory (engine/budget.py).
"""

from __future__ import annotations

import builtins
import math
import random
from collections.abc import Callable, Mapping
from types import CodeType
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

from engine import budget
from engine.budget import Budget, BudgetPolicy

_EXTRA_BUILTINS = ("dict", "sorted", "enumerate", "zip", "sum", "min", "max", "any", "all", "list", "map",
                   "filter")
_INPLACE = {"+=": "__add__", "-=": "__sub__", "*=": "__mul__", "/=": "__truediv__"}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"operator {op} is not allowed in diagrams")
    if op == "+=":
        return budget.guarded_add(x, y)
    if op == "*=":
        return budget.guarded_mul(x, y)
    return getattr(x, _INPLACE[op])(y)


def _module(mod: Any, names: tuple[str, ...], **guarded: Any) -> Any:
    """A stand-in module with only the listed functions; those that can run long in one C call are
    replaced (the real modules are reachable from RestrictedPython's utility builtins otherwise)."""
    from types import SimpleNamespace

    return SimpleNamespace(**{n: getattr(mod, n) for n in names}, **guarded)


def _bounded_int_fn(fn: Any, limit: int) -> Any:
    def call(*args: Any) -> Any:
        if any(isinstance(a, int) and a > limit for a in args):
            raise budget.BudgetExceeded(f"mã lệnh bị dừng: đối số của {fn.__name__} lớn hơn {limit:,}")
        return fn(*args)
    return call


_MATH = _module(math, ("ceil", "floor", "trunc", "fabs", "sqrt", "exp", "log", "log10", "log2", "pow", "isclose",
                       "isfinite", "isinf", "isnan", "pi", "e", "inf", "nan", "gcd", "fsum", "copysign", "fmod",
                       "modf", "sin", "cos", "tan", "hypot", "isqrt", "lcm", "prod", "dist", "radians", "degrees"),
                factorial=_bounded_int_fn(math.factorial, 10_000), comb=_bounded_int_fn(math.comb, 10_000),
                perm=_bounded_int_fn(math.perm, 10_000))
_RANDOM = _module(random, ("random", "randint", "randrange", "choice", "uniform", "shuffle", "sample"))


def _base_globals() -> dict[str, Any]:
    g = dict(safe_globals)
    extra = {k: getattr(builtins, k) for k in _EXTRA_BUILTINS}
    g["__builtins__"] = {**safe_globals["__builtins__"], **limited_builtins, **utility_builtins, **extra,
                         "pow": budget.guarded_pow, "sum": budget.guarded_sum, "math": _MATH, "random": _RANDOM}
    g.update(_getattr_=budget.guard_getattr(safer_getattr), _getitem_=default_guarded_getitem,
             _getiter_=default_guarded_getiter, _iter_unpack_sequence_=guarded_iter_unpack_sequence,
             _write_=full_write_guard, _inplacevar_=_inplacevar, **budget.GUARDS)
    return g


def _restricted(source: str, mode: str) -> Any:
    compile_fn = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    return compile_fn(source, policy=BudgetPolicy)


def compile_check(source: str, mode: str) -> str | None:
    """The error a snippet would raise in the sandbox (mode 'exec' or 'eval'), or None when it compiles."""
    result = _restricted(source, mode)
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

    def _compile(self, source: str, mode: str) -> tuple[Any, bool]:
        """The compiled code and whether it can loop (it calls `_tick_`); cached per source."""
        key = (source, mode)
        entry = self._cache.get(key)
        if entry is None:
            result = _restricted(source, mode)
            if result.errors:
                err = SyntaxError("; ".join(result.errors))
                err.lineno = 1  # PythonScriptEngine's error handler needs a line number
                raise err
            entry = self._cache[key] = (result.code, _calls_tick(result.code))
        return entry

    # Code that can loop gets its own Budget, handed to it as `_tick_` in its globals (no state shared
    # between threads running the same compiled script). Straight-line code, such as nearly every
    # condition and timer expression, cannot run long except through one big operation, which the
    # guarded operators refuse; it skips the CPU clock, which costs more than the expression itself.
    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return self._run(super().evaluate, expression, "eval", context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> Any:
        return self._run(super().execute, script, "exec", context, external_context)

    def _run(self, run_code: Callable[..., Any], source: str, mode: str, context: dict,
             external_context: dict | None) -> Any:
        code, loops = self._compile(source, mode)
        budget.check_step()
        if not loops:
            return run_code(code, context, external_context)
        run = Budget()
        result = run_code(code, context, {**(external_context or {}), "_tick_": run.tick})
        run.finish()
        return result


def _calls_tick(code: CodeType) -> bool:
    return "_tick_" in code.co_names or any(isinstance(c, CodeType) and _calls_tick(c) for c in code.co_consts)


def make_script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A Spiff script engine exposing only `functions` (e.g. add_working_days) besides safe builtins."""
    return PythonScriptEngine(environment=RestrictedEnvironment(functions))
