"""CPU and memory budget for diagram code: scripts, gateway conditions and timer expressions.

RestrictedPython stops escapes, not loops: `while True: pass`, `'a' * 300_000_000` and `10 ** 10 ** 8`
ran unbounded, and on SQLite the case's transaction holds the write lock meanwhile, so every unit waits.
Two mechanisms, both added at compile time by `BudgetPolicy` (the compiled code is cached, so the AST
work is paid once per distinct script):

- a tick (`_tick_()`) at every loop iteration (while/for bodies, comprehension clauses) and function
  entry. It reads the monotonic clock (a vDSO call, ~50 ns) and only when a slice has passed reads the
  thread's CPU time and the process's resident memory, so the common path stays cheap;
- the operators that make big objects from small ones in ONE C call, which no tick can interrupt
  (`*`, `**`, `<<`, `+`, `%`, `pow`, format widths, str.join/replace/ljust…), go through guards that
  refuse a result estimated above the memory budget, or an integer too large to compute in time.
"""

from __future__ import annotations

import ast
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer


@dataclass(frozen=True)
class Limits:
    cpu_ms: int = 200
    memory_mb: int = 64

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024


_limits = Limits()
# A single C-level big-integer operation cannot be interrupted; 2**18 bits (~79,000 digits) multiplies in
# about 10 ms here, far beyond any fee or count an administrative procedure computes.
MAX_INT_BITS = 1 << 18
# The whole automatic part of one step (all its scripts and conditions, and Spiff between them) may use
# this many script budgets: it stops a diagram whose script tasks loop among themselves.
RUN_FACTOR = 5
_SLICE = 0.005  # seconds of wall time between two real checks of CPU time and memory


def configure(cpu_ms: int, memory_mb: int) -> None:
    """Budget from settings (MOTCUA_SCRIPT_CPU_MS, MOTCUA_SCRIPT_MEMORY_MB); applied at start-up."""
    global _limits
    if cpu_ms <= 0 or memory_mb <= 0:
        raise ValueError("script budget must be positive")
    _limits = Limits(int(cpu_ms), int(memory_mb))


def limits() -> Limits:
    return _limits


class BudgetExceeded(Exception):  # noqa: N818 — the name says what happened to the script
    """Diagram code ran out of its CPU or memory budget; the message is for the process designer."""


def _cpu_message() -> str:
    return f"mã lệnh bị dừng vì vượt quá giới hạn {_limits.cpu_ms} ms CPU (vòng lặp không dừng hoặc tính toán quá nặng)"


def _memory_message(estimate: int | None = None) -> str:
    what = f" (cần khoảng {-(-estimate // (1024 * 1024))} MB)" if estimate else ""
    return f"mã lệnh bị dừng vì vượt quá giới hạn bộ nhớ {_limits.memory_mb} MB{what}"


