"""Rendering for messages and fixes: spellings as the file writes them.

Messages name the spelling found (``F.softmax``, ``.log()``) and the one to
use, written with the framework and alias the file already imports
(``F.log_softmax``, ``tf.nn.log_softmax``, ``x.log_softmax(...)``).
"""

from __future__ import annotations

import ast
import re

from .ops import OpTable, Spelling
from .positions import SourceText, comments
from .values import MODULE, OP, RESULT, Value


class Renderer:
    def __init__(self, source: SourceText, table: OpTable, module_scope, frameworks: set[str]):
        self.source = source
        self.table = table
        self.module_scope = module_scope  # the dataflow's module Scope: imports and globals
        self.frameworks = frameworks  # frameworks the file imports

    # -- text -------------------------------------------------------------------

    def segment(self, node: ast.AST | None) -> str:
        """The exact source text of ``node``."""
        return self.source.segment(node) if node is not None else ""

    def text(self, node: ast.AST | None, limit: int = 60) -> str:
        """The source text of ``node`` on one line, shortened to ``limit`` characters."""
        if node is None:
            return "..."
        segment = self.source.segment(node)
        code = " ".join(_without_comments(segment).split())
        if "#" in segment:  # where a comment stood before a closing bracket: "f(x )" -> "f(x)"
            code = re.sub(r"\s+([)\]}])", r"\1", re.sub(r"([(\[{])\s+", r"\1", code))
        if not code:
            return "..."
        if len(code) > limit:
            code = code[: limit - 3].rstrip() + "..."
        return code

    def short(self, node: ast.AST | None, value: Value | None = None, limit: int = 32) -> str:
        """Source text of an operand, or ``f(...)`` when it is a long call."""
        text = self.text(node, 1000)
        if len(text) <= limit:
            return text
        if value is not None and value.kind == OP and value.node is node and isinstance(node, ast.Call):
            return self.call(value)
        return self.text(node, limit)

    def receiver(self, attribute: ast.Attribute, limit: int = 30) -> str:
        """The receiver of ``x.method`` as written, with its parentheses: ``(a / t)`` in ``(a / t).softmax``.

        ast positions leave parentheses out; when the attribute starts before its receiver,
        the source put the receiver in parentheses.
        """
        value = attribute.value
        text = self.text(value, limit - 2)
        if self.source.start(attribute) != self.source.start(value):
            return f"({text})"
        return text

    @staticmethod
    def is_python_scalar(value: Value | None) -> bool:
        """A Python number rather than a tensor: ``t.item()``, ``float(x)``, ``len(x)``, a literal."""
        if value is None:
            return False
        if value.kind == "const":
            return True
        spelling = value.spelling
        return value.kind == OP and (value.op in ("item", "len") or (spelling is not None
                                                                      and spelling.qualname == "builtins.float"))

    @staticmethod
    def line(node: ast.AST) -> str:
        """The line ``node`` starts on, for messages."""
        return str(getattr(node, "lineno", "?"))

    # -- spellings ----------------------------------------------------------------

    def callee(self, value: Value) -> str:
        """How the op producing ``value`` is written: ``torch.log``, ``.log``, ``nn.BCELoss``."""
        node = value.node
        if value.method and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return "." + node.func.attr
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Call):  # a layer built and applied at once: Dense(1)(x)
                return self.text(node.func.func, 40) + "(...)"
            return self.text(node.func, 40)
        return value.op or "?"

    def call(self, value: Value, inner: str = "...") -> str:
        """``torch.log(...)``, ``x.log()``-style rendering of a call value."""
        node = value.node
        if value.method and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if inner == "...":
                receiver = self.receiver(node.func, 30)
            elif self.source.start(node.func) != self.source.start(node.func.value) and not inner.startswith("("):
                receiver = f"({inner})"  # the source has the receiver in parentheses: (a * 2).sqrt()
            else:
                receiver = inner
            more = "..." if node.args or node.keywords else ""
            return f"{receiver}.{node.func.attr}({more})"
        if isinstance(node, ast.Call):
            return f"{self.callee(value)}({inner})"
        return self.text(node, 40)

    def framework(self, like: list[Value]) -> str:
        for value in like:
            if value.kind == OP and value.spelling is not None and value.spelling.framework:
                return value.spelling.framework
        for framework in ("torch", "tensorflow", "jax", "numpy"):
            if framework in self.frameworks:
                return framework
        return ""

    def floor(self, subject: str, like: list[Value], bound: str = "eps") -> str:
        """``subject`` clamped from below, in the file's idiom."""
        if self.framework(like) == "torch":
            return applied(self.suggest("clamp", like), subject, f"min={bound}")
        return applied(self.suggest("maximum", like), subject, bound)

    def ceiling(self, subject: str, like: list[Value], bound: str = "limit") -> str:
        """``subject`` clamped from above, in the file's idiom."""
        if self.framework(like) == "torch":
            return applied(self.suggest("clamp", like), subject, f"max={bound}")
        return applied(self.suggest("minimum", like), subject, bound)

    def clamp_between(self, subject: str, like: list[Value], low: str, high: str) -> str:
        """``subject`` clamped into [low, high], in the file's idiom (positional bounds work everywhere)."""
        return applied(self.suggest("clamp", like), subject, f"{low}, {high}")

    def suggest(self, op: str, like: list[Value], *, scalar: bool = False) -> str:
        """The op written in the idiom of ``like`` (values the finding is about).

        ``scalar``: the operand is a Python number, so prefer the ``math`` module.
        """
        if scalar:
            candidate = self.table.lookup(f"math.{op}")
            if candidate is not None and candidate.op == op:
                alias = self._alias_for("math")
                return f"{alias or 'math'}.{candidate.attr}"
        spellings = [v for v in like if v.kind == OP and v.spelling is not None]
        frameworks = [v.spelling.framework for v in spellings if v.spelling.framework not in ("", "python")]
        framework = frameworks[0] if frameworks else ""
        if any(v.method for v in spellings):
            method = self.table.methods.get(op, {}).get(framework)
            if method is not None:
                return f".{method.attr}"
        # the same module alias as a spelling the finding already uses
        for value in spellings:
            node = value.node
            spelling: Spelling = value.spelling
            if value.method or spelling.kind not in ("function", "constant"):
                continue
            func = node.func if isinstance(node, ast.Call) else node  # np.nan is a constant: its own node
            if isinstance(func, ast.Attribute):
                alias = self.text(func.value, 80)
                candidate = self.table.lookup(f"{spelling.module}.{op}")
                if candidate is not None and candidate.op == op:
                    return f"{alias}.{candidate.attr}"
        # the finding's own framework first (imported if need be), the file's other frameworks after it
        known = [f for f in ("torch", "tensorflow", "jax", "numpy") if f in self.frameworks and f != framework]
        for order in ([framework], known) if framework else (known,):
            for fw in order:
                for candidate in self.table.spellings_for(op, fw):
                    if candidate.kind != "function":
                        continue
                    alias = self._alias_for(candidate.module)
                    if alias is not None:
                        return f"{alias}.{candidate.attr}" if alias else candidate.attr
            for fw in order:
                for candidate in self.table.spellings_for(op, fw):
                    if candidate.kind == "function":
                        return candidate.qualname
        return op

    def _alias_for(self, module: str) -> str | None:
        """The name this file binds ``module`` to, if it imports it."""
        best: str | None = None
        for name, value in self.module_scope.vars.items():
            if value.kind == MODULE and value.qualname and self.table.normalize(value.qualname) == module:
                return name
            normalized = self.table.normalize(value.qualname) if value.kind == MODULE and value.qualname else None
            if normalized and module.startswith(normalized + "."):
                rest = module[len(normalized) + 1:]
                best = best or f"{name}.{rest}"
        return best

    # -- dataflow notes -------------------------------------------------------------

    @staticmethod
    def source_of(value: Value) -> Value:
        """The op value behind a call of one of the file's functions."""
        while value.kind == RESULT and value.via is not None:
            value = value.via
        return value

    def origin(self, arg_node: ast.AST | None, arg_value: Value, matched: Value) -> str:
        """Where a value reached through a variable or a call came from, or ''."""
        if arg_node is None or matched.node is None or matched.kind != OP or _contains(arg_node, matched.node):
            return ""
        where = self.line(matched.node)
        produced = f"the output of {self.call(matched)} on line {where}"
        if arg_value.kind == RESULT and arg_value.ref is not None:
            function = f"{arg_value.ref.qualname}()"
            if isinstance(arg_node, ast.Call):
                return f"{function} returns {produced}"
            return f"'{self.text(arg_node, 30)}' comes from {function}, which returns {produced}"
        if isinstance(arg_node, (ast.Name, ast.Attribute)):
            return f"'{self.text(arg_node, 30)}' is {produced}"
        return f"{self.text(arg_node, 30)} is {produced}"

