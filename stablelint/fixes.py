"""Building fixes: replacement text written in the file's own idiom.

Checkers and pattern rules describe a fix as "replace this node with that
text"; the text reuses the source of the operands (so comments and
formatting inside them survive), names the op with the spelling and alias
the file already uses (``F.log_softmax``, ``x.log_softmax(...)``,
``tf.nn.log_softmax``), carries the axis arguments over, and asks for an
import only when the file has none that fits.
"""

from __future__ import annotations

import ast
import keyword
from typing import Callable, Iterable

from .diagnostic import Edit, Fix, Position
from .positions import SourceText, comments
from .render import Renderer, applied
from .scopes import inside
from .values import OP, SYMBOL, Value

# Expressions that can take a method call or an operator without parentheses.
ATOMIC = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict,
          ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.JoinedStr)


def operand(render: Renderer, node: ast.AST | None) -> str:
    """The exact source of an operand, parenthesised when it is not atomic."""
    if node is None:
        return ""
    text = render.segment(node)
    return text if isinstance(node, ATOMIC) else f"({text})"


def extra_arguments(render: Renderer, call: ast.AST | None, skip: ast.AST | None) -> list[str]:
    """A call's arguments as written, without the one that is ``skip`` (``dim=-1`` stays ``dim=-1``)."""
    if not isinstance(call, ast.Call):
        return []
    texts = [render.segment(arg) for arg in call.args if arg is not skip]
    texts += [render.segment(keyword) for keyword in call.keywords]
    return texts


def spelled(render: Renderer, op: str, like: list[Value], *, scalar: bool = False
            ) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]] | None:
    """The callee for ``op`` in the file's idiom, and the import it needs (if the file has none).

    None when no framework spelling of ``op`` is known.
    """
    imported = _imported_by_name(render, op, like)
    if imported is not None:
        return imported
    name = render.suggest(op, like, scalar=scalar)
    if not has_spelling(name) and not scalar:
        name = render.suggest(op, like, scalar=True)  # no framework in sight: Python's math module
    if not has_spelling(name):
        return None
    if name.startswith("."):
        return name, ()
    top = name.split(".", 1)[0]
    if top in render.module_scope.vars:
        return name, ()
    return name, ((top, None, None),)


def _imported_by_name(render: Renderer, op: str, like: list[Value]
                      ) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]] | None:
    """``from scipy.special import softmax`` in the file: write ``log_softmax`` and import it the same way."""

    def same_module(module: str) -> list[str]:
        candidate = render.table.lookup(f"{module}.{op}")
        return [candidate.qualname] if candidate is not None and candidate.op == op and candidate.kind == "function" \
            else []

    return imported_like(render, like, same_module)


def imported_like(render: Renderer, like: list[Value], candidates: Callable[[str], Iterable[str]]
                  ) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]] | None:
    """A function to call by its bare name, because the file imports its neighbours that way.

    For each call in ``like`` written as a bare name (``expit(x)`` after ``from scipy.special
    import expit``), ``candidates(module)`` names the qualified functions of that call's module
    that would do; the first whose name the file already binds to it, or leaves free, is the
    answer, with the ``from module import name`` it needs (none when it is already imported).
    """
    for value in like:
        node = value.node
        if (value.kind != OP or value.spelling is None or value.method or not isinstance(node, ast.Call)
                or not isinstance(node.func, ast.Name)):
            continue
        for qualname in candidates(render.table.normalize(value.spelling.module)):
            owner, _, attr = qualname.rpartition(".")
            bound = render.module_scope.vars.get(attr)
            if bound is None:
                return attr, ((owner, attr, None),)
            if bound.kind == SYMBOL and bound.qualname and render.table.normalize(bound.qualname) == qualname:
                return attr, ()
    return None


def has_spelling(name: str) -> bool:
    return name.startswith(".") or "." in name


def replace(render: Renderer, node: ast.AST, text: str, applicability: str, description: str,
            imports: tuple[tuple[str, str | None, str | None], ...] = ()) -> Fix:
    """A fix replacing the source of ``node`` with ``text``.

    Parentheses that only grouped ``node`` go too when ``text`` is a call or a name, which needs
    none: ``700 * (np.exp(m) - 1)`` becomes ``700 * np.expm1(m)``, not ``700 * (np.expm1(m))``.
    """
    start, end = render.source.start(node), render.source.end(node)
    if _grouped(render, node) and _atomic_text(text):
        start, end = Position(start.line, start.column - 1), Position(end.line, end.column + 1)
    edit = Edit(start, end, text)
    return Fix((edit,), applicability, description, imports)  # type: ignore[arg-type]


def loses_comment(source: SourceText, fix: Fix) -> bool:
    """Whether applying ``fix`` would delete a comment the user wrote inside the text it replaces
    (``torch.log(torch.softmax(\n    logits,  # raw scores\n))``): such a fix is not offered."""
    before = sum(comment_count(source.between(edit.start, edit.end)) for edit in fix.edits)
    return before > 0 and before > sum(comment_count(edit.replacement) for edit in fix.edits)