_monotonic, _thread_time = time.monotonic, time.thread_time
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int | None:
    """Resident memory of the process (Linux); None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class Budget:
    """One run of one script or expression. `tick` is what the compiled code calls."""

    __slots__ = ("cpu_base", "next_check", "rss_base", "exceeded")

    def __init__(self) -> None:
        # The thread's CPU clock is read once here (a system call, ~0.3 µs) so that time spent waiting for
        # the GIL or the processor never counts against the script.
        self.cpu_base = _thread_time()
        self.next_check = _monotonic() + _SLICE
        self.rss_base: int | None = None
        self.exceeded: str | None = None

    def tick(self) -> bool:
        if _monotonic() > self.next_check:
            self._check()
        return True

    def _check(self) -> None:
        now = _monotonic()
        if self.rss_base is None:
            self.rss_base = _rss()  # read when the script has run a slice: short scripts never pay for it
        limit = _limits.cpu_ms / 1000
        used = _thread_time() - self.cpu_base
        if used > limit:
            self.fail(_cpu_message())
        rss = _rss()
        if rss is not None and self.rss_base is not None and rss - self.rss_base > _limits.memory_bytes:
            self.fail(_memory_message(rss - self.rss_base))
        self.next_check = now + min(_SLICE, max(limit - used, 0.0005))

    def fail(self, message: str) -> None:
        self.exceeded = message
        raise BudgetExceeded(message)

    def finish(self) -> None:
        """After the code returned: a script that swallowed the error with `except:` still failed."""
        if self.exceeded:
            raise BudgetExceeded(self.exceeded)


# --- the whole step ------------------------------------------------------------------------------

_run = threading.local()


@contextmanager
def step_budget() -> Iterator[None]:
    """Bound the automatic part of one step (Spiff's engine steps with every script in them)."""
    outer = getattr(_run, "started", None)
    if outer is None:
        _run.started, _run.cpu = _monotonic(), _thread_time()
    try:
        yield
    finally:
        if outer is None:
            _run.started = None


def check_step() -> None:
    """Called as each script or expression starts; cheap until the step has run for a while."""
    started = getattr(_run, "started", None)
    if started is None:
        return
    limit = _limits.cpu_ms * RUN_FACTOR / 1000
    if _monotonic() - started > limit and _thread_time() - _run.cpu > limit:
        raise BudgetExceeded(f"quy trình bị dừng vì phần tự động của bước vượt quá {_limits.cpu_ms * RUN_FACTOR} ms "
                             "CPU (các bước tự động lặp lại không dừng)")


# --- guarded operators -----------------------------------------------------------------------------

_SEQ = (str, bytes, bytearray, list, tuple)


def _item_bytes(seq: Any) -> int:
    if isinstance(seq, str):
        return 1 if seq.isascii() else 4
    return 1 if isinstance(seq, (bytes, bytearray)) else 8


def _refuse_size(count: int, seq: Any) -> None:
    estimate = count * _item_bytes(seq)
    if estimate > _limits.memory_bytes:
        raise BudgetExceeded(_memory_message(estimate))


def _refuse_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise BudgetExceeded(f"mã lệnh bị dừng: kết quả là số nguyên quá lớn (khoảng {bits:,} bit, tối đa "
                             f"{MAX_INT_BITS:,} bit)")


def _is_int(x: Any) -> bool:
    return isinstance(x, int)  # bool included: True * 'a' is 'a'


def guarded_mul(a: Any, b: Any) -> Any:
    if _is_int(a) and _is_int(b):
        _refuse_bits(a.bit_length() + b.bit_length())
    elif isinstance(a, _SEQ) and _is_int(b):
        _refuse_size(len(a) * max(b, 0), a)
    elif isinstance(b, _SEQ) and _is_int(a):
        _refuse_size(len(b) * max(a, 0), b)
    return a * b


def guarded_pow(a: Any, b: Any, mod: Any = None) -> Any:
    if mod is not None:
        if _is_int(b) and _is_int(mod) and b.bit_length() * max(mod.bit_length(), 1) > MAX_INT_BITS:
            _refuse_bits(b.bit_length() * mod.bit_length())
        return pow(a, b, mod)
    if _is_int(a) and _is_int(b) and b > 0 and a not in (0, 1, -1):
        _refuse_bits(a.bit_length() * b)
    return a ** b


def guarded_lshift(a: Any, b: Any) -> Any:
    if _is_int(a) and _is_int(b) and a:
        _refuse_bits(a.bit_length() + max(b, 0))
    return a << b


def guarded_add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQ) and isinstance(b, _SEQ):
        _refuse_size(len(a) + len(b), a)
    return a + b


_PRINTF_NUMBERS = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBERS = re.compile(r"\d+")
MAX_WIDTH = 10_000


def _refuse_width(width: int) -> None:
    if width > MAX_WIDTH:
        raise BudgetExceeded(f"mã lệnh bị dừng: độ rộng định dạng {width:,} quá lớn (tối đa {MAX_WIDTH:,})")


def guarded_mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        for width, precision in _PRINTF_NUMBERS.findall(text):
            for n in (width, precision):
                if n == "*":
                    raise BudgetExceeded("mã lệnh bị dừng: không dùng độ rộng '*' trong định dạng %")
                if n:
                    _refuse_width(int(n))
    return a % b


_CONVERSIONS: dict[int, Callable[[Any], str]] = {115: str, 114: repr, 97: ascii}


def guarded_format(value: Any, conversion: int, spec: str) -> str:
    """An f-string field with a format spec: `f"{x:>{n}}"` must not allocate n characters unchecked."""
    for n in _SPEC_NUMBERS.findall(spec):
        _refuse_width(int(n))
    if conversion in _CONVERSIONS:
        value = _CONVERSIONS[conversion](value)
    return format(value, spec)


