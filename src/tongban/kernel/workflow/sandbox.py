"""The sandbox every process expression and script runs in.

SpiffWorkflow evaluates gateway conditions, script tasks and DMN entries as
Python. Here they are parsed, checked against a whitelist and rewritten before
they are compiled (ADR 0017):

- **No way out.** Only a small set of syntax is accepted (no ``import``,
  ``def``, ``lambda``, ``class``, ``try``, ``with``, ``global``, starred
  arguments); no name or attribute may start with an underscore; attributes are
  a short whitelist of data methods (``get``, ``items``, ``startswith``,
  ``year`` …) and are read only from plain data (strings, lists, dicts, sets,
  dates), never from functions or types; the builtins are a small whitelist
  (:data:`BUILTIN_NAMES`). ``open``, ``eval``, ``exec``, ``compile``,
  ``getattr``, ``globals`` … are refused when the code is checked, and
  ``type``, ``object``, ``format``, ``repr`` … raise :class:`SandboxError`
  when called.
- **Bounded time and size.** Every loop iteration (``for``, ``while``,
  comprehensions) and every call counts one step against
  :attr:`Limits.max_steps` and the clock against :attr:`Limits.max_seconds`;
  ``range`` is bounded; ``*``, ``**``, ``<<``, ``+``, ``str.join``,
  ``str.replace`` and ``list.extend`` check the size of their result before
  computing it; every new string or container counts against
  :attr:`Limits.max_allocated`; only scalars are turned into text (``str``,
  f-strings), so a structure cannot be printed into a huge string.

Code is checked when a process is loaded (:func:`check`) and compiled once per
source text (a pure cache). :func:`evaluate` returns an expression's value,
:func:`execute` runs a script over a data dict and leaves only JSON values in
it. Ordinary errors of the code (``NameError``, ``ZeroDivisionError`` …) pass
through unchanged; whatever the sandbox refuses raises :class:`SandboxError`.
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import math
import operator
import re
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

Mode = Literal["eval", "exec"]


class SandboxError(Exception):
    """Process code tried something the sandbox does not allow, or ran out of budget."""


@dataclass(frozen=True)
class Limits:
    """The budget of one evaluation or script run."""

    #: Loop iterations and calls.
    max_steps: int = 100_000
    #: Wall-clock time, checked every few steps.
    max_seconds: float = 0.5
    #: Length of any one string or container the code makes.
    max_size: int = 1_000_000
    #: Total length of all strings and containers the code makes.
    max_allocated: int = 5_000_000
    #: Size of an integer the code makes (``10**3000`` fits, ``10**10**10`` does not).
    max_int_bits: int = 10_000
    #: Length of the source text.
    max_source: int = 20_000


DEFAULT_LIMITS = Limits()

#: Names the code may not even mention: they would open the way out of the sandbox.
FORBIDDEN_NAMES = frozenset(
    {
        "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr",
        "globals", "locals", "vars", "dir", "breakpoint", "input", "help", "exit",
        "quit", "memoryview", "bytearray", "classmethod", "staticmethod", "property",
    }
)  # fmt: skip

#: Builtins that exist in Python but not here; calling one raises SandboxError.
#: (They stay usable as data names: a task may well hold a field called ``type``.)
UNAVAILABLE_BUILTINS = ("type", "object", "super", "id", "hash", "iter", "next", "format",
                        "repr", "ascii", "print", "isinstance", "issubclass", "callable",
                        "pow", "divmod", "chr", "ord", "bytes", "slice", "frozenset",
                        "reversed", "map", "filter")  # fmt: skip

#: Attributes the code may read, and only on plain data (see _RECEIVER_TYPES).
ALLOWED_ATTRIBUTES = frozenset(
    {
        # dict
        "get", "keys", "values", "items", "copy", "update", "setdefault", "pop", "clear",
        # list
        "append", "extend", "insert", "remove", "index", "count", "sort", "reverse",
        # set
        "add", "discard", "union", "intersection", "difference", "symmetric_difference",
        "issubset", "issuperset", "isdisjoint",
        # str
        "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split",
        "rsplit", "splitlines", "replace", "join", "find", "rfind", "isdigit", "isalpha",
        "isalnum", "isspace", "isupper", "islower", "title", "capitalize", "casefold",
        "partition", "rpartition", "removeprefix", "removesuffix",
        # date, datetime, timedelta
        "year", "month", "day", "hour", "minute", "second", "isoformat", "weekday",
        "isoweekday", "days", "date",
    }
)  # fmt: skip

_RECEIVER_TYPES = frozenset(
    {str, list, tuple, dict, set, frozenset, dt.date, dt.datetime, dt.timedelta}
)
_SIZED_TYPES = (str, bytes, list, tuple, dict, set, frozenset)
_SCALAR_TYPES = (str, int, float, bool, type(None), dt.date, dt.datetime, dt.timedelta)

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.While, ast.Break, ast.Continue, ast.Pass, ast.Delete, ast.BoolOp, ast.BinOp,
    ast.UnaryOp, ast.Compare, ast.IfExp, ast.NamedExpr, ast.Dict, ast.Set, ast.List,
    ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.Call, ast.keyword, ast.Constant, ast.Name, ast.Load,
    ast.Store, ast.Del, ast.Subscript, ast.Slice, ast.Attribute, ast.JoinedStr,
    ast.FormattedValue, ast.boolop, ast.unaryop, ast.cmpop,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
    ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
)  # fmt: skip

_DESCRIBED_NODES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.Lambda: "lambda",
    ast.FunctionDef: "def", ast.AsyncFunctionDef: "def", ast.ClassDef: "class",
    ast.Try: "try", ast.Raise: "raise", ast.Assert: "assert", ast.With: "with",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Starred: "starred (*) unpacking",
    ast.Return: "return", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await",
    ast.Match: "match", ast.MatMult: "the @ operator",
}  # fmt: skip

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
}  # fmt: skip
_BINOP_CODES = {op: index for index, op in enumerate(_BINOPS)}
_BINOP_FUNCTIONS = tuple(_BINOPS.values())
_ADD, _MULT, _MOD, _POW, _LSHIFT = (
    _BINOP_CODES[op] for op in (ast.Add, ast.Mult, ast.Mod, ast.Pow, ast.LShift)
)

# A format spec may pad to at most 999 characters: "{x:>8}" yes, "{x:>99999999}" no.
_LONG_NUMBER = re.compile(r"\d{4,}")

# The rewritten code calls these; user code cannot name them (no leading underscore).
_GUARDS = ("_t_call", "_t_attr", "_t_binop", "_t_iter", "_t_tick", "_t_sized", "_t_scalar")


# --- checking ---------------------------------------------------------------------------


def _refuse(node: ast.AST, reason: str) -> SandboxError:
    line = getattr(node, "lineno", None)
    return SandboxError(f"{reason} (line {line})" if line else reason)


def _parse(source: str, mode: Mode, limits: Limits) -> ast.AST:
    if not isinstance(source, str):
        raise SandboxError("process code must be text")
    if len(source) > limits.max_source:
        raise SandboxError(f"process code is longer than {limits.max_source} characters")
    try:
        return ast.parse(source.strip() if mode == "eval" else textwrap.dedent(source), mode=mode)
    except (RecursionError, MemoryError) as error:
        raise SandboxError("process code is nested too deeply") from error


def _validate(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        described = _DESCRIBED_NODES.get(type(node))
        if described is not None:
            raise _refuse(node, f"{described} is not allowed in process code")
        if not isinstance(node, _ALLOWED_NODES):
            raise _refuse(node, f"{type(node).__name__} is not allowed in process code")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise _refuse(node, f"names starting with '_' are not allowed: {node.id!r}")
            if node.id in FORBIDDEN_NAMES:
                raise _refuse(node, f"{node.id!r} is not available in process code")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                raise _refuse(node, f"attributes starting with '_' are not allowed: {node.attr!r}")
            if node.attr not in ALLOWED_ATTRIBUTES:
                raise _refuse(node, f"the attribute {node.attr!r} is not available in process code")
            if not isinstance(node.ctx, ast.Load):
                raise _refuse(node, "attributes cannot be assigned in process code")
        elif isinstance(node, ast.Call):
            if any(keyword.arg is None for keyword in node.keywords):
                raise _refuse(node, "** arguments are not allowed in process code")
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice) and not isinstance(node.ctx, ast.Load):
                raise _refuse(node, "slices cannot be assigned in process code")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = node.format_spec
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
                raise _refuse(node, "a format spec must be written out in process code")
            text = "".join(str(p.value) for p in parts if isinstance(p, ast.Constant))
            if _LONG_NUMBER.search(text):
                raise _refuse(node, f"the format spec {text!r} is too wide")


# --- rewriting ---------------------------------------------------------------------------


def _guard(name: str, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=keywords or [])


def _as_load(target: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(target), mode="eval").body
    return copy


class _Rewriter(ast.NodeTransformer):
    """Route calls, attributes, operators and iteration through the budget's guards."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        return _guard("_t_call", node.func, *node.args, keywords=node.keywords)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return _guard("_t_attr", node.value, ast.Constant(node.attr))

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        return _guard("_t_binop", ast.Constant(_BINOP_CODES[type(node.op)]), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        value = self.visit(node.value)
        current = self.visit(_as_load(node.target))
        target = self.visit(node.target)
        code = ast.Constant(_BINOP_CODES[type(node.op)])
        return ast.Assign(targets=[target], value=_guard("_t_binop", code, current, value))

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.iter = _guard("_t_iter", node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.iter = _guard("_t_iter", node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(_guard("_t_tick")))
        return node

    def _sized(self, node: ast.expr) -> ast.AST:
        self.generic_visit(node)
        return _guard("_t_sized", node)

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        return self._sized(node)

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        return self._sized(node)

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        return self._sized(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return self._sized(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node.value = _guard("_t_scalar", self.visit(node.value))
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        if any(key is None for key in node.keys):  # {**a, **b} copies
            return self._sized(node)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load):
            return self._sized(node)
        self.generic_visit(node)
        return node


@lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode, limits: Limits) -> CodeType:
    tree = _parse(source, mode, limits)
    _validate(tree)
    tree = ast.fix_missing_locations(_Rewriter().visit(tree))
    return compile(tree, "<process code>", mode)


def check(source: str, mode: Mode = "eval", *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Check that ``source`` is an expression (``"eval"``) or a script (``"exec"``) the sandbox runs.

    Raise SandboxError naming what is refused (a syntax error included).
    """
    try:
        _compile(source, mode, limits)
    except SyntaxError as error:
        raise SandboxError(f"not valid Python: {error.msg} (line {error.lineno})") from None


def is_valid_syntax(source: str, mode: Mode = "eval") -> bool:
    """Return whether ``source`` parses, without checking what it does."""
    try:
        ast.parse(source, mode=mode)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    return True


# --- running ------------------------------------------------------------------------------


class _Budget:
    """What one evaluation may still spend; its bound methods are the guards."""

    __slots__ = ("allocated", "deadline", "limits", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.allocated = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise SandboxError(f"process code ran more than {self.limits.max_steps} steps")
        if not self.steps & 15 and time.monotonic() > self.deadline:
            raise SandboxError(f"process code ran longer than {self.limits.max_seconds} s")

    def charge(self, size: int) -> None:
        if size > self.limits.max_size:
            raise SandboxError(f"process code made a value of size {size} (at most {self.limits.max_size})")
        self.allocated += size
        if self.allocated > self.limits.max_allocated:
            raise SandboxError(f"process code made more than {self.limits.max_allocated} items in all")

    def sized(self, value: Any) -> Any:
        if isinstance(value, _SIZED_TYPES):
            self.charge(len(value))
        return value

    def call(self, function: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return self.sized(function(*args, **kwargs))

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item

    def scalar(self, value: Any) -> Any:
        if not isinstance(value, _SCALAR_TYPES):
            raise SandboxError(f"only plain values can be turned into text, not {type(value).__name__}")
        return value

    def attribute(self, value: Any, name: str) -> Any:
        if type(value) not in _RECEIVER_TYPES or name not in ALLOWED_ATTRIBUTES:
            raise SandboxError(f"the attribute {name!r} of {type(value).__name__} is not available")
        attribute = getattr(value, name)
        if name == "join" and isinstance(value, str):
            return self._join(value)
        if name == "replace" and isinstance(value, str):
            return self._replace(value)
        if name == "extend" and isinstance(value, list):
            return self._extend(value)
        return attribute

    def _join(self, separator: str) -> Callable[[Iterable[Any]], str]:
        def join(items: Iterable[Any]) -> str:
            parts = list(items)
            self.charge(len(parts))
            lengths = sum(len(part) if isinstance(part, str) else 0 for part in parts)
            self.charge(lengths + len(separator) * max(len(parts) - 1, 0))
            return separator.join(parts)

        return join

    def _replace(self, text: str) -> Callable[..., str]:
        def replace(old: str, new: str, count: int = -1) -> str:
            if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
                hits = text.count(old) if count < 0 else min(count, text.count(old))
                self.charge(len(text) + hits * (len(new) - len(old)))
            return text.replace(old, new, count)

        return replace

    def _extend(self, items: list[Any]) -> Callable[[Iterable[Any]], None]:
        def extend(more: Iterable[Any]) -> None:
            more = list(more)
            self.charge(len(items) + len(more))
            items.extend(more)

        return extend

    def binop(self, code: int, left: Any, right: Any) -> Any:
        limits = self.limits
        if code == _MULT:
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, _SIZED_TYPES) and isinstance(times, int):
                    self.charge(len(sequence) * max(times, 0))
            if _both_ints(left, right) and left and right:
                self._int_bits(abs(left).bit_length() + abs(right).bit_length())
        elif code == _POW:
            if _both_ints(left, right) and right > 0 and abs(left) > 1:
                self._int_bits(math.ceil(math.log2(abs(left)) * right))
        elif code == _LSHIFT:
            if _both_ints(left, right) and left and right > 0:
                self._int_bits(abs(left).bit_length() + right)
        elif code == _ADD:
            if isinstance(left, _SIZED_TYPES) and isinstance(right, _SIZED_TYPES):
                self.charge(len(left) + len(right))
        elif code == _MOD and isinstance(left, str | bytes):
            raise SandboxError("%-formatting is not available in process code; use an f-string")
        result = _BINOP_FUNCTIONS[code](left, right)
        if isinstance(result, int) and result.bit_length() > limits.max_int_bits:
            self._int_bits(result.bit_length())
        return self.sized(result) if code != _MULT and code != _ADD else result

    def _int_bits(self, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise SandboxError(f"process code made a number of about {bits} bits (at most {self.limits.max_int_bits})")

    def namespace(self) -> dict[str, Any]:
        return {
            "_t_call": self.call,
            "_t_attr": self.attribute,
            "_t_binop": self.binop,
            "_t_iter": self.iterate,
            "_t_tick": self.tick,
            "_t_sized": self.sized,
            "_t_scalar": self.scalar,
        }


def _both_ints(left: Any, right: Any) -> bool:
    return isinstance(left, int) and isinstance(right, int)


# --- builtins ------------------------------------------------------------------------------


def _unavailable(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SandboxError(f"{name!r} is not available in process code")

    refuse.__name__ = name
    return refuse


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (write dates as YYYY-MM-DD)")


def make_date(value: Any, month: int | None = None, day: int | None = None) -> dt.date:
    """``date("2001-02-03")`` or ``date(2001, 2, 3)``: a date from an ISO text or numbers."""
    if month is not None and day is not None:
        return dt.date(int(value), int(month), int(day))
    return _as_date(value)


def today() -> dt.date:
    """``today()``: the date today in the platform's time zone."""
    from django.utils import timezone

    return timezone.localdate()


def age(birth_date: Any, on: Any = None) -> int:
    """``age(birth_date)``: full years from a birth date to today (or to the date ``on``)."""
    born = _as_date(birth_date)
    when = _as_date(on) if on is not None else today()
    return when.year - born.year - ((when.month, when.day) < (born.month, born.day))


def days_between(start: Any, end: Any) -> int:
    """``days_between(a, b)``: calendar days from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (_as_date(end) - _as_date(start)).days


def add_days(start: Any, days: int) -> dt.date:
    """``add_days(d, n)``: the date ``n`` calendar days after ``d``."""
    return _as_date(start) + dt.timedelta(days=int(days))


def _text(value: Any = "") -> str:
    if not isinstance(value, _SCALAR_TYPES):
        raise SandboxError(f"only plain values can be turned into text, not {type(value).__name__}")
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def _sum(values: Iterable[Any], /, start: int | float = 0) -> Any:
    if not isinstance(start, int | float):
        raise SandboxError("sum() adds numbers only in process code")
    return builtins.sum(values, start)


@lru_cache(maxsize=16)
def _builtins(limits: Limits) -> Mapping[str, Any]:
    def bounded_range(*args: int) -> range:
        try:
            numbers = range(*args)
            size = len(numbers)
        except OverflowError:
            size = limits.max_steps + 1
        if size > limits.max_steps:
            raise SandboxError(f"range() of more than {limits.max_steps} numbers")
        return numbers

    available: dict[str, Any] = {
        "len": len, "min": min, "max": max, "sum": _sum, "abs": abs, "round": round,
        "sorted": sorted, "any": any, "all": all, "int": int, "float": float, "str": _text,
        "bool": bool, "list": list, "dict": dict, "set": set, "tuple": tuple,
        "range": bounded_range, "enumerate": enumerate, "zip": zip,
        "date": make_date, "today": today, "age": age, "days_between": days_between,
        "add_days": add_days,
        "True": True, "False": False, "None": None,
    }  # fmt: skip
    for name in UNAVAILABLE_BUILTINS:
        available[name] = _unavailable(name)
    return available


#: What process code can call besides its data.
BUILTIN_NAMES = frozenset(
    name for name in _builtins(DEFAULT_LIMITS) if name not in UNAVAILABLE_BUILTINS
)


def _namespace(data: Mapping[str, Any], budget: _Budget) -> dict[str, Any]:
    namespace = dict(data)
    namespace.update(budget.namespace())
    namespace["__builtins__"] = _builtins(budget.limits)
    return namespace


def _run(code: CodeType, namespace: dict[str, Any]) -> Any:
    try:
        return eval(code, namespace)  # noqa: S307 - checked and rewritten code, see above
    except RecursionError as error:
        raise SandboxError("process code nested too deeply") from error
    except MemoryError as error:
        raise SandboxError("process code ran out of memory") from error


def _compiled(source: str, mode: Mode, limits: Limits) -> CodeType:
    try:
        return _compile(source, mode, limits)
    except SyntaxError as error:
        raise SandboxError(f"not valid Python: {error.msg} (line {error.lineno})") from None


def evaluate(source: str, data: Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Return the value of the expression ``source`` over ``data`` (names are its keys).

    Raise SandboxError if the expression is refused or exceeds ``limits``; other
    errors of the expression itself (NameError, TypeError …) pass through.
    """
    code = _compiled(source, "eval", limits)
    return _run(code, _namespace(data, _Budget(limits)))


def execute(source: str, data: MutableMapping[str, Any], *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Run the script ``source`` over ``data``, in place: assigned names become keys.

    Names the script deletes are removed. Afterwards ``data`` holds JSON values
    only (dates become ISO text, tuples lists; see :func:`json_safe`).
    Raise SandboxError if the script is refused, exceeds ``limits`` or leaves a
    value that is not plain data; ``data`` is then unchanged.
    """
    code = _compiled(source, "exec", limits)
    namespace = _namespace(data, _Budget(limits))
    _run(code, namespace)
    result = {key: value for key, value in namespace.items() if not key.startswith("_")}
    result = json_safe(result)
    for key in [key for key in data if not key.startswith("_") and key not in result]:
        del data[key]
    data.update(result)


# --- data ---------------------------------------------------------------------------------

MAX_DEPTH = 32


def json_safe(value: Any, *, max_depth: int = MAX_DEPTH) -> Any:
    """Return ``value`` as JSON data: dates and datetimes as ISO text, tuples as lists.

    Raise SandboxError for anything else (sets, functions, non-string keys,
    NaN or infinite numbers, nesting deeper than ``max_depth``).
    """
    return _json_safe(value, max_depth)


def _json_safe(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SandboxError("process data cannot hold NaN or infinite numbers")
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if depth <= 0:
        raise SandboxError("process data is nested too deeply")
    if isinstance(value, list | tuple):
        return [_json_safe(item, depth - 1) for item in value]
    if isinstance(value, dict):
        safe: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SandboxError(f"process data keys must be text, not {type(key).__name__}")
            safe[key] = _json_safe(item, depth - 1)
        return safe
    raise SandboxError(f"process data cannot hold a {type(value).__name__}; use text, numbers, lists or dicts")