def applied(callee: str, subject: str, arguments: str) -> str:
    """``callee(subject, arguments)``, or ``subject.method(arguments)`` for a method spelling ``.method``."""
    if not callee.startswith("."):
        return f"{callee}({subject}, {arguments})"
    if not _SIMPLE.fullmatch(subject):
        subject = f"({subject})"
    return f"{subject}{callee}({arguments})"


_SIMPLE = re.compile(r"[\w.]+(\([^()]*\)|\[[^\[\]]*\])*")


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    """Whether ``inner`` is ``outer`` or directly reached through call/attribute structure."""
    stack = [outer]
    while stack:
        node = stack.pop()
        if node is inner:
            return True
        if isinstance(node, ast.Call):
            stack.append(node.func)
            stack.extend(node.args)
            stack.extend(k.value for k in node.keywords)
        elif isinstance(node, ast.Attribute):
            stack.append(node.value)
        elif isinstance(node, ast.BinOp):
            stack.extend((node.left, node.right))
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)
        elif isinstance(node, ast.Subscript):
            stack.append(node.value)
    return False


def _without_comments(text: str) -> str:
    """``text`` (an expression, possibly over lines) without its comments, for one-line quotes in messages."""
    found = comments(text)
    if not found:
        return text
    lines = text.split("\n")
    for row, column, comment in reversed(found):
        if 0 <= row < len(lines):
            lines[row] = lines[row][:column] + lines[row][column + len(comment):]
    return "\n".join(lines)