def _width_guard(method: Callable[..., Any], position: int = 0) -> Callable[..., Any]:
    def call(*args: Any, **kw: Any) -> Any:
        if len(args) > position and _is_int(args[position]):
            _refuse_width_bytes(args[position])
        return method(*args, **kw)
    return call


def _refuse_width_bytes(count: int) -> None:
    if count > _limits.memory_bytes:
        raise BudgetExceeded(_memory_message(count))


def _guard_method(obj: Any, name: str, method: Any) -> Any:
    """String methods whose result can be far larger than their inputs."""
    if name in ("ljust", "rjust", "center", "zfill"):
        return _width_guard(method)
    if name == "expandtabs":
        def expandtabs(tabsize: int = 8) -> Any:
            _refuse_size(len(obj) * max(int(tabsize), 1), obj)
            return method(tabsize)
        return expandtabs
    if name == "replace":
        def replace(old: Any, new: Any, count: int = -1) -> Any:
            hits = obj.count(old) if old else len(obj) + 1
            if count >= 0:
                hits = min(hits, count)
            _refuse_size(len(obj) + hits * max(len(new) - len(old), 0), obj)
            return method(old, new, count)
        return replace
    if name == "join":
        def join(parts: Any) -> Any:
            parts = list(parts)
            _refuse_size(sum(len(p) for p in parts if isinstance(p, _SEQ)) + len(obj) * len(parts), obj)
            return method(parts)
        return join
    return method


_EXPANDING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join"})


def guard_getattr(safer_getattr: Callable[..., Any]) -> Callable[..., Any]:
    def getattr_(obj: Any, name: str, *default: Any) -> Any:
        value = safer_getattr(obj, name, *default)
        if name in _EXPANDING and isinstance(obj, (str, bytes)):
            return _guard_method(obj, name, value)
        if name == "extend" and isinstance(obj, list):
            def extend(items: Any) -> None:
                items = list(items)
                _refuse_size(len(obj) + len(items), obj)
                value(items)
            return extend
        return value
    return getattr_


def guarded_sum(items: Any, start: Any = 0) -> Any:
    """sum() of lists or tuples copies the growing total at every item inside one C call (quadratic, and
    no tick can stop it): add them up in one list instead, checking the size as it grows."""
    if not isinstance(start, (list, tuple)):
        return sum(items, start)
    total = list(start)
    for item in items:
        if not isinstance(item, (list, tuple)):
            raise TypeError(f"can only concatenate list or tuple (not {type(item).__name__})")
        _refuse_size(len(total) + len(item), total)
        total.extend(item)
    return total if isinstance(start, list) else tuple(total)


GUARDS: dict[str, Any] = {"_mul_": guarded_mul, "_pow_": guarded_pow, "_lshift_": guarded_lshift,
                          "_add_": guarded_add, "_mod_": guarded_mod, "_fmt_": guarded_format}
_BINOPS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_"}


# --- compile-time transformation ---------------------------------------------------------------------


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    ast.copy_location(node, like)
    return ast.fix_missing_locations(node)


def _tick_stmt(like: ast.AST) -> ast.Expr:
    return ast.fix_missing_locations(ast.copy_location(ast.Expr(_call("_tick_", [], like)), like))


class BudgetPolicy(RestrictingNodeTransformer):
    """RestrictedPython's checks, plus the ticks and guarded operators described above. Injected names
    start with '_', which the checks refuse in diagram code, so a script cannot replace them."""

    def visit_While(self, node: ast.While) -> Any:
        node = super().visit_While(node)
        node.body.insert(0, _tick_stmt(node))
        return node

    def visit_For(self, node: ast.For) -> Any:
        node = super().visit_For(node)
        node.body.insert(0, _tick_stmt(node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_tick_", [], node.iter))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick_stmt(node.body[0]))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = super().visit_Lambda(node)
        node.body = ast.fix_missing_locations(ast.copy_location(
            ast.BoolOp(op=ast.And(), values=[_call("_tick_", [], node.body), node.body]), node.body))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = super().visit_BinOp(node)
        name = _BINOPS.get(type(node.op))
        return _call(name, [node.left, node.right], node) if name else node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = super().visit_FormattedValue(node)
        if node.format_spec is not None:
            node.value = _call("_fmt_", [node.value, ast.Constant(node.conversion), node.format_spec], node)
            node.conversion, node.format_spec = -1, None
        return node