def comment_count(text: str) -> int:
    """How many comments ``text`` (an expression or statements, possibly over several lines) contains."""
    found = comments(text)
    return text.count("#") if found is None else len(found)  # untokenizable: assume the worst


def _atomic_text(text: str) -> bool:
    if "\n" in text:
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return isinstance(tree.body, (ast.Call, ast.Name, ast.Attribute, ast.Subscript))


def _grouped(render: Renderer, node: ast.AST) -> bool:
    """``node`` sits alone in parentheses of its own (directly around it, not a call's or a tuple's)."""
    if getattr(node, "lineno", None) is None or not isinstance(node, ast.expr):
        return False
    start, end = render.source.start(node), render.source.end(node)
    lines = render.source.lines
    before, after = lines[start.line - 1][:start.column - 1], lines[end.line - 1][end.column - 1:]
    if not (before.endswith("(") and after.startswith(")")):
        return False
    head = before[:-1].rstrip()
    if not head:
        return True  # the expression starts its line inside the parentheses
    if head == before[:-1] and (head[-1].isalnum() or head[-1] == "_"):
        return False  # return(x - 1): without the parentheses the keyword would run into the call
    if head[-1] in ")]}\"'" or (head[-1].isalnum() or head[-1] == "_") and not _ends_with_keyword(head):
        return False  # a call's parentheses: f(x), g()(x), "s"(x) would not parse anyway
    return True


def _ends_with_keyword(text: str) -> bool:
    word = ""
    for char in reversed(text):
        if not (char.isalnum() or char == "_"):
            break
        word = char + word
    return keyword.iskeyword(word) and word not in ("None", "True", "False")


def within(outer: ast.AST, values: list[Value]) -> bool:
    """Whether every op value in ``values`` was computed inside ``outer``'s source (one expression)."""
    if getattr(outer, "lineno", None) is None or getattr(outer, "end_lineno", None) is None:
        return False
    return all(contains(outer, value.node) for value in values if value.kind == OP and value.node is not None)


def epsilon(flags: set[str], *, small: str = "1e-8") -> str:
    """An epsilon literal the file's precision can represent: ``small`` in float32 code, 1e-6 in float16."""
    return "1e-6" if "float16" in flags else small


def plus_epsilon(render: Renderer, node: ast.AST | None, eps: str, description: str,
                 host: ast.AST | None = None) -> Fix | None:
    """``node`` -> ``node + eps``: a guard added where the value is used, so it is always local.

    Parenthesised unless ``node`` is a whole argument of the call ``host`` (``torch.sqrt(d2 + 1e-12)``).
    """
    if node is None or getattr(node, "lineno", None) is None:
        return None
    if isinstance(node, ast.Starred):
        return None
    text = f"{render.segment(node) if _additive(node) else operand(render, node)} + {eps}"
    if not (is_argument(node, host) or render.source.enclosed(node)):
        text = f"({text})"
    return replace(render, node, text, "unsafe", description)


def _additive(node: ast.AST) -> bool:
    """``node + eps`` adds to all of ``node``: it binds at least as tightly as ``+``."""
    if isinstance(node, ast.BinOp):
        return not isinstance(node.op, (ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor))
    if isinstance(node, ast.UnaryOp):
        return not isinstance(node.op, ast.Not)
    return isinstance(node, ATOMIC + (ast.Await,))


def is_argument(node: ast.AST, host: ast.AST | None) -> bool:
    """``node`` is a whole argument of the call ``host`` (not its receiver), or what ``host`` assigns."""
    if isinstance(host, (ast.AugAssign, ast.Assign, ast.Return)):
        return host.value is node
    if not isinstance(host, ast.Call):
        return False
    return any(arg is node for arg in host.args) or any(k.value is node for k in host.keywords)


def contains(outer: ast.AST | None, node: ast.AST | None) -> bool:
    """Whether ``node``'s source lies inside ``outer``'s (a literal written in the call, not a constant
    defined elsewhere and reached through a variable)."""
    return inside(node, outer)


def pure(node: ast.AST | None) -> bool:
    """An expression that can be written twice without changing what the code does: names, attributes,
    constants, subscripts, operators and comparisons of those (no calls, no walrus, no lambdas)."""
    if node is None:
        return False
    allowed = (ast.Name, ast.Attribute, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.BinOp, ast.UnaryOp,
               ast.BoolOp, ast.Compare, ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context)
    return all(isinstance(child, allowed) for child in ast.walk(node))


def clamp_into(render: Renderer, node: ast.AST, held: ast.AST, like: list[Value], low: str, high: str,
               description: str) -> Fix | None:
    """``node`` -> ``held`` clamped into [low, high] (``held`` is ``node`` or what ``node`` clamped loosely)."""
    found = spelled(render, "clamp", like)
    if found is None:
        return None
    callee, imports = found
    subject = operand(render, held) if callee.startswith(".") else render.segment(held)
    return replace(render, node, applied(callee, subject, f"{low}, {high}"), "unsafe", description, imports)
